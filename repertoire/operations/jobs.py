"""Jobs: work too long for a request (a bulk action on 100,000 actors), queued here and done by a worker
(``repertoire/jobs.py``) in chunks, each committed with the job's progress.

The rules that make it safe:
- **one runner**: a worker claims a job atomically (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: one
  ``UPDATE … WHERE status = 'queued'``, writers being serialised) and writes its token in ``worker``;
- **exactly once per chunk**: a chunk's effects and the job's new progress are written in one transaction, and
  the progress only if the job is still this worker's (``advance``); otherwise the chunk is rolled back;
- **resumable**: a job "running" whose heartbeat (written with each chunk) is older than the stale delay was left
  by a killed worker; it is claimed again and continues from ``done``.

A kind of job (``JobKind``) gives ``chunk`` (do the work on some ids; return a ``ChunkDone``: the items it found,
kept in a ``job_chunk`` row, and the job's new small ``state``), ``finish`` (the summary, once all chunks are done,
from ``job_items``; it records the audit event) and optionally ``resume`` (before going on).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from flask_babel import gettext as _, ngettext
from sqlalchemy import Integer, and_, exists, func, insert, literal, or_, select, update

from ..database import insert_rows
from ..models import Actor, Job, JobChunk, JobItem, JobNetwork, User, utcnow
from . import OperationError
from .networks import network_ids_of

ACTIVE = ("queued", "running")


@dataclass
class ChunkDone:
    items: list  # what the chunk found, kept for ``finish`` (``job_items``)
    state: dict | None = None  # the job's new state (None: unchanged)


@dataclass
class JobKind:
    chunk: Callable  # (session, job, ids, user) -> ChunkDone
    finish: Callable  # (session, job, user) -> result summary (dict)
    resume: Callable | None = None  # (session, job) before the first chunk of a run
    chunk_setting: str | None = None  # the setting of its own chunk size, if not REPERTOIRE_JOBS_CHUNK
    whole: bool = False  # every item in one chunk, one transaction (an import: all or nothing)
    selection: Callable | None = None  # (job) -> select of the ids of a job queued by ``queue_deferred``


KINDS: dict[str, JobKind] = {}


def register_kind(name: str, kind: JobKind):
    KINDS[name] = kind


class JobLost(Exception):
    """The job is no longer this worker's (cancelled, or taken over after a stale heartbeat)."""


class SelectionChanged(OperationError):
    """The selection no longer has the number of actors confirmed (``total``: how many it has now)."""

    def __init__(self, total: int):
        super().__init__(_("La sélection a changé depuis l'affichage : vérifiez-la de nouveau."))
        self.total = total


def queue_job(session, kind: str, params: dict, selected, user, networks: list[int],
              expected: int | None = None) -> Job:
    """Queue a job on ``selected`` (a select of actor ids, or a list of them), whose ids are written into
    ``job_item`` by one INSERT … SELECT (no id list in Python); ``expected``: how many the confirmation showed
    (``SelectionChanged`` if they differ now). ``networks`` is the scope of who asked (empty: everything). The
    worker starts after the commit (``repertoire/jobs.py``)."""
    if kind not in KINDS:
        raise OperationError(_("Type de tâche inconnu."))
    job = Job(kind=kind, params=dict(params), status="queued", done=0, total=0, cursor=0,
              user_id=getattr(user, "id", None), networks=sorted(set(networks)), created_at=utcnow(),
              worker="", attempts=0, state={}, error="")
    session.add(job)
    session.flush()
    if isinstance(selected, (list, tuple, set)):
        ids = sorted(set(selected))
        # straight through the driver: SQLAlchemy's per-row handling costs ~0.6 s for 100,000 ids (an undo's)
        insert_rows(session.connection(), JobItem.__table__, ("job_id", "actor_id"), [(job.id, i) for i in ids])
        total = len(ids)
    else:
        chosen = selected.order_by(None).subquery()
        total = session.execute(insert(JobItem.__table__).from_select(
            ["job_id", "actor_id"], select(literal(job.id, Integer), list(chosen.c)[0]))).rowcount
        if total is None or total < 0:  # a driver that does not tell: counted over the job's index range
            total = session.scalar(select(func.count()).select_from(JobItem).where(JobItem.job_id == job.id))
    if expected is not None and total != expected:
        raise SelectionChanged(total)
    if not total:
        raise OperationError(_("Aucune fiche sélectionnée."))
    job.total = total
    session.add_all(JobNetwork(job_id=job.id, network_id=n) for n in job.networks)
    session.flush()
    session.info["jobs_queued"] = True
    return job


def queue_deferred(session, kind: str, params: dict, total: int, until: int, user, networks: list[int],
                   digest: int | None = None) -> Job:
    """Queue a job on a selection of ``total`` actors counted now, whose ids the worker freezes before its first
    chunk (``freeze_items``: its kind's ``selection``, bounded to the actors that existed when it was queued, ids
    up to ``until``; ``digest``: the sum of their ids): a request only queues, whatever the selection's size."""
    if kind not in KINDS or KINDS[kind].selection is None:
        raise OperationError(_("Type de tâche inconnu."))
    if not total:
        raise OperationError(_("Aucune fiche sélectionnée."))
    job = Job(kind=kind, params=dict(params), status="queued", done=0, total=total, cursor=0,
              user_id=getattr(user, "id", None), networks=sorted(set(networks)), created_at=utcnow(),
              worker="", attempts=0, state={"until": until, "digest": digest}, error="")
    session.add(job)
    session.flush()
    session.add_all(JobNetwork(job_id=job.id, network_id=n) for n in job.networks)
    session.flush()
    session.info["jobs_queued"] = True
    return job


def needs_freezing(job: Job) -> bool:
    return "until" in (job.state or {})


def freeze_items(session, job: Job, worker: str) -> None:
    """Write a deferred job's ids into ``job_item`` (one INSERT … SELECT), in the caller's transaction, with the
    job's state cleared, if it is still this worker's (else ``JobLost``). Never more actors than confirmed: a
    selection grown since (an actor edited into it) stops the job before anything is done (``OperationError``);
    one that lost some (an actor edited out of it, or out of the scope) goes on with the others, its total
    lowered. A worker killed before the commit leaves nothing: the next one freezes again."""
    chosen = KINDS[job.kind].selection(job).order_by(None).subquery()
    total = session.execute(insert(JobItem.__table__).from_select(
        ["job_id", "actor_id"], select(literal(job.id, Integer), list(chosen.c)[0]))).rowcount
    if total is None or total < 0:
        total = session.scalar(select(func.count()).select_from(JobItem).where(JobItem.job_id == job.id))
    if total > job.total:
        raise OperationError(ngettext(
            "La sélection a changé entre la confirmation et le début de la tâche (%(num)d fiche au lieu de "
            "%(expected)d) : rien n'a été fait ; vérifiez-la de nouveau depuis la liste des fiches.",
            "La sélection a changé entre la confirmation et le début de la tâche (%(num)d fiches au lieu de "
            "%(expected)d) : rien n'a été fait ; vérifiez-la de nouveau depuis la liste des fiches.",
            total, expected=job.total))
    digest = (job.state or {}).get("digest")
    if digest is not None and _swapped(session, job, total, digest):
        raise OperationError(_("Des fiches sont entrées dans la sélection entre la confirmation et le début de la "
                               "tâche : rien n'a été fait ; vérifiez-la de nouveau depuis la liste des fiches."))
    changed = session.execute(update(Job).where(Job.id == job.id, Job.worker == worker, Job.status == "running",
                                                Job.done == 0).values(state={}, total=total, heartbeat_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise JobLost(job.id)


def _swapped(session, job: Job, total: int, digest: int) -> bool:
    """Whether actors may have entered the selection since its confirmation (others leaving it: the same count):
    the ids frozen do not sum as the confirmed ones did; with fewer, an actor among them written since then
    (edited into it, maybe)."""
    frozen = session.scalar(select(func.coalesce(func.sum(JobItem.actor_id), 0)).where(JobItem.job_id == job.id))
    if total == job.total:
        return int(frozen) != digest
    return session.scalar(select(JobItem.actor_id).join(Actor, Actor.id == JobItem.actor_id)
                          .where(JobItem.job_id == job.id, Actor.updated_at > job.created_at).limit(1)) is not None


def job_actor_ids(job: Job):
    """A select of the ids of the job's confirmed selection."""
    return select(JobItem.actor_id).where(JobItem.job_id == job.id)


def next_ids(session, job: Job, size: int) -> list[int]:
    """The next ``size`` ids of the job's selection after its cursor (an index range, whatever the progress)."""
    return list(session.scalars(select(JobItem.actor_id).where(JobItem.job_id == job.id,
                                                               JobItem.actor_id > job.cursor)
                                .order_by(JobItem.actor_id).limit(size)))


def active_job_like(session, kind: str, params: dict, user, total: int | None = None) -> Job | None:
    """A job of ``user`` still waiting or running with the same kind and parameters (and ``total`` actors, if
    given), if there is one."""
    query = select(Job).where(Job.status.in_(ACTIVE), Job.kind == kind, Job.user_id == getattr(user, "id", None))
    if total is not None:
        query = query.where(Job.total == total)
    for job in session.scalars(query.order_by(Job.id)):
        if job.params == params:
            return job
    return None


# jobs only who queued them sees (an import's check and the import: their file, their report)
PRIVATE_KINDS = ("import.check", "import.apply")


def visible_jobs(session, user):
    """A select of the jobs ``user`` may see: all for admins and coordinators bound to no network; for a
    network's coordinator, those whose whole scope is within their networks; a private kind's, only its own."""
    mine = network_ids_of(session, user)
    query = select(Job).where(or_(Job.kind.notin_(PRIVATE_KINDS), Job.user_id == getattr(user, "id", None)))
    if mine:
        query = query.where(exists().where(JobNetwork.job_id == Job.id),
                            ~exists().where(JobNetwork.job_id == Job.id, JobNetwork.network_id.notin_(mine)))
    return query


def may_see_job(session, user, job: Job) -> bool:
    if job.kind in PRIVATE_KINDS and job.user_id != getattr(user, "id", None):
        return False
    mine = network_ids_of(session, user)
    return not mine or (bool(job.networks) and set(job.networks) <= set(mine))


def cancel_job(session, job: Job) -> None:
    """Cancel a job still waiting (a running one goes to its end: its chunks are committed)."""
    changed = session.execute(update(Job).where(Job.id == job.id, Job.status == "queued")
                              .values(status="cancelled", finished_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount
    session.expire(job)
    if not changed:
        raise OperationError(_("Cette tâche a déjà commencé : elle ne peut plus être annulée."))


def beat(connection, job_id: int, worker: str) -> bool:
    """Say, on a connection of its own, that the job is still this worker's and alive (a chunk longer than the
    stale delay: a whole import); the caller commits. False: the job is no longer this worker's."""
    return bool(connection.execute(update(Job).where(Job.id == job_id, Job.worker == worker,
                                                     Job.status == "running").values(heartbeat_at=utcnow())).rowcount)


def is_stale(job: Job, stale_after: float) -> bool:
    return job.status == "running" and (job.heartbeat_at is None
                                        or job.heartbeat_at < utcnow() - timedelta(seconds=stale_after))


def claim_job(session, worker: str, stale_after: float) -> int | None:
    """Take the oldest queued job, or a running one left by a dead worker; return its id (None: nothing to do).
    Two workers never get the same job. The caller commits at once."""
    now = utcnow()
    claimable = or_(Job.status == "queued",
                    and_(Job.status == "running", or_(Job.heartbeat_at.is_(None),
                                                      Job.heartbeat_at < now - timedelta(seconds=stale_after))))
    values = {"status": "running", "worker": worker, "heartbeat_at": now, "attempts": Job.attempts + 1,
              "started_at": func.coalesce(Job.started_at, now)}
    if session.connection().dialect.name == "postgresql":
        job_id = session.scalar(select(Job.id).where(claimable).order_by(Job.id).limit(1)
                                .with_for_update(skip_locked=True))
        if job_id is None:
            return None
        session.execute(update(Job).where(Job.id == job_id).values(**values)
                        .execution_options(synchronize_session=False))
        return job_id
    # SQLite: the UPDATE takes the database's one write lock; a second worker's waits, then finds it taken
    first = select(Job.id).where(claimable).order_by(Job.id).limit(1).scalar_subquery()
    return session.scalar(update(Job).where(Job.id == first, claimable).values(**values).returning(Job.id)
                          .execution_options(synchronize_session=False))


def advance(session, job: Job, worker: str, ids: list[int], chunk: ChunkDone) -> None:
    """Record a chunk done on ``ids`` (its items, the new progress, cursor and state) in the chunk's transaction,
    if the job is still this worker's (else ``JobLost``: the caller rolls the chunk back)."""
    values = {"done": job.done + len(ids), "cursor": max(ids), "heartbeat_at": utcnow()}
    if chunk.state is not None:
        values["state"] = chunk.state
    changed = session.execute(update(Job).where(Job.id == job.id, Job.worker == worker, Job.status == "running",
                                                Job.cursor == job.cursor)
                              .values(**values).execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise JobLost(job.id)
    if chunk.items:
        session.add(JobChunk(job_id=job.id, position=job.done, items=chunk.items))
        session.flush()


def job_items(session, job: Job) -> list:
    """Every item the job's committed chunks found, in order."""
    items = []
    for rows in session.scalars(select(JobChunk.items).where(JobChunk.job_id == job.id)
                                .order_by(JobChunk.position)):
        items += rows
    return items


def complete(session, job_id: int, worker: str, status: str, result: dict | None = None, error: str = ""):
    changed = session.execute(update(Job).where(Job.id == job_id, Job.worker == worker, Job.status == "running")
                              .values(status=status, result=result, error=error[:2000], finished_at=utcnow(),
                                      heartbeat_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise JobLost(job_id)


def job_user(session, job: Job) -> User | None:
    return session.get(User, job.user_id) if job.user_id else None


def export_path(instance_path: str, job: Job) -> str:
    """Where an export job writes its file (private, under the instance folder)."""
    return os.path.join(instance_path, "jobs", f"job-{job.id}.csv")
