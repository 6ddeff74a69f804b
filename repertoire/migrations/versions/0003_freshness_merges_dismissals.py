"""freshness merges dismissals

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 23:34:33.234296
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('duplicate_dismissal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_a_id', sa.Integer(), nullable=False),
    sa.Column('actor_b_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_a_id'], ['actor.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_b_id'], ['actor.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('actor_a_id', 'actor_b_id')
    )
    with op.batch_alter_table('actor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_actor_merged_into_id_actor', 'actor', ['merged_into_id'], ['id'])
    op.execute("UPDATE actor SET confirmed_at = updated_at")



def downgrade():
    with op.batch_alter_table('actor', schema=None) as batch_op:
        batch_op.drop_constraint('fk_actor_merged_into_id_actor', type_='foreignkey')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('confirmed_at')

    op.drop_table('duplicate_dismissal')
