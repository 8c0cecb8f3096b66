"""daily run units: the day's work split into key ranges of games, taken by any worker.

Revision ID: 0004_daily_units
Revises: 0003_staff_operations
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_daily_units'
down_revision = '0003_staff_operations'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('maintenance_units',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('run_id', BigId, nullable=False),
    sa.Column('day_key', sa.String(length=64), nullable=False),
    sa.Column('first_id', sa.Uuid(), nullable=True),
    sa.Column('end_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('open', 'running', 'done', 'abandoned', name='unit_status', native_enum=False,
                                create_constraint=True, length=16), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=True),
    sa.Column('holder', sa.String(length=120), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('games_checked', sa.Integer(), nullable=False),
    sa.Column('slots_created', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['maintenance_runs.id'], name=op.f('fk_maintenance_units_run_id_maintenance_runs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_units'))
    )
    with op.batch_alter_table('maintenance_units', schema=None) as batch_op:
        batch_op.create_index('ix_maintenance_units_day', ['day_key', 'status'], unique=False)
        batch_op.create_index('ix_maintenance_units_run_id', ['run_id'], unique=False)


def downgrade():
    op.drop_table('maintenance_units')
