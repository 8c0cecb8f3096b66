"""staff operations: booking source, phone, note and attendance; slot blocks; the
customer cancellation cut-off; staff roles; the audit log.

Revision ID: 0003_staff_operations
Revises: 0002_token_lifecycle
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_staff_operations'
down_revision = '0002_token_lifecycle'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('source', _enum('booking_source', 'online', 'staff'),
                                      nullable=False, server_default='online'))
        batch_op.add_column(sa.Column('attendance', _enum('attendance', 'expected', 'arrived', 'no_show'),
                                      nullable=False, server_default='expected'))
        batch_op.create_index('ix_bookings_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('block_reason', sa.String(length=200), nullable=False, server_default=''))
    with op.batch_alter_table('games', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_cutoff_minutes', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint(op.f('ck_games_cancel_cutoff_positive'), 'cancel_cutoff_minutes >= 0')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        # Every login made before roles existed could do everything: it stays an admin.
        batch_op.add_column(sa.Column('role', _enum('staff_role', 'admin', 'desk'),
                                      nullable=False, server_default='admin'))
    op.create_table('audit_events',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_target', ['target_type', 'target_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_actor', ['actor', 'id'], unique=False)
    # The look-up's trigram indexes are 0009_lookup_index's: that one also migrates a database
    # that may not create the pg_trgm extension. (Databases migrated before have them from here.)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':  # a database migrated before 0009 existed had them from here
        for column in ('email', 'customer_name', 'phone'):
            op.execute(f'DROP INDEX IF EXISTS ix_bookings_{column}_trgm')
    op.drop_table('audit_events')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('role')
    with op.batch_alter_table('games', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_games_cancel_cutoff_positive'), type_='check')
        batch_op.drop_column('cancel_cutoff_minutes')
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_column('block_reason')
        batch_op.drop_column('blocked')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_created_at')
        for column in ('attendance', 'source', 'note', 'phone'):
            batch_op.drop_column(column)
