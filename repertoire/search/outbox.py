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
import logging
import os
import socket
import threading
import time
from contextlib import nullcontext
from contextvars import ContextVar
from datetime import timedelta

from flask import current_app, has_app_context, has_request_context
from flask_babel import ngettext
from sqlalchemy import delete, event, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..database import insert_rows
from ..extensions import db
from ..models import Actor, ActorCountry, ActorTown, IndexLog, IndexPosition, utcnow
from ..records import published_records
from .documents import PublishedDocuments, index_document, taxonomy_labels
from .engine import IndexUnavailable, WriterBusy

log = logging.getLogger(__name__)

#: A callable ``(length, label) -> context manager with update(n)``; the CLI sets it
#: to show progress bars on a terminal.
progress_bar: ContextVar = ContextVar("progress_bar", default=None)

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


def _upserts_and_deletions(changes, connection, actor_ids: set, labels, progress=None):
    """Bring these actors (perhaps in the index) in line with the database: upsert the published, delete the rest."""
    seen = set()
    documents = []
    for record in published_records(connection, actor_ids):
        seen.add(record.id)
        documents.append(index_document(record, labels))
        if len(documents) == 500:
            changes.upsert(documents)
            documents = []
    changes.upsert(documents)
    changes.delete(actor_ids - seen)
    if progress:
        progress(len(actor_ids))


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
    return f"{socket.gethostname()}:{os.path.realpath(index.location)}"[:300]


def apply_pending(timeout: float = 30.0, quiet: bool = False, strict: bool = False) -> int:
    """Apply the log rows past this index's position; return how many.

    ``quiet``: another process holding the writer is not worth a warning (it is applying them).
    A failure leaves the rows for the next look and is logged; with ``strict`` it raises ``IndexSyncError``.
    """
    from . import get_index

    index = get_index()
    try:
        position, _ = index.applied_position()
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
        with index.changes(timeout=timeout) as changes, db.engine.connect() as connection:
            # The position as read once we hold the writer: another process may have applied the tail.
            position, adds_from = changes.position
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
            with _bar(len(new_ids | other_ids), "Indexation") as bar:
                progress = bar.update if bar else None
                changes.add(new_ids, PublishedDocuments(connection), progress)
                _upserts_and_deletions(changes, connection, other_ids, taxonomy_labels(connection), progress)
            changes.set_position(top, adds_from)
    except _NothingToDo:
        return 0
    except _Gap:
        if not has_request_context():
            log.warning("index %s : journal purgé au-delà de sa position (%d) : reconstruction",
                        index.location, position)
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
    except Exception as exc:  # WriterBusy after the timeout, a full disk…: the rows wait for the next look
        if strict:
            reason = (f"l'écrivain de l'index est pris par un autre processus depuis plus de {timeout:g} s"
                      if isinstance(exc, WriterBusy) else f"{type(exc).__name__} : {exc}")
            raise IndexSyncError(head - position, reason) from exc
        if not (quiet and isinstance(exc, WriterBusy)):
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


class _NothingToDo(Exception):
    pass


class _Gap(Exception):
    pass


class IndexSyncError(RuntimeError):
    """Pending index changes could not be applied; the message says why, in French."""

    def __init__(self, waiting: int, reason: str):
        super().__init__(ngettext("%(num)d modification en attente d'indexation non appliquée : %(reason)s.",
                                  "%(num)d modifications en attente d'indexation non appliquées : %(reason)s.",
                                  waiting, reason=reason))


def reindex_all() -> int:
    """Rebuild the whole index aside, swap it in, then catch up; return the count."""
    from . import get_index

    index = get_index()
    with db.engine.connect() as connection:
        high = log_head(connection)  # every change up to here is in what is read next
        published = connection.scalars(select(Actor.id).where(Actor.status == "published")).all()
    with index.rebuild() as changes:
        if published:
            with _bar(len(published), "Réindexation") as bar, db.engine.connect() as connection:
                changes.add(published, PublishedDocuments(connection), bar.update if bar else None)
        with db.engine.connect() as connection:
            # Rows up to here may already be in the build: applied as updates, never as adds.
            adds_from = log_head(connection)
        changes.set_position(high, adds_from)
    apply_pending()  # changes committed while the new index was being built
    return len(published)


def check_index() -> dict[str, list[int]]:
    """Differences between the database and this server's index (empty lists: they agree)."""
    from . import get_index

    index = get_index()
    with Session(db.engine) as session:
        published = {actor_id: int(updated.timestamp() * 1_000_000) for actor_id, updated in
                     session.execute(select(Actor.id, Actor.updated_at).where(Actor.status == "published"))}
        position, _ = index.applied_position()
        pending = session.scalar(select(func.count()).select_from(IndexLog).where(IndexLog.id > position))
    indexed = index.indexed()
    return {
        "missing": sorted(set(published) - set(indexed)),
        "unpublished_in_index": sorted(set(indexed) - set(published)),
        "duplicated": sorted(i for i, values in indexed.items() if len(values) > 1),
        "stale": sorted(i for i, ts in published.items() if i in indexed and indexed[i][-1] != ts),
        "pending_tasks": [pending] if pending else [],
    }


_rebuilding = threading.Event()


def rebuild_if_broken(app, reason: str = "Index absent ou illisible") -> bool:
    """Start rebuilding a missing or unreadable index in the background (once, across processes)."""
    if _rebuilding.is_set():
        return True
    index = app.extensions["repertoire.index"]
    os.makedirs(index.location, exist_ok=True)
    lock = open(os.path.join(index.location, "rebuild.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # another process is rebuilding
        lock.close()
        return True
    _rebuilding.set()

    def work():
        try:
            with app.app_context():
                app.logger.warning("%s dans %s : reconstruction depuis la base de données", reason, index.location)
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
