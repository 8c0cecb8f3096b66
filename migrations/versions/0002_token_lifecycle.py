"""token lifecycle: API tokens may expire

Revision ID: 0002_token_lifecycle
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002_token_lifecycle'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('expires_at')
