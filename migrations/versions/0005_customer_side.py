"""customer side: a game's price (minor units, currency, per player or per session),
its location and instructions; a booking's amount and currency at booking time and
the language it was made in.

Revision ID: 0005_customer_side
Revises: 0004_daily_units
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_customer_side'
down_revision = '0004_daily_units'
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade():
    with op.batch_alter_table('games', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=False, server_default='EUR'))
        batch_op.add_column(sa.Column('price_per', _enum('price_per', 'player', 'session'),
                                      nullable=False, server_default='session'))
        batch_op.add_column(sa.Column('location', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('instructions', sa.Text(), nullable=False, server_default=''))
        batch_op.create_check_constraint(op.f('ck_games_price_positive'), 'price >= 0')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        # Bookings made before prices existed have no amount on record (NULL), not a price of 0.
        batch_op.add_column(sa.Column('amount', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=False, server_default='en'))


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        for column in ('locale', 'currency', 'amount'):
            batch_op.drop_column(column)
    with op.batch_alter_table('games', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_games_price_positive'), type_='check')
        for column in ('instructions', 'location', 'price_per', 'currency', 'price'):
            batch_op.drop_column(column)
