"""Jobs: bulk actions run outside the request, in committed chunks, resumable

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job',
                    sa.Column('id', sa.Integer(), primary_key=True),
                    sa.Column('kind', sa.String(40), nullable=False),
                    sa.Column('params', sa.JSON(), nullable=False),
                    sa.Column('status', sa.String(12), nullable=False),
                    sa.Column('done', sa.Integer(), nullable=False),
                    sa.Column('total', sa.Integer(), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=True),
                    sa.Column('networks', sa.JSON(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('worker', sa.String(40), nullable=False),
                    sa.Column('attempts', sa.Integer(), nullable=False),
                    sa.Column('cursor', sa.Integer(), nullable=False, server_default='0'),
                    sa.Column('state', sa.JSON(), nullable=False),
                    sa.Column('result', sa.JSON(), nullable=True),
                    sa.Column('error', sa.Text(), nullable=False))
    op.create_index('ix_job_status_id', 'job', ['status', 'id'])
    op.create_table('job_chunk',
                    sa.Column('job_id', sa.Integer(), sa.ForeignKey('job.id', ondelete='CASCADE'),
                              primary_key=True),
                    sa.Column('position', sa.Integer(), primary_key=True),
                    sa.Column('items', sa.JSON(), nullable=False))
    op.create_table('job_item',
                    sa.Column('job_id', sa.Integer(), sa.ForeignKey('job.id', ondelete='CASCADE'),
                              primary_key=True),
                    sa.Column('actor_id', sa.Integer(), primary_key=True),
                    sqlite_with_rowid=False)
    op.create_table('job_network',
                    sa.Column('job_id', sa.Integer(), sa.ForeignKey('job.id', ondelete='CASCADE'),
                              primary_key=True),
                    sa.Column('network_id', sa.Integer(), primary_key=True))
    op.create_index('ix_job_network_network_id', 'job_network', ['network_id'])


def downgrade():
    op.drop_table('job_network')
    op.drop_table('job_item')
    op.drop_table('job_chunk')
    op.drop_table('job')
