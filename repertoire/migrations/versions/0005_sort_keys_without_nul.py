"""Sort keys without a NUL byte (PostgreSQL refuses it in text)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, name_sort FROM actor")).all()
    changed = [{"id": i, "key": key.replace("\x00", "\x01")} for i, key in rows if "\x00" in (key or "")]
    if changed:
        connection.execute(sa.text("UPDATE actor SET name_sort = :key WHERE id = :id"), changed)


def downgrade():
    pass
