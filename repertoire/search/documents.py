"""Engine-neutral documents of published actors, read from the database in bulk."""
from __future__ import annotations

from sqlalchemy import create_engine, select

from ..generate import is_fictitious
from ..models import Activity, Domain, Kind
from ..records import published_records
from ..serialize import actor_to_dict


LAST = "\U0010ffff"  # above every character a name or its sort key can hold


def taxonomy_labels(connection) -> dict[str, dict[str, str]]:
    return {name: dict(connection.execute(select(model.slug, model.label)).all())
            for name, model in (("kind", Kind), ("domain", Domain), ("activity", Activity))}


def index_document(actor, labels) -> dict:
    """The document of an ``Actor`` or an ``ActorRecord``: ``actor_to_dict`` output, sort key, time, labels."""
    data = actor_to_dict(actor)
    # Generated examples after the real actors in the name order: a demo opens on real entries.
    data["name_sort"] = (LAST + actor.name_sort) if is_fictitious(actor.description) else actor.name_sort
    data["updated_ts"] = actor.updated_at.timestamp()
    data["labels"] = labels
    return data


class PublishedDocuments:
    """``engine.DocumentSource`` over a database: through ``connection`` here, through its own elsewhere.

    Pickled into another process, it keeps only the database's URL.
    """

    def __init__(self, connection):
        self.connection = connection
        url = connection.engine.url
        self.url = url.render_as_string(hide_password=False)
        self.shareable = not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))

    def __getstate__(self):
        return {"connection": None, "url": self.url, "shareable": self.shareable}

    def documents(self, actor_ids, progress=None):
        if self.connection is not None:
            yield from _documents(self.connection, actor_ids, progress)
            return
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                yield from _documents(connection, actor_ids, progress)
        finally:
            engine.dispose()


def _documents(connection, actor_ids, progress):
    labels = taxonomy_labels(connection)
    pending = 0
    for record in published_records(connection, actor_ids):
        yield index_document(record, labels)
        pending += 1
        if pending == 500 and progress:
            progress(pending)
            pending = 0
    if pending and progress:
        progress(pending)
