"""The actors list by founding year (undated last, then by name) walks an index: ((founded IS NULL), founded,
name_sort, id, status)

Revision ID: 0022
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    # the first column is the expression the list's ORDER BY starts with (`actor.founded IS NULL`): SQLite and
    # PostgreSQL both match an indexed expression written the same way
    op.create_index('ix_actor_founded_order', 'actor',
                    [sa.text('(founded IS NULL)'), 'founded', 'name_sort', 'id', 'status'])


def downgrade():
    op.drop_index('ix_actor_founded_order', table_name='actor')
