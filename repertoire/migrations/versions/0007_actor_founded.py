"""Actors: the year they were founded

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("actor") as batch:
        batch.add_column(sa.Column("founded", sa.Integer(), nullable=True))
        batch.create_index("ix_actor_founded", ["founded"])


def downgrade():
    with op.batch_alter_table("actor") as batch:
        batch.drop_index("ix_actor_founded")
        batch.drop_column("founded")
