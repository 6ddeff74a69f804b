"""Error reports from visitors (no account, an optional e-mail) and requests outliving a deleted account

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('change_request', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('email', sa.String(254), nullable=False, server_default=''))


def downgrade():
    op.execute("DELETE FROM change_request WHERE user_id IS NULL")
    with op.batch_alter_table('change_request', schema=None) as batch_op:
        batch_op.drop_column('email')
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
