"""index outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 00:08:28.833647
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('index_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('new', sa.Boolean(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('index_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_task_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_index_task_done_at'), ['done_at'], unique=False)



def downgrade():
    with op.batch_alter_table('index_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_task_done_at'))
        batch_op.drop_index(batch_op.f('ix_index_task_actor_id'))

    op.drop_table('index_task')
