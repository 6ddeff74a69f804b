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


def insert_rows(connection, table, columns: tuple[str, ...], rows: list[tuple]):
    """Insert many rows (tuples in ``columns`` order); on SQLite straight through the driver.

    SQLAlchemy's per-row parameter handling is about half the time of the
    inserts of a 100,000-actor import; on SQLite each column's own bind
    processor (dates, JSON) is applied here instead, and the rows go to the
    driver's ``executemany``.
    """
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(table.insert(), [dict(zip(columns, row)) for row in rows])
        return
    dialect = connection.dialect
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    if any(processors):
        processors = [process and _reusing_last(process) for process in processors]
        rows = [tuple(value if process is None or value is None else process(value)
                      for process, value in zip(processors, row)) for row in rows]
    quote = dialect.identifier_preparer.quote
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) "
                               f"VALUES ({', '.join('?' * len(columns))})", rows)


def _reusing_last(process):
    """``process``, reusing its last result when given the same object again (one timestamp for a batch)."""
    last_value, last_result = object(), None

    def call(value):
        nonlocal last_value, last_result
        if value is not last_value:
            last_value, last_result = value, process(value)
        return last_result
    return call
