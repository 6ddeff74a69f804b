"""The job worker: claims queued jobs (``operations/jobs.py``) and runs them chunk by chunk, one transaction each.

Two ways to run it:
- ``repertoire jobs work`` (a process beside gunicorn, as many as wanted; ``--once``: until the queue is empty);
- inline, for ``make run`` and small instances: with ``REPERTOIRE_JOBS_INLINE`` true (the default outside
  production), the commit that queued a job starts a thread of this process that works until the queue is empty.

A worker killed half-way leaves its job "running" with a heartbeat that grows stale
(``REPERTOIRE_JOBS_STALE_SECONDS``); the next worker, or the next inline thread (queuing a job, or opening the
job's page, starts one), takes it over and continues from its committed progress.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from . import import_report, operations  # noqa: F401 (import_report registers the import's kinds)
from .extensions import db
from .models import DuplicatePending, Job
from .operations.jobs import KINDS, JobLost
from .web.transactions import unit_of_work


def worker_token() -> str:
    return f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def settings() -> tuple[int, float]:
    config = current_app.config
    return int(config.get("REPERTOIRE_JOBS_CHUNK", 500)), float(config.get("REPERTOIRE_JOBS_STALE_SECONDS", 120))


def claim(worker: str) -> int | None:
    """Claim one job in a transaction of its own."""
    session = db.session
    session.rollback()  # the claim starts its transaction (SQLite: waits for the write lock, never a stale read)
    try:
        job_id = operations.claim_job(session, worker, settings()[1])
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return job_id


def run(job_id: int, worker: str) -> str:
    """Run a claimed job to its end; return its final status ("lost": another worker has it, or it was cancelled)."""
    session = db.session
    job = session.get(Job, job_id, populate_existing=True)
    kind = KINDS[job.kind]
    chunk_size = job.total if kind.whole else \
        int(current_app.config[kind.chunk_setting]) if kind.chunk_setting else settings()[0]
    try:
        if operations.needs_freezing(job):  # queued by a request that only counted: its ids first, committed
            with unit_of_work():
                operations.freeze_items(session, job, worker)
            job = session.get(Job, job_id, populate_existing=True)
        if kind.resume:
            kind.resume(session, job)
        while True:
            job = session.get(Job, job_id, populate_existing=True)
            ids = operations.next_ids(session, job, chunk_size) if job.done < job.total else []
            if not ids:
                break
            with unit_of_work(), _beating(job_id, worker, kind.whole):  # the chunk and its progress together
                chunk = kind.chunk(session, job, ids, operations.job_user(session, job))
                operations.advance(session, job, worker, ids, chunk)
        with unit_of_work():
            job = session.get(Job, job_id, populate_existing=True)
            result = kind.finish(session, job, operations.job_user(session, job))
            operations.complete(session, job_id, worker, "done", result)
        return "done"
    except JobLost:
        return "lost"
    except Exception as exc:  # a broken rule or a bug: what is committed stays, recorded so it can be undone
        session.rollback()
        current_app.logger.exception("job %s failed", job_id)
        return _fail(job_id, worker, kind, exc)


@contextmanager
def _beating(job_id: int, worker: str, whole: bool):
    """While a whole job's one chunk runs (an import: minutes), a thread keeps its heartbeat fresh on a connection
    of its own, every third of the stale delay, so that no other worker takes over a job still running."""
    if not whole:
        yield
        return
    stop, app = threading.Event(), current_app._get_current_object()
    every = max(0.05, settings()[1] / 3)

    def beat():
        with app.app_context():
            while not stop.wait(every):
                try:
                    with db.engine.begin() as connection:
                        if not operations.beat(connection, job_id, worker):
                            return
                except Exception:  # the database busy (SQLite: the import's own write lock): the next beat
                    app.logger.debug("job %s: heartbeat not written", job_id, exc_info=True)
    thread = threading.Thread(target=beat, name=f"repertoire-job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _fail(job_id: int, worker: str, kind, exc: Exception) -> str:
    session = db.session
    message = str(exc) if isinstance(exc, operations.OperationError) else repr(exc)
    result = None
    try:
        with unit_of_work():
            job = session.get(Job, job_id, populate_existing=True)
            if job.done:  # the chunks done are in the journal, and can be undone from it
                result = kind.finish(session, job, operations.job_user(session, job))
            operations.complete(session, job_id, worker, "failed", result, message)
    except JobLost:
        return "lost"
    except Exception:
        session.rollback()
        current_app.logger.exception("job %s: recording the failure failed", job_id)
        with unit_of_work():
            operations.complete(session, job_id, worker, "failed", None, message)
    return "failed"


def work(once: bool = False, poll: float = 2.0, stop: threading.Event | None = None) -> int:
    """Claim and run jobs; with ``once``, return when none is left. Returns how many jobs were run."""
    worker = worker_token()
    handled = 0
    while stop is None or not stop.is_set():
        job_id = claim(worker)
        if job_id is None:
            if once:
                break
            if drain_duplicates():  # a running worker's idle time; not ``once`` (an inline thread, a cron run)
                continue
            time.sleep(poll)
            continue
        run(job_id, worker)
        handled += 1
    db.session.remove()
    return handled


def drain_duplicates() -> int:
    """Between jobs, find the duplicate pairs a big write (a bulk job, a large import) left to compare after its
    commit: one committed chunk (``operations.drain_pending``); return how many actors were compared."""
    session = db.session
    session.rollback()
    if session.scalar(select(DuplicatePending.id).limit(1)) is None:  # nothing listed: no write lock taken
        session.rollback()
        return 0
    try:
        with unit_of_work():
            return operations.drain_pending(session)  # its default chunk, as the command's
    except Exception:  # the actors stay listed; the next idle turn or « repertoire duplicates refresh » takes them
        session.rollback()
        current_app.logger.exception("duplicate drain between jobs")
        return 0


# -- inline: a thread of the web process -----------------------------------

def start_inline(app) -> threading.Thread:
    """Work in a thread of this process until the queue is empty."""
    threads = app.extensions.setdefault("repertoire.jobs", [])
    threads[:] = [t for t in threads if t.is_alive()]
    thread = threading.Thread(target=_inline, args=(app,), name="repertoire-jobs", daemon=True)
    threads.append(thread)
    thread.start()
    return thread


def _inline(app):
    with app.app_context():
        try:
            work(once=True)
        except Exception:
            app.logger.exception("inline job worker")
        finally:
            db.session.remove()


def wait_inline(app):
    """Wait for this process's inline workers (tests, and a clean shutdown)."""
    for thread in list(app.extensions.get("repertoire.jobs", [])):
        thread.join()


def inline_enabled(app) -> bool:
    return bool(app.config.get("REPERTOIRE_JOBS_INLINE"))


@event.listens_for(Session, "after_commit")
def _start_after_commit(session):
    if session.info.pop("jobs_queued", False) and has_app_context() and inline_enabled(current_app):
        start_inline(current_app._get_current_object())


@event.listens_for(Session, "after_rollback")
def _forget_queued(session):
    session.info.pop("jobs_queued", None)
