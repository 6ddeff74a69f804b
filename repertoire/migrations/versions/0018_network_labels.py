"""A curating network's own taxonomy labels; the networks a member's change request asks to join; the journal's
events about the actors of a network's territory filed under it

Events are filed (``audit_event_network``) under the curating networks whose scope holds their actor when they
are written; the events written before this revision knew only memberships. ``file_under_territories`` files
them under the networks whose territory holds their actor's seat now (insert only: the journal is append-only;
the ``networks`` column of those events, which cannot change, keeps what it said).

Revision ID: 0018
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'request_network',
        sa.Column('request_id', sa.Integer(), sa.ForeignKey('change_request.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('network_id', sa.Integer(), sa.ForeignKey('curating_network.actor_id', ondelete='CASCADE'),
                  primary_key=True))
    op.create_index('ix_request_network_network_id', 'request_network', ['network_id', 'request_id'])
    op.create_table(
        'network_label',
        sa.Column('network_id', sa.Integer(), sa.ForeignKey('curating_network.actor_id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('taxonomy', sa.String(10), primary_key=True),
        sa.Column('term_id', sa.Integer(), primary_key=True),
        sa.Column('label', sa.String(160), nullable=False),
        sa.Column('label_en', sa.String(160), nullable=False, server_default=''))
    file_under_territories(op.get_bind())


NOT_FILED = ("NOT EXISTS (SELECT 1 FROM audit_event_network x "
             "WHERE x.network_id = {network} AND x.event_id = e.id)")
FILE_UNDER = (
    # an event about an actor: the networks whose territory holds its seat
    "SELECT DISTINCT nd.network_id, e.id FROM audit_event e JOIN actor a ON a.id = e.target_id "
    "JOIN network_department nd ON nd.department = a.department "
    "WHERE e.target_type = 'actor' AND " + NOT_FILED.format(network="nd.network_id"),
    # an event about a request: the same, for the request's actor
    "SELECT DISTINCT nd.network_id, e.id FROM audit_event e JOIN change_request cr ON cr.id = e.target_id "
    "JOIN actor a ON a.id = cr.actor_id JOIN network_department nd ON nd.department = a.department "
    "WHERE e.target_type = 'request' AND " + NOT_FILED.format(network="nd.network_id"),
    # an event about a curating network itself
    "SELECT DISTINCT cn.actor_id, e.id FROM audit_event e JOIN curating_network cn ON cn.actor_id = e.target_id "
    "WHERE e.target_type = 'actor' AND " + NOT_FILED.format(network="cn.actor_id"),
)


def file_under_territories(connection):
    """File the events about an actor (or a request about it, or the network itself) under the curating
    networks whose territory holds the actor's seat now, or which it is; rows already there stay as they are."""
    for select in FILE_UNDER:
        connection.execute(sa.text(f"INSERT INTO audit_event_network (network_id, event_id) {select}"))


def downgrade():  # the events filed under territories stay filed: the journal is append-only
    op.drop_table('network_label')
    op.drop_index('ix_request_network_network_id', 'request_network')
    op.drop_table('request_network')
