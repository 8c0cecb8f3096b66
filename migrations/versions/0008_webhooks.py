"""webhooks: endpoints staff register, and outbox rows that post to them; a game's own reminder lead.

An event fans out into one outbox row per subscribed endpoint, so a webhook is
delivered, retried and logged like an email.

Revision ID: 0008_webhooks
Revises: 0007_notifications
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_webhooks'
down_revision = '0007_notifications'
branch_labels = None
depends_on = None


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', big_id, autoincrement=True, nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=128), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_webhook_endpoints'),
    )
    with op.batch_alter_table('games') as batch:
        batch.add_column(sa.Column('reminder_hours', sa.Integer(), nullable=True))
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('endpoint_id', big_id, nullable=True))
        batch.add_column(sa.Column('response_status', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_outbox_messages_endpoint_id_webhook_endpoints', 'webhook_endpoints',
                                 ['endpoint_id'], ['id'], ondelete='CASCADE')
        batch.create_index('ix_outbox_messages_endpoint_id', ['endpoint_id'])


def downgrade():
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_index('ix_outbox_messages_endpoint_id')
        batch.drop_constraint('fk_outbox_messages_endpoint_id_webhook_endpoints', type_='foreignkey')
        batch.drop_column('response_status')
        batch.drop_column('endpoint_id')
    op.drop_table('webhook_endpoints')
    with op.batch_alter_table('games') as batch:
        batch.drop_column('reminder_hours')
