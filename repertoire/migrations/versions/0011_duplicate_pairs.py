"""Likely duplicate pairs, stored when an actor is written, and the blocks they are found through

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('duplicate_key',
                    sa.Column('id', sa.Integer(), primary_key=True),
                    sa.Column('actor_id', sa.Integer(), sa.ForeignKey('actor.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('key', sa.String(300), nullable=False))
    op.create_index('ix_duplicate_key_actor_id', 'duplicate_key', ['actor_id'])
    op.create_index('ix_duplicate_key_key', 'duplicate_key', ['key'])
    op.create_table('duplicate_pair',
                    sa.Column('id', sa.Integer(), primary_key=True),
                    sa.Column('actor_a_id', sa.Integer(), sa.ForeignKey('actor.id', ondelete='CASCADE'),
                              nullable=False),
                    sa.Column('actor_b_id', sa.Integer(), sa.ForeignKey('actor.id', ondelete='CASCADE'),
                              nullable=False),
                    sa.Column('reasons', sa.String(100), nullable=False),
                    sa.Column('score', sa.Integer(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.UniqueConstraint('actor_a_id', 'actor_b_id'))
    op.create_index('ix_duplicate_pair_actor_b_id', 'duplicate_pair', ['actor_b_id'])
    op.create_index('ix_duplicate_pair_score', 'duplicate_pair', ['score'])
    # Existing databases fill the table with `repertoire duplicates rebuild`.


def downgrade():
    op.drop_table('duplicate_pair')
    op.drop_table('duplicate_key')
