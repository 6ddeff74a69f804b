"""A curating network's own taxonomy labels; the networks a member's change request asks to join

Revision ID: 0018
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0016'  # the lead chains it after 0017 at merge
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


def downgrade():
    op.drop_table('network_label')
    op.drop_index('ix_request_network_network_id', 'request_network')
    op.drop_table('request_network')
