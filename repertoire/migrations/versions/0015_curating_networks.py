"""Curating networks: coordinators, territory, notice settings

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'curating_network',
        sa.Column('actor_id', sa.Integer(), sa.ForeignKey('actor.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False))
    op.create_table(
        'network_department',
        sa.Column('network_id', sa.Integer(), sa.ForeignKey('curating_network.actor_id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('department', sa.String(3), primary_key=True))
    op.create_index('ix_network_department_department', 'network_department', ['department'])
    op.create_table(
        'network_coordinator',
        sa.Column('network_id', sa.Integer(), sa.ForeignKey('curating_network.actor_id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('user_account.id', ondelete='CASCADE'),
                  primary_key=True))
    op.create_index('ix_network_coordinator_user_id', 'network_coordinator', ['user_id'])
    op.create_table(
        'notice_setting',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('user_account.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('mode', sa.String(8), nullable=False),
        sa.Column('digest_through', sa.Integer(), nullable=False))


def downgrade():
    op.drop_table('notice_setting')
    op.drop_index('ix_network_coordinator_user_id', 'network_coordinator')
    op.drop_table('network_coordinator')
    op.drop_index('ix_network_department_department', 'network_department')
    op.drop_table('network_department')
    op.drop_table('curating_network')
