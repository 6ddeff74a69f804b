"""index log: an ordered log of changes that each server's index follows

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    log = op.create_table('index_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('op', sa.String(length=6), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True)  # ids never reused once pruned
    op.create_table('index_position',
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'))
    # Tasks still pending become the start of the log: every index applies them.
    op.execute(log.insert().from_select(
        ['actor_id', 'op', 'created_at'],
        sa.select(sa.column('actor_id'), sa.literal('upsert'), sa.func.min(sa.column('created_at')))
        .select_from(sa.table('index_task', sa.column('actor_id'), sa.column('created_at'), sa.column('done_at')))
        .where(sa.column('done_at').is_(None)).group_by(sa.column('actor_id'))))
    with op.batch_alter_table('index_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_task_done_at'))
        batch_op.drop_index(batch_op.f('ix_index_task_actor_id'))
    op.drop_table('index_task')


def downgrade():
    op.create_table('index_task',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('new', sa.Boolean(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('index_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_task_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_index_task_done_at'), ['done_at'], unique=False)
    op.drop_table('index_position')
    op.drop_table('index_log')
