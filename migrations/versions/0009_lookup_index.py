"""lookup index: trigram indexes for the staff look-up by part of an email, name or phone.

The look-up filters ``email ILIKE '%…%'`` (and the same on ``customer_name`` and
``phone``); a GIN index with ``gin_trgm_ops`` on each column serves those conditions,
so a look-up reads the few matching rows instead of scanning every booking. They need
the ``pg_trgm`` extension. A database where it cannot be created (a managed service
that does not grant it) still migrates: this logs that the look-up stays a scan. Once
someone allowed to has run ``CREATE EXTENSION pg_trgm``, ``flask db downgrade
0008_webhooks`` then ``flask db upgrade`` runs this again and adds the indexes (the
downgrade only drops these indexes). Nothing to do on SQLite, whose look-up is a scan of a small table.

Revision ID: 0009_lookup_index
Revises: 0008_webhooks
"""
import logging

from alembic import op
import sqlalchemy as sa


revision = '0009_lookup_index'
down_revision = '0008_webhooks'
branch_labels = None
depends_on = None

COLUMNS = ('email', 'customer_name', 'phone')
log = logging.getLogger('bookingapp.migrations')  # not under 'alembic', whose handlers env.py's fileConfig resets


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    if not _trigram_extension(bind):
        log.warning('pg_trgm is not available to this database user: the staff look-up by part of an email, '
                    'name or phone stays a scan of every booking (ask an administrator to run '
                    '"CREATE EXTENSION pg_trgm", then run "flask db downgrade 0008_webhooks" and "flask db upgrade" '
                    'to add the indexes)')
        return
    for column in COLUMNS:
        op.execute(f'CREATE INDEX IF NOT EXISTS ix_bookings_{column}_trgm ON bookings USING gin ({column} gin_trgm_ops)')


def _trigram_extension(bind) -> bool:
    """Whether pg_trgm is there, creating it if this user may (a refusal leaves the migration's transaction usable)."""
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return True
    try:
        with bind.begin_nested():
            bind.execute(sa.text('CREATE EXTENSION IF NOT EXISTS pg_trgm'))
    except sa.exc.DBAPIError as exc:
        log.warning('CREATE EXTENSION pg_trgm failed: %s', str(exc.orig).strip().splitlines()[0])
        return False
    return True


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for column in COLUMNS:
            op.execute(f'DROP INDEX IF EXISTS ix_bookings_{column}_trgm')
