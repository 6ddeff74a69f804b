"""Alembic environment: runs on the connection handed over by ``repertoire.database``."""
from alembic import context

from repertoire import models  # noqa: F401  (registers the tables)
from repertoire.extensions import db

config = context.config
target_metadata = db.metadata
connection = config.attributes.get("connection")

if connection is None:
    raise RuntimeError("Lancez les migrations avec « repertoire init ».")

context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
