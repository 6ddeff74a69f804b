"""Schema creation and upgrades through Alembic."""
from pathlib import Path

from alembic import command
from alembic.config import Config

from .extensions import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade_schema():
    """Create or upgrade the schema to the newest revision (idempotent)."""
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
