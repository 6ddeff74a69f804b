"""The actors list by town (then by name) walks an index: (town, name_sort, id, status)

Revision ID: 0024
Revises: 0023
"""
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    # a town is required (never empty): the list's ORDER BY is (town, name_sort, id), which this index gives
    # without sorting the directory; status last, so that a status filter is checked in the index
    op.create_index('ix_actor_town_order', 'actor', ['town', 'name_sort', 'id', 'status'])


def downgrade():
    op.drop_index('ix_actor_town_order', table_name='actor')
