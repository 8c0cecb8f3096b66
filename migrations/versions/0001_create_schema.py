"""create schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 11:12:56.556605

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('games',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('gap_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('days_ahead', sa.Integer(), nullable=True),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('booking_mode', sa.Enum('shared', 'private', name='booking_mode', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('min_party', sa.Integer(), nullable=False),
    sa.Column('weekly_hours', sa.JSON(), nullable=False),
    sa.Column('closures', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('generated_through', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_games_capacity_positive')),
    sa.CheckConstraint('days_ahead IS NULL OR days_ahead BETWEEN 1 AND 366', name=op.f('ck_games_days_ahead_range')),
    sa.CheckConstraint('gap_minutes BETWEEN 0 AND 1440', name=op.f('ck_games_gap_minutes_range')),
    sa.CheckConstraint('min_notice_minutes >= 0', name=op.f('ck_games_min_notice_positive')),
    sa.CheckConstraint('min_party >= 1 AND min_party <= capacity', name=op.f('ck_games_min_party_range')),
    sa.CheckConstraint('slot_minutes BETWEEN 1 AND 1440', name=op.f('ck_games_slot_minutes_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_games')),
    sa.UniqueConstraint('slug', name=op.f('uq_games_slug'))
    )
    op.create_table('maintenance_claims',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_maintenance_claims'))
    )
    op.create_table('maintenance_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('trigger', sa.Enum('daily', 'view', 'cli', 'admin', name='run_trigger', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('status', sa.Enum('running', 'succeeded', 'failed', name='run_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('games_checked', sa.Integer(), nullable=False),
    sa.Column('slots_created', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('day_key', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_runs'))
    )
    with op.batch_alter_table('maintenance_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_runs_started_at'), ['started_at'], unique=False)

    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_users_username'))
    )
    op.create_table('slots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('game_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name=op.f('ck_slots_booked_within_capacity')),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_slots_capacity_positive')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_slots_ends_after_start')),
    sa.ForeignKeyConstraint(['game_id'], ['games.id'], name=op.f('fk_slots_game_id_games'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slots')),
    sa.UniqueConstraint('game_id', 'starts_at', name=op.f('uq_slots_game_id_starts_at'))
    )
    op.create_table('bookings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('slot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('party_size', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('confirmed', 'cancelled', name='booking_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('cancel_token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('party_size >= 1', name=op.f('ck_bookings_party_size_positive')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_bookings_slot_id_slots'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('reference', name=op.f('uq_bookings_reference'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_slot_id'), ['slot_id'], unique=False)



def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_slot_id'))

    op.drop_table('bookings')
    op.drop_table('slots')
    op.drop_table('staff_users')
    with op.batch_alter_table('maintenance_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_runs_started_at'))

    op.drop_table('maintenance_runs')
    op.drop_table('maintenance_claims')
    op.drop_table('games')
    op.drop_table('api_tokens')
