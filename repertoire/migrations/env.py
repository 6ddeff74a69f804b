"""Alembic environment: runs on the connection handed over by ``repertoire.database``."""
from alembic import context

from repertoire import models  # noqa: F401  (registers the tables)
from repertoire.extensions import db

config = context.config
target_metadata = db.metadata
connection = config.attributes.get("connection")

if connection is None:
    raise RuntimeError("Lancez les migrations avec « repertoire init ».")

# Indexes written differently on PostgreSQL by their migration (0023: `confirmed_at NULLS FIRST`, which the
# models cannot say for SQLite too): left out of PostgreSQL's autogenerate comparison.
POSTGRESQL_FORMS = {"ix_actor_status_confirmed_at", "ix_network_actor_stale"}


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "index" and name in POSTGRESQL_FORMS and connection.dialect.name == "postgresql")


context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=True, compare_type=True, include_object=include_object)
with context.begin_transaction():
    context.run_migrations()
