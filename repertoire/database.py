"""Schema creation and upgrades through Alembic."""
from pathlib import Path

import sqlite3

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def current_revision(connection) -> str | None:
    from alembic.runtime.migration import MigrationContext
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_schema():
    """Create or upgrade the schema to the newest revision (idempotent)."""
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


@event.listens_for(Engine, "connect")
def _sqlite_for_several_processes(dbapi_connection, record):
    """SQLite shared by several workers: readers never block the writer, writers wait their turn."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
