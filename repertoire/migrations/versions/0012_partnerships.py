"""Partnerships (with their partners) and network memberships (contract §5)

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partnership',
                    sa.Column('id', sa.Integer(), primary_key=True),
                    sa.Column('actor_id', sa.Integer(), sa.ForeignKey('actor.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('position', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(20), nullable=False),
                    sa.Column('status', sa.String(12), nullable=False),
                    sa.Column('start', sa.String(10), nullable=False),
                    sa.Column('end', sa.String(10), nullable=False),
                    sa.Column('start_year', sa.Integer(), nullable=True),
                    sa.Column('domains', sa.JSON(), nullable=False),
                    sa.Column('description', sa.Text(), nullable=False),
                    sa.Column('source', sa.String(300), nullable=False))
    op.create_index('ix_partnership_actor_id', 'partnership', ['actor_id'])
    op.create_index('ix_partnership_kind', 'partnership', ['kind'])
    op.create_index('ix_partnership_start_year', 'partnership', ['start_year'])
    op.create_table('partnership_partner',
                    sa.Column('id', sa.Integer(), primary_key=True),
                    sa.Column('partnership_id', sa.Integer(), sa.ForeignKey('partnership.id', ondelete='CASCADE'),
                              nullable=False),
                    sa.Column('position', sa.Integer(), nullable=False),
                    sa.Column('name', sa.String(200), nullable=False),
                    sa.Column('country', sa.String(2), nullable=False),
                    sa.Column('locality', sa.String(120), nullable=False),
                    sa.Column('actor_id', sa.Integer(), sa.ForeignKey('actor.id', ondelete='SET NULL'), nullable=True))
    op.create_index('ix_partnership_partner_partnership_id', 'partnership_partner', ['partnership_id'])
    op.create_index('ix_partnership_partner_country', 'partnership_partner', ['country'])
    op.create_index('ix_partnership_partner_actor_id', 'partnership_partner', ['actor_id'])
    op.create_table('membership',
                    sa.Column('actor_id', sa.Integer(), sa.ForeignKey('actor.id', ondelete='CASCADE'), primary_key=True),
                    sa.Column('network_id', sa.Integer(), sa.ForeignKey('actor.id', ondelete='CASCADE'),
                              primary_key=True),
                    sa.Column('since', sa.Integer(), nullable=True),
                    sa.Column('position', sa.Integer(), nullable=False))
    op.create_index('ix_membership_network_id', 'membership', ['network_id'])


def downgrade():
    op.drop_table('membership')
    op.drop_table('partnership_partner')
    op.drop_table('partnership')
