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
import gc
import logging
import multiprocessing
import os
import threading
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from contextlib import nullcontext
from contextvars import ContextVar

from flask import current_app, has_app_context
from sqlalchemy import create_engine, event, func, select, update
from sqlalchemy.orm import Session

from .. import geo
from ..database import insert_rows
from ..extensions import db
from ..models import Activity, Actor, ActorCountry, ActorTown, Domain, IndexTask, Kind, utcnow
from ..processes import die_with_parent
from ..records import published_records
from ..serialize import actor_to_dict
from .index import IndexLocked, IndexUnavailable, build_segment_in, document

log = logging.getLogger(__name__)

#: A callable ``(length, label) -> context manager with update(n)``; the CLI sets it
#: to show progress bars on a terminal.
progress_bar: ContextVar = ContextVar("progress_bar", default=None)

BULK_FROM = 2000  # from this many new actors, segments are built in bulk
BUILD_PROCESSES = 2  # processes building segments at once (the target server has 2 cores)
SEGMENT_AT_MOST = 250_000  # documents in one bulk segment: a process holds its postings in memory (~1 GB)


def mark_for_index(session, actor_ids, new: bool = False):
    """Record index work for these actors in the current transaction."""
    ids = {i for i in actor_ids if i is not None}
    if not ids:
        return
    now = utcnow()
    # On the session's connection: no autoflush, usable inside a flush event.
    insert_rows(session.connection(), IndexTask.__table__, ("actor_id", "new", "attempts", "created_at"),
                [(i, new, 0, now) for i in ids])
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


def taxonomy_labels(connection) -> dict[str, dict[str, str]]:
    return {name: dict(connection.execute(select(model.slug, model.label)).all())
            for name, model in (("kind", Kind), ("domain", Domain), ("activity", Activity))}


def index_document(actor, labels) -> dict:
    """The index document of an ``Actor`` or an ``ActorRecord``."""
    data = actor_to_dict(actor)
    data["name_sort"] = actor.name_sort
    data["updated_ts"] = actor.updated_at.timestamp()
    return document(data, labels, geo)


def _operations(connection, add_ids: set, other_ids: set, labels):
    """Index operations bringing these actors in line with the database (``add_ids``: not in the index)."""
    seen = set()
    for record in published_records(connection, add_ids | other_ids):
        seen.add(record.id)
        yield ("add" if record.id in add_ids else "update"), index_document(record, labels)
    for actor_id in other_ids - seen:
        yield "delete", actor_id


def _bar(length, label):
    factory = progress_bar.get()
    return factory(length, label) if factory and length > 1 else nullcontext(None)


def apply_pending(since: int | None = None, timeout: float = 30.0, strict: bool = False) -> int:
    """Apply pending index tasks (or, with ``since``, every task after that id); return how many.

    A failure leaves the tasks pending and is logged; with ``strict`` it raises ``IndexSyncError``.
    """
    from . import get_index

    index = get_index()
    condition = IndexTask.id > since if since is not None else IndexTask.done_at.is_(None)
    with Session(db.engine) as session:
        waiting = session.scalar(select(func.count()).select_from(IndexTask).where(condition))
    if not waiting:
        return 0
    try:
        with index.writer(timeout=timeout) as writer, db.engine.connect() as connection:
            # Read the tasks once we hold the writer: another process may have done them meanwhile.
            tasks = connection.execute(select(IndexTask.id, IndexTask.actor_id, IndexTask.new, IndexTask.attempts)
                                       .where(condition).order_by(IndexTask.id)).all()
            if not tasks:
                raise _NothingToDo
            top = tasks[-1].id
            # Count the attempt first: after a crash, a second attempt updates instead of adding twice.
            connection.execute(update(IndexTask).where(condition, IndexTask.id <= top)
                               .values(attempts=IndexTask.attempts + 1))
            connection.commit()
            new_ids = {t.actor_id for t in tasks if t.new and t.attempts == 0 and since is None}
            other_ids = {t.actor_id for t in tasks} - new_ids
            labels = taxonomy_labels(connection)
            with _bar(len(new_ids | other_ids), "Indexation") as bar:
                progress = bar.update if bar else None
                if len(new_ids) >= BULK_FROM:
                    index.add_segments(writer, build_segments(index.folder(writer), new_ids, progress))
                    new_ids = set()
                index.apply(writer, _operations(connection, new_ids, other_ids, labels), progress=progress)
    except _NothingToDo:
        return 0
    except IndexUnavailable as exc:
        if strict:
            raise IndexSyncError(waiting, f"index absent ou illisible ({exc}) ; "
                                          f"lancez « repertoire reindex »") from exc
        log.warning("index indisponible : %d tâche(s) d'indexation en attente", waiting)
        return 0
    except Exception as exc:  # a LockError after the timeout, a full disk…: the tasks stay pending
        if strict:
            reason = (f"l'écrivain de l'index est pris par un autre processus depuis plus de {timeout:g} s"
                      if isinstance(exc, IndexLocked) else f"{type(exc).__name__} : {exc}")
            raise IndexSyncError(waiting, reason) from exc
        log.warning("indexation différée : %d tâche(s) en attente", waiting, exc_info=True)
        return 0
    with Session(db.engine) as session:
        session.execute(update(IndexTask).where(condition, IndexTask.id <= top).values(done_at=utcnow()))
        session.commit()
    return len(tasks)


def build_segments(folder: str, ids, progress=None) -> list:
    """Index segments of the published actors among ``ids``, built by up to ``BUILD_PROCESSES`` processes.

    Each process reads its share of the actors from the database itself. An
    in-memory SQLite database is only visible here: it is read in this process.
    """
    ids = sorted(ids)
    if not ids:
        return []
    url = db.engine.url
    processes = min(BUILD_PROCESSES, os.cpu_count() or 1, max(1, len(ids) // BULK_FROM))
    size = min(-(-len(ids) // processes), SEGMENT_AT_MOST)
    shares = [ids[start:start + size] for start in range(0, len(ids), size)]
    if processes == 1 or (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")):
        with db.engine.connect() as connection:
            return [_build(connection, folder, share, progress) for share in shares]
    # fork starts at once and shares what is loaded, but is unsafe in a process running threads (a web server)
    context = multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")
    counter = context.Value("q", 0)
    gc.freeze()  # forked processes: no collection walks (and copies) all the objects they inherit
    try:
        with ProcessPoolExecutor(min(processes, len(shares)), mp_context=context, initializer=_init_builder,
                                 initargs=(counter, os.getpid())) as pool:
            futures = [pool.submit(_build_share, url.render_as_string(hide_password=False), folder, share)
                       for share in shares]
            reported = 0
            while not all(f.done() for f in futures):
                wait(futures, timeout=0.2, return_when=FIRST_EXCEPTION)
                if any(f.done() and f.exception() for f in futures):
                    break
                if progress and counter.value > reported:
                    progress(counter.value - reported)
                    reported = counter.value
            segments = [f.result() for f in futures]  # raises the first failure
    finally:
        gc.unfreeze()
    if progress and len(ids) > reported:
        progress(len(ids) - reported)
    return segments


_built = None  # in a builder process: shared count of documents built, for the progress bar


def _init_builder(counter, parent_pid: int):
    global _built
    die_with_parent(parent_pid)  # a builder holds the index writer's lock it inherited: never orphaned
    _built = counter


def _build_share(database_url: str, folder: str, ids: list[int]):
    """In a builder process: one segment, read through a connection of its own."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return _build(connection, folder, ids, _count_built)
    finally:
        engine.dispose()


def _count_built(n: int):
    with _built.get_lock():
        _built.value += n


def _build(connection, folder, ids, progress=None):
    """The segment of the published actors among ``ids``, counting documents as they are made."""
    labels = taxonomy_labels(connection)

    def documents():
        pending = 0
        for record in published_records(connection, ids):
            yield index_document(record, labels)
            pending += 1
            if pending == 500 and progress:
                progress(pending)
                pending = 0
        if pending and progress:
            progress(pending)

    return build_segment_in(folder, documents())


class _NothingToDo(Exception):
    pass


class IndexSyncError(RuntimeError):
    """Pending index tasks could not be applied; the message says why, in French."""

    def __init__(self, waiting: int, reason: str):
        super().__init__(f"{waiting} tâche(s) d'indexation en attente non appliquée(s) : {reason}.")


def reindex_all() -> int:
    """Rebuild the whole index in a new directory, swap it in, then catch up; return the count."""
    from . import get_index

    index = get_index()
    with db.engine.connect() as connection:
        high = connection.scalar(select(func.max(IndexTask.id))) or 0
        published = connection.scalars(select(Actor.id).where(Actor.status == "published")).all()
    generation = index.new_generation()
    if published:
        with _bar(len(published), "Réindexation") as bar:
            with index.writer(generation=generation) as writer:
                index.add_segments(writer, build_segments(index.folder(writer), published,
                                                          bar.update if bar else None))
    index.activate(generation)
    apply_pending(since=high)  # changes committed while the new index was being built
    with Session(db.engine) as session:
        session.execute(update(IndexTask).where(IndexTask.done_at.is_(None), IndexTask.id <= high)
                        .values(done_at=utcnow()))
        session.commit()
    return len(published)


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
