"""Indexes for the back-office lists and counts at 100,000 actors: actors by status and name, stale
actors, taxonomy counts, the moderation queue and the submissions per month

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_actor_status_name_sort", "actor", ["status", "name_sort"]),
    ("ix_actor_status_confirmed_at", "actor", ["status", "confirmed_at"]),
    ("ix_actor_kind_id_status", "actor", ["kind_id", "status"]),
    ("ix_actor_domain_domain_id", "actor_domain", ["domain_id", "actor_id"]),
    ("ix_actor_activity_activity_id", "actor_activity", ["activity_id", "actor_id"]),
    ("ix_change_request_status_created_at", "change_request", ["status", "created_at", "id"]),
    ("ix_change_request_kind_created_at", "change_request", ["kind", "created_at"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
