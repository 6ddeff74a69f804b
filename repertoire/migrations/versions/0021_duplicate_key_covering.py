"""The duplicate blocks' holders read from an index alone: (key, actor_id) instead of (key)

Revision ID: 0021
Revises: 0020
"""
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_duplicate_key_key_actor', 'duplicate_key', ['key', 'actor_id'])
    op.drop_index('ix_duplicate_key_key', table_name='duplicate_key')


def downgrade():
    op.create_index('ix_duplicate_key_key', 'duplicate_key', ['key'])
    op.drop_index('ix_duplicate_key_key_actor', table_name='duplicate_key')
