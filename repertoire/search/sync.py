"""Keeps the index in step with the database, through an outbox.

Every flush records which actors changed as ``index_task`` rows, in the same
transaction as the change. After the commit, the process takes the one index
writer (waiting for other processes rather than failing), applies every
pending task — its own and any left by others — reading the actors back from
the database, and marks them done. A crash between the commit and the index
leaves tasks pending: the next start, the next commit anywhere, or
``repertoire index sync`` applies them. A rolled-back transaction leaves
nothing.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from contextlib import nullcontext
from contextvars import ContextVar

from flask import current_app, has_app_context
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from .. import geo
from ..extensions import db
from ..models import Activity, Actor, ActorCountry, ActorTown, Domain, IndexTask, Kind, utcnow
from ..serialize import actor_to_dict
from .index import IndexUnavailable, document

log = logging.getLogger(__name__)

#: A callable ``(length, label) -> context manager with update(n)``; the CLI sets it
#: to show progress bars on a terminal.
progress_bar: ContextVar = ContextVar("progress_bar", default=None)

CHUNK = 500
BULK_FROM = 2000


def mark_for_index(session, actor_ids, new: bool = False):
    """Record index work for these actors in the current transaction."""
    ids = {i for i in actor_ids if i is not None}
    if not ids:
        return
    now = utcnow()
    # Core on the session's connection: no autoflush, usable inside a flush event.
    session.connection().execute(IndexTask.__table__.insert(),
                                 [{"actor_id": i, "new": new, "attempts": 0, "created_at": now} for i in ids])
    session.info["index_pending"] = True


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
    mark_for_index(session, new, new=True)
    mark_for_index(session, dirty - new)


@event.listens_for(Session, "after_commit")
def _index_after_commit(session):
    if session.info.pop("index_pending", False) and has_app_context() \
            and "repertoire.index" in current_app.extensions:
        apply_pending()


@event.listens_for(Session, "after_rollback")
def _forget_changes(session):
    session.info.pop("index_pending", None)


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
            yield from session.scalars(select(Actor).where(Actor.id.in_(ids[start:start + CHUNK])))
            session.expunge_all()


def _operations(session, add_ids: set, other_ids: set):
    """Index operations bringing these actors in line with the database."""
    labels = taxonomy_labels(session)
    seen = set()
    for actor in _published_actors(session, add_ids | other_ids):
        if actor.status != "published":
            continue
        seen.add(actor.id)
        yield ("add" if actor.id in add_ids else "update"), index_document(actor, labels)
    for actor_id in (add_ids | other_ids) - seen:
        if actor_id not in add_ids:
            yield "delete", actor_id


def _bar(length, label):
    factory = progress_bar.get()
    return factory(length, label) if factory and length > 1 else nullcontext(None)


def apply_pending(since: int | None = None, timeout: float = 30.0) -> int:
    """Apply pending index tasks (or, with ``since``, every task after that id); return how many."""
    from . import get_index

    index = get_index()
    condition = IndexTask.id > since if since is not None else IndexTask.done_at.is_(None)
    with Session(db.engine) as session:
        waiting = session.scalar(select(func.count()).select_from(IndexTask).where(condition))
    if not waiting:
        return 0
    try:
        with index.writer(bulk=waiting >= BULK_FROM, timeout=timeout) as writer, Session(db.engine) as session:
            # Read the tasks once we hold the writer: another process may have done them meanwhile.
            tasks = session.execute(select(IndexTask.id, IndexTask.actor_id, IndexTask.new, IndexTask.attempts)
                                    .where(condition).order_by(IndexTask.id)).all()
            if not tasks:
                raise _NothingToDo
            top = tasks[-1].id
            # Count the attempt first: after a crash, a second attempt updates instead of adding twice.
            session.execute(update(IndexTask).where(condition, IndexTask.id <= top)
                            .values(attempts=IndexTask.attempts + 1))
            session.commit()
            add_ids = {t.actor_id for t in tasks if t.new and t.attempts == 0 and since is None}
            other_ids = {t.actor_id for t in tasks} - add_ids
            with _bar(len(add_ids | other_ids), "Indexation") as bar:
                index.apply(writer, _operations(session, add_ids, other_ids), progress=bar.update if bar else None)
    except _NothingToDo:
        return 0
    except IndexUnavailable:
        log.warning("index indisponible : %d tâche(s) d'indexation en attente", waiting)
        return 0
    except Exception:  # a LockError after the timeout, a full disk…: the tasks stay pending
        log.warning("indexation différée : %d tâche(s) en attente", waiting, exc_info=True)
        return 0
    with Session(db.engine) as session:
        session.execute(update(IndexTask).where(condition, IndexTask.id <= top).values(done_at=utcnow()))
        session.commit()
    return len(tasks)


class _NothingToDo(Exception):
    pass


def reindex_all() -> int:
    """Rebuild the whole index in a new directory, swap it in, then catch up; return the count."""
    from . import get_index

    index = get_index()
    with Session(db.engine) as session:
        high = session.scalar(select(func.max(IndexTask.id))) or 0
        total = session.scalar(select(func.count()).select_from(Actor).where(Actor.status == "published"))
        labels = taxonomy_labels(session)
        generation = index.new_generation()
        with _bar(total, "Réindexation") as bar:
            with index.writer(bulk=total > BULK_FROM, generation=generation) as writer:
                docs = (("add", index_document(actor, labels)) for actor in _published_actors(session))
                index.apply(writer, docs, progress=bar.update if bar else None)
    index.activate(generation)
    apply_pending(since=high)  # changes committed while the new index was being built
    with Session(db.engine) as session:
        session.execute(update(IndexTask).where(IndexTask.done_at.is_(None), IndexTask.id <= high)
                        .values(done_at=utcnow()))
        session.commit()
    return total


def check_index() -> dict[str, list[int]]:
    """Differences between the database and the index (empty lists: they agree)."""
    from . import get_index

    index = get_index()
    with Session(db.engine) as session:
        published = {actor_id: int(updated.timestamp() * 1_000_000) for actor_id, updated in
                     session.execute(select(Actor.id, Actor.updated_at).where(Actor.status == "published"))}
        pending = session.scalar(select(func.count()).select_from(IndexTask).where(IndexTask.done_at.is_(None)))
    counts = index.documents()
    indexed = index.updated_of()
    return {
        "missing": sorted(set(published) - set(counts)),
        "unpublished_in_index": sorted(set(counts) - set(published)),
        "duplicated": sorted(i for i, n in counts.items() if n > 1),
        "stale": sorted(i for i, ts in published.items() if i in indexed and indexed[i] != ts),
        "pending_tasks": [pending] if pending else [],
    }


_rebuilding = threading.Event()


def rebuild_if_broken(app) -> bool:
    """Start rebuilding a missing or unreadable index in the background (once, across processes)."""
    if _rebuilding.is_set():
        return True
    index = app.extensions["repertoire.index"]
    os.makedirs(index.path, exist_ok=True)
    lock = open(os.path.join(index.path, "rebuild.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # another process is rebuilding
        lock.close()
        return True
    _rebuilding.set()

    def work():
        try:
            with app.app_context():
                app.logger.warning("Index absent ou illisible dans %s : reconstruction depuis la base de données",
                                   index.path)
                total = reindex_all()
                app.logger.warning("Index reconstruit : %d acteur(s)", total)
        except Exception:
            app.logger.exception("La reconstruction de l'index a échoué")
        finally:
            _rebuilding.clear()
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    threading.Thread(target=work, name="index-rebuild", daemon=True).start()
    return True
