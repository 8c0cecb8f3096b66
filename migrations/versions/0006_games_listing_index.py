"""games listing index: active games in (name, slug) order, for paged listings.

Revision ID: 0006_games_listing_index
Revises: 0005_customer_side
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_games_listing_index'
down_revision = '0005_customer_side'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_games_active_listing', 'games', ['name', 'slug'], unique=False,
                    postgresql_where=sa.text('is_active'), sqlite_where=sa.text('is_active'))


def downgrade():
    op.drop_index('ix_games_active_listing', table_name='games')
