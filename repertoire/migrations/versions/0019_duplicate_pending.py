"""Actors whose likely duplicate pairs a big write left to compute after its commit

Revision ID: 0019
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('duplicate_pending',
                    sa.Column('id', sa.Integer(), primary_key=True),
                    sa.Column('actor_id', sa.Integer(), sa.ForeignKey('actor.id', ondelete='CASCADE'), nullable=False))
    op.create_index('ix_duplicate_pending_actor_id', 'duplicate_pending', ['actor_id'])


def downgrade():
    op.drop_table('duplicate_pending')
