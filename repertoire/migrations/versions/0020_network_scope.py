"""The actors of each curating network's scope, kept as rows (network_actor), with the actor's status, sort
name, confirmation date, town and founding year so that a scope's lists and counts read this table alone

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# The scope's definition as of this revision (operations/networks.py holds the live one): the network itself,
# the actors whose seat is in its territory, its members.
FILL = ("INSERT INTO network_actor (network_id, actor_id, status, name_sort, confirmed_at, town, founded) "
        "SELECT s.network_id, a.id, a.status, a.name_sort, a.confirmed_at, a.town, a.founded FROM ("
        "SELECT c.actor_id AS network_id, c.actor_id AS actor_id FROM curating_network c "
        "UNION SELECT nd.network_id, a.id FROM network_department nd JOIN actor a ON a.department = nd.department "
        "UNION SELECT m.network_id, m.actor_id FROM membership m JOIN curating_network c ON c.actor_id = m.network_id"
        ") s JOIN actor a ON a.id = s.actor_id")


def upgrade():
    op.create_table('network_actor',
                    sa.Column('network_id', sa.Integer(),
                              sa.ForeignKey('curating_network.actor_id', ondelete='CASCADE'), primary_key=True),
                    sa.Column('actor_id', sa.Integer(), sa.ForeignKey('actor.id', ondelete='CASCADE'),
                              primary_key=True),
                    sa.Column('status', sa.String(length=12), nullable=False),
                    sa.Column('name_sort', sa.String(length=420), nullable=False),
                    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('town', sa.String(length=120), nullable=False),
                    sa.Column('founded', sa.Integer(), nullable=True),
                    sqlite_with_rowid=False)
    op.create_index('ix_network_actor_actor_id', 'network_actor', ['actor_id'])
    op.create_index('ix_network_actor_name', 'network_actor', ['network_id', 'name_sort', 'actor_id'])
    op.create_index('ix_network_actor_status_name', 'network_actor',
                    ['network_id', 'status', 'name_sort', 'actor_id'])
    op.create_index('ix_network_actor_stale', 'network_actor', ['network_id', 'status', 'confirmed_at'])
    op.create_index('ix_network_actor_town', 'network_actor', ['network_id', 'town', 'name_sort', 'actor_id'])
    op.execute(FILL)


def downgrade():
    op.drop_table('network_actor')
