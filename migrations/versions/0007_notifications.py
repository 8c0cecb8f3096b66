"""notifications: the transactional outbox of messages about bookings.

Revision ID: 0007_notifications
Revises: 0006_games_listing_index
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_notifications'
down_revision = '0006_games_listing_index'
branch_labels = None
depends_on = None


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table(
        'outbox_messages',
        sa.Column('id', big_id, autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('booking_id', big_id, sa.ForeignKey('bookings.id', name='fk_outbox_messages_booking_id_bookings',
                                                      ondelete='CASCADE'), nullable=True),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.Enum('pending', 'sent', 'failed', 'dropped', name='outbox_status', native_enum=False,
                                    create_constraint=True, length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('message_id', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_outbox_messages'),
        sa.UniqueConstraint('message_id', name='uq_outbox_messages_message_id'),
    )
    op.create_index('ix_outbox_messages_booking_id', 'outbox_messages', ['booking_id'])
    op.create_index('ix_outbox_messages_due', 'outbox_messages', ['status', 'next_attempt_at'])


def downgrade():
    op.drop_index('ix_outbox_messages_due', table_name='outbox_messages')
    op.drop_index('ix_outbox_messages_booking_id', table_name='outbox_messages')
    op.drop_table('outbox_messages')
