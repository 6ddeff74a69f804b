"""Keeps each server's index in step with the database, through an ordered change log.

Every commit that changes actors appends ``index_log`` rows (actor id, add /
upsert / delete) in the same transaction. Each index records, inside itself
and committed with its segments, the last log id it has applied; each process
that serves requests checks the log's head at most every ``CHECK_EVERY``
seconds (one indexed query) and applies the tail past its index's position,
holding that index's one writer. A server stopped for a while applies
everything past its position when it starts; a gap (the log pruned past that
position) rebuilds its index.

Ids follow commit order: the rows are written last, just before the commit,
under a transaction-scoped PostgreSQL advisory lock (SQLite has one writer at
a time anyway). Without it, a transaction could take id 10 and commit after
one that took id 11 had been applied, and id 10 would be skipped for ever.

Each index's position is also kept in ``index_position`` with a heartbeat;
rows older than ``KEEP_FOR`` are pruned only up to the lowest position of the
indexes seen within ``LIVE_FOR``.
"""
from __future__ import annotations

import fcntl
import gc
import logging
import multiprocessing
import os
import socket
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from contextlib import nullcontext
from contextvars import ContextVar
from datetime import timedelta

from flask import current_app, has_app_context, has_request_context
from sqlalchemy import create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import geo
from ..database import insert_rows
from ..extensions import db
from ..models import Activity, Actor, ActorCountry, ActorTown, Domain, IndexLog, IndexPosition, Kind, utcnow
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

LOG_LOCK = 0x5245504C  # PostgreSQL advisory lock key ordering the log's ids by commit
CHECK_EVERY = 0.2  # seconds between a process's looks at the log's head
HEARTBEAT_EVERY = 60.0  # seconds between records of an index's position (and prunings)
LIVE_FOR = timedelta(days=7)  # an index not seen for longer no longer holds log rows back
KEEP_FOR = timedelta(days=1)  # log rows younger than this are never pruned
PRUNED = "-pruned-"  # the index_position row saying up to which id the log was pruned


def mark_for_index(session, actor_ids, new: bool = False, op: str | None = None):
    """Record index work for these actors, logged when the current transaction commits."""
    changes = session.info.setdefault("index_changes", {})
    op = op or ("add" if new else "upsert")
    for i in actor_ids:
        if i is not None and changes.get(i) != "add":
            changes[i] = op


@event.listens_for(Session, "after_flush")
def _collect_changes(session, flush_context):
    new, dirty, deleted = set(), set(), set()
    for obj in session.new:
        if isinstance(obj, Actor):
            new.add(obj.id)
        elif isinstance(obj, (ActorCountry, ActorTown)):
            dirty.add(obj.actor_id)
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Actor):
            (deleted if obj in session.deleted else dirty).add(obj.id)
        elif isinstance(obj, (ActorCountry, ActorTown)):
            dirty.add(obj.actor_id)
    mark_for_index(session, new, new=True)
    mark_for_index(session, dirty - new)
    mark_for_index(session, deleted - new, op="delete")


@event.listens_for(Session, "before_commit")
def _write_log(session):
    """Append the transaction's changes to the log, last, with ids in commit order."""
    if session.dirty or session.new or session.deleted:
        session.flush()
    changes = session.info.pop("index_changes", None)
    if not changes:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Held until the commit: the next transaction takes its ids after this one is visible.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOG_LOCK})
    now = utcnow()
    insert_rows(connection, IndexLog.__table__, ("actor_id", "op", "created_at"),
                [(i, op, now) for i, op in sorted(changes.items())])
    session.info["index_pending"] = True


@event.listens_for(Session, "after_commit")
def _index_after_commit(session):
    if session.info.pop("index_pending", False) and has_app_context() \
            and "repertoire.index" in current_app.extensions:
        apply_pending()


@event.listens_for(Session, "after_rollback")
def _forget_changes(session):
    session.info.pop("index_changes", None)
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


def log_head(connection) -> int:
    """The last id of the change log, or the last pruned one if higher (one query, on indexes)."""
    pruned = select(IndexPosition.position).where(IndexPosition.name == PRUNED).scalar_subquery()
    last, gone = connection.execute(select(select(func.max(IndexLog.id)).scalar_subquery(), pruned)).one()
    return max(last or 0, gone or 0)


def index_name(index) -> str:
    """This server's index, as named in ``index_position``."""
    return f"{socket.gethostname()}:{os.path.realpath(index.path)}"[:300]


def apply_pending(timeout: float = 30.0, quiet: bool = False, strict: bool = False) -> int:
    """Apply the log rows past this index's position; return how many.

    ``quiet``: another process holding the writer is not worth a warning (it is applying them).
    A failure leaves the rows for the next look and is logged; with ``strict`` it raises ``IndexSyncError``.
    """
    from . import get_index

    index = get_index()
    try:
        position, _ = index.log_position()
    except IndexUnavailable as exc:
        if strict:
            raise IndexSyncError(0, f"index absent ou illisible ({exc}) ; lancez « repertoire reindex »") from exc
        log.warning("index indisponible : modifications en attente d'indexation")
        return 0
    with db.engine.connect() as connection:
        head = log_head(connection)
    if head <= position:
        heartbeat(index, position)
        return 0
    try:
        with index.writer(timeout=timeout) as writer, db.engine.connect() as connection:
            # Read the position again once we hold the writer: another process may have applied the tail.
            position, adds_from = index.log_position(writer)
            if position < pruned_up_to(connection):
                raise _Gap
            rows = connection.execute(select(IndexLog.id, IndexLog.actor_id, IndexLog.op)
                                      .where(IndexLog.id > position).order_by(IndexLog.id)).all()
            if not rows:
                raise _NothingToDo
            top = rows[-1].id
            # "add" is only safe for rows a rebuild cannot have seen (see reindex_all).
            new_ids = {r.actor_id for r in rows if r.op == "add" and r.id > adds_from}
            other_ids = {r.actor_id for r in rows} - new_ids
            labels = taxonomy_labels(connection)
            with _bar(len(new_ids | other_ids), "Indexation") as bar:
                progress = bar.update if bar else None
                if len(new_ids) >= BULK_FROM:
                    index.add_segments(writer, build_segments(index.folder(writer), new_ids, progress))
                    new_ids = set()
                index.apply(writer, _operations(connection, new_ids, other_ids, labels), progress=progress)
            index.set_log_position(writer, top, adds_from)
    except _NothingToDo:
        return 0
    except _Gap:
        if not has_request_context():
            log.warning("index %s : journal purgé au-delà de sa position (%d) : reconstruction", index.path, position)
            return reindex_all()
        if not _rebuilding.is_set():  # the rebuild's own log line says it once
            rebuild_if_broken(current_app._get_current_object(), "Journal des modifications purgé au-delà de "
                                                                 f"la position {position} de l'index")
        return 0
    except IndexUnavailable as exc:
        if strict:
            raise IndexSyncError(head - position, f"index absent ou illisible ({exc}) ; "
                                                  f"lancez « repertoire reindex »") from exc
        log.warning("index indisponible : %d modification(s) en attente d'indexation", head - position)
        return 0
    except Exception as exc:  # a LockError after the timeout, a full disk…: the rows wait for the next look
        if strict:
            reason = (f"l'écrivain de l'index est pris par un autre processus depuis plus de {timeout:g} s"
                      if isinstance(exc, IndexLocked) else f"{type(exc).__name__} : {exc}")
            raise IndexSyncError(head - position, reason) from exc
        if not (quiet and isinstance(exc, IndexLocked)):
            log.warning("indexation différée : modifications %d à %d en attente", position + 1, head, exc_info=True)
        return 0
    heartbeat(index, top)
    return len(rows)


def pruned_up_to(connection) -> int:
    return connection.scalar(select(IndexPosition.position).where(IndexPosition.name == PRUNED)) or 0


_beats: dict[str, float] = {}


def heartbeat(index, position: int, force: bool = False):
    """Record this index's position (at most every ``HEARTBEAT_EVERY`` s), then prune the log."""
    name = index_name(index)
    now = time.monotonic()
    if not force and now - _beats.get(name, -HEARTBEAT_EVERY) < HEARTBEAT_EVERY:
        return
    _beats[name] = now
    try:
        _record(name, position)
        prune_log()
    except Exception:  # a read-only replica, a race with another process's first record: next time
        log.warning("position de l'index non enregistrée", exc_info=True)


def _record(name: str, position: int, keep_higher: bool = False):
    with db.engine.begin() as connection:
        row = connection.execute(select(IndexPosition.position).where(IndexPosition.name == name)).first()
        if row is None:
            try:
                with connection.begin_nested():
                    connection.execute(insert(IndexPosition).values(name=name, position=position, seen_at=utcnow()))
                return
            except IntegrityError:
                row = (0,)
        if keep_higher:
            position = max(position, row[0])
        connection.execute(update(IndexPosition).where(IndexPosition.name == name)
                           .values(position=position, seen_at=utcnow()))


def prune_log() -> int:
    """Delete the log rows older than ``KEEP_FOR`` that every index seen within ``LIVE_FOR`` has applied.

    Returns how many. The young rows stay for an index that has not recorded its position yet.
    """
    with db.engine.begin() as connection:
        lowest = connection.scalar(select(func.min(IndexPosition.position))
                                   .where(IndexPosition.name != PRUNED, IndexPosition.seen_at >= utcnow() - LIVE_FOR))
        upto = lowest and connection.scalar(select(func.max(IndexLog.id)).where(
            IndexLog.id <= lowest, IndexLog.created_at < utcnow() - KEEP_FOR))
    if not upto:
        return 0
    # Recorded first: an index behind it from now on knows it must be rebuilt.
    _record(PRUNED, upto, keep_higher=True)
    with db.engine.begin() as connection:
        return connection.execute(delete(IndexLog).where(IndexLog.id <= upto)).rowcount


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


class _Gap(Exception):
    pass


class IndexSyncError(RuntimeError):
    """Pending index changes could not be applied; the message says why, in French."""

    def __init__(self, waiting: int, reason: str):
        super().__init__(f"{waiting} modification(s) en attente d'indexation non appliquée(s) : {reason}.")


def reindex_all() -> int:
    """Rebuild the whole index in a new directory, swap it in, then catch up; return the count."""
    from . import get_index

    index = get_index()
    with db.engine.connect() as connection:
        high = log_head(connection)  # every change up to here is in what is read next
        published = connection.scalars(select(Actor.id).where(Actor.status == "published")).all()
    generation = index.new_generation()
    with index.writer(generation=generation) as writer:
        if published:
            with _bar(len(published), "Réindexation") as bar:
                index.add_segments(writer, build_segments(index.folder(writer), published,
                                                          bar.update if bar else None))
        with db.engine.connect() as connection:
            # Rows up to here may already be in the build: applied as updates, never as adds.
            adds_from = log_head(connection)
        index.set_log_position(writer, high, adds_from)
    index.activate(generation)
    apply_pending()  # changes committed while the new index was being built
    return len(published)


def check_index() -> dict[str, list[int]]:
    """Differences between the database and this server's index (empty lists: they agree)."""
    from . import get_index

    index = get_index()
    with Session(db.engine) as session:
        published = {actor_id: int(updated.timestamp() * 1_000_000) for actor_id, updated in
                     session.execute(select(Actor.id, Actor.updated_at).where(Actor.status == "published"))}
        position, _ = index.log_position()
        pending = session.scalar(select(func.count()).select_from(IndexLog).where(IndexLog.id > position))
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


def rebuild_if_broken(app, reason: str = "Index absent ou illisible") -> bool:
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
                app.logger.warning("%s dans %s : reconstruction depuis la base de données", reason, index.path)
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
