"""English: taxonomy labels and each account's language

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

from repertoire import taxonomy

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = (("kind", taxonomy.KINDS), ("domain", taxonomy.DOMAINS), ("activity", taxonomy.ACTIVITIES))


def upgrade():
    for table, defaults in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("label_en", sa.String(160), nullable=True))
        # Default terms get their English label unless a coordinator renamed them.
        op.get_bind().execute(
            sa.text(f"UPDATE {table} SET label_en = :en WHERE slug = :slug AND label = :fr"),
            [{"slug": slug, "fr": fr, "en": en} for slug, fr, en in defaults])
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("locale", sa.String(5), nullable=False, server_default="fr"))


def downgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("locale")
    for table, _ in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("label_en")
