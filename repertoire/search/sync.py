"""Keeps the index in step with the database.

Every flush records which actors changed; after the commit, those actors are
read back from the database and written to the index (published ones indexed,
the others removed). Nothing is indexed for a transaction that rolls back.
"""
from __future__ import annotations

from contextlib import nullcontext
from contextvars import ContextVar

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .. import geo
from ..extensions import db
from ..models import Activity, Actor, ActorCountry, ActorTown, Domain, Kind
from ..serialize import actor_to_dict
from .index import document

#: A callable ``(length, label) -> context manager with update(n)``; the CLI sets it
#: to show progress bars on a terminal.
progress_bar: ContextVar = ContextVar("progress_bar", default=None)

CHUNK = 500


def mark_for_index(session, actor_ids, new: bool = False):
    """Ask for these actors to be (re)indexed after the commit."""
    session.info.setdefault("index_new" if new else "index_dirty", set()).update(actor_ids)


@event.listens_for(Session, "after_flush")
def _collect_changes(session, flush_context):
    new, dirty = set(), set()
    for obj in session.new:
        if isinstance(obj, Actor):
            new.add(obj.id)
        elif isinstance(obj, (ActorCountry, ActorTown)):
            dirty.add(obj.actor_id)
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Actor):
            dirty.add(obj.id)
        elif isinstance(obj, (ActorCountry, ActorTown)):
            dirty.add(obj.actor_id)
    if new:
        mark_for_index(session, new, new=True)
    dirty.discard(None)
    if dirty:
        mark_for_index(session, dirty)


@event.listens_for(Session, "after_commit")
def _index_after_commit(session):
    new = session.info.pop("index_new", set())
    dirty = session.info.pop("index_dirty", set()) - new
    if (new or dirty) and has_app_context() and "repertoire.index" in current_app.extensions:
        sync_actors(new_ids=new, changed_ids=dirty)


@event.listens_for(Session, "after_rollback")
def _forget_changes(session):
    session.info.pop("index_new", None)
    session.info.pop("index_dirty", None)


def taxonomy_labels(session) -> dict[str, dict[str, str]]:
    return {name: dict(session.execute(select(model.slug, model.label)).all())
            for name, model in (("kind", Kind), ("domain", Domain), ("activity", Activity))}


def index_document(actor: Actor, labels) -> dict:
    data = actor_to_dict(actor)
    data["name_sort"] = actor.name_sort
    data["updated_ts"] = actor.updated_at.timestamp()
    return document(data, labels, geo)


def _published_actors(session, ids=None):
    """Published actors in chunks, optionally restricted to ``ids``."""
    if ids is None:
        last = 0
        while True:
            chunk = session.scalars(select(Actor).where(Actor.status == "published", Actor.id > last)
                                    .order_by(Actor.id).limit(CHUNK)).all()
            if not chunk:
                return
            yield from chunk
            last = chunk[-1].id
            session.expunge_all()
    else:
        ids = sorted(ids)
        for start in range(0, len(ids), CHUNK):
            part = ids[start:start + CHUNK]
            yield from session.scalars(select(Actor).where(Actor.id.in_(part)))
            session.expunge_all()


def _bar(length, label):
    factory = progress_bar.get()
    return factory(length, label) if factory and length > 1 else nullcontext(None)


def sync_actors(new_ids=(), changed_ids=()):
    """Write the current database state of these actors to the index."""
    from . import get_index

    ids = set(new_ids) | set(changed_ids)
    with Session(db.engine) as session, _bar(len(ids), "Indexation") as bar:
        labels = taxonomy_labels(session)

        def operations():
            seen = set()
            for actor in _published_actors(session, ids):
                if actor.status != "published":
                    continue
                seen.add(actor.id)
                yield ("add" if actor.id in new_ids else "update"), index_document(actor, labels)
            for actor_id in ids - seen:
                if actor_id not in new_ids:
                    yield "delete", actor_id

        bulk = len(new_ids) > 2000 and not changed_ids
        get_index().write(operations(), progress=bar.update if bar else None, bulk=bulk)


def reindex_all() -> int:
    """Rebuild the whole index from the database; return the number of documents."""
    from . import get_index

    with Session(db.engine) as session:
        total = session.scalar(select(db.func.count()).select_from(Actor)
                               .where(Actor.status == "published"))
        labels = taxonomy_labels(session)
        with _bar(total, "Réindexation") as bar:
            docs = (index_document(actor, labels) for actor in _published_actors(session))
            get_index().rebuild(docs, progress=bar.update if bar else None, bulk=total > 2000)
    return total
