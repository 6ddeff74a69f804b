"""Bulk actions on a back-office selection of actors: archive, add to a network, export — each one event
in the audit log (archive and network can be undone from it).

They run as jobs (``operations/jobs.py``): ``queue_bulk`` freezes the confirmed selection's ids in ``job_item``
(one INSERT … SELECT over the filtered selection, checked against the count confirmed); the worker calls
each kind's ``chunk`` on 500 ids at a time (each chunk committed with the job's progress) and its ``finish``, which
records the one audit event of the whole action. ``bulk_archive`` and ``bulk_add_to_network`` do all of it in the
caller's transaction."""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Integer, case, func, literal_column, or_, select, text, union_all, update

from ..files import private_dir, private_open, remove_older_than
from ..models import STATUSES, Actor, AuditEvent, Job, Kind, Membership, NetworkActor, User
from ..text import fold_words
from ..validation import Vocabulary

from . import OperationError
from .actors import actor_input, set_status, update_actor
from .partnerships import LinkProblem
from .audit import (_lock_undos, is_undone, record_action, record_undo, undo_archive_batch,
                    undo_network_batch)
from .jobs import (ACTIVE, ChunkDone, JobKind, SelectionChanged, active_job_like, export_path, job_actor_ids,
                   job_items, queue_deferred, queue_job, register_kind)
from .networks import curating_networks_of, scope_keys, scope_of_networks

BULK_KINDS = ("bulk.archive", "bulk.network", "bulk.export")
EXPORT_KEPT_DAYS = 7  # an export job's file is removed by the first export a week later

BATCH = 500


def _batches(session, ids: list[int]):
    """The actors of ``ids``, 500 at a time, locked; each batch flushed and let go before the next
    (one transaction for all: a failure anywhere leaves nothing changed)."""
    ids = sorted(ids)
    for start in range(0, len(ids), BATCH):
        yield lock_batch(session, ids[start:start + BATCH])
        session.flush()


def lock_batch(session, ids: list[int]) -> list[Actor]:
    """Lock these actors' rows as ``lock_actors`` does, a batch at a time (in id order against deadlocks),
    then read them afresh."""
    if session.connection().dialect.name == "postgresql":
        session.execute(select(Actor.id).where(Actor.id.in_(ids)).order_by(Actor.id).with_for_update())
    else:  # SQLite: any write takes the database's one write lock
        session.execute(update(Actor).where(Actor.id.in_(ids)).values(status=Actor.status)
                        .execution_options(synchronize_session=False))
    return session.scalars(select(Actor).where(Actor.id.in_(ids)).order_by(Actor.id)
                           .execution_options(populate_existing=True)).all()


# -- the actors list's selection ------------------------------------------------

IMPACT_NAMED_UP_TO = 2000  # actors: a larger selection's networks are not counted on its confirmation page


def selection_ids(selection: dict, network_ids, until: int | None = None):
    """A select of the ids of the actors list's selection (``selection``: its filters, status and words of the
    name) within the scope of ``network_ids`` (empty: everything), as the list shows it; ``until``: only the
    actors that existed then (ids up to it)."""
    query = select(Actor.id)
    if network_ids:
        query = query.where(scope_of_networks(network_ids))
    if selection.get("status") in STATUSES:
        query = query.where(Actor.status == selection["status"])
    if selection.get("q"):
        query = query.where(Actor.name_sort.contains(fold_words(selection["q"])))
    if until is not None:
        query = query.where(Actor.id <= until)
    return query


def _counted(selection: dict, network_ids):
    """The selection's ids as the actors list counts them: on the scope's rows alone for a network's coordinator."""
    if not network_ids:
        return selection_ids(selection, network_ids).subquery()
    status = selection.get("status") if selection.get("status") in STATUSES else None
    words = fold_words(selection["q"]) if selection.get("q") else None
    counted = scope_keys(network_ids, status, words).order_by(None).with_only_columns(NetworkActor.actor_id)
    return (counted.distinct() if len(list(network_ids)) > 1 else counted).subquery()


def selection_count(session, selection: dict, network_ids) -> int:
    """How many actors the selection holds now: one COUNT (as the actors list counts)."""
    return session.scalar(select(func.count()).select_from(_counted(selection, network_ids)))


def selection_digest(session, selection: dict, network_ids) -> tuple[int, int]:
    """(how many actors the selection holds now, the sum of their ids) in one pass: the worker checks that it
    acts on the same actors (``jobs.freeze_items``)."""
    counted = _counted(selection, network_ids)
    count, total = session.execute(select(func.count(), func.coalesce(func.sum(list(counted.c)[0]), 0))
                                   .select_from(counted)).one()
    return count, int(total)


def confirmation(session, selection: dict, network_ids, shown: int) -> dict:
    """What a confirmation page tells: how many actors (exact), and, for at most ``IMPACT_NAMED_UP_TO`` of them,
    in which networks (``selection_impact``; None above: not counted, the action is filed under each of them in
    the journal)."""
    count = selection_count(session, selection, network_ids)
    impact = selection_impact(session, selection_ids(selection, network_ids), shown) \
        if 0 < count <= IMPACT_NAMED_UP_TO else None
    return {"count": count, "impact": impact, "named_up_to": IMPACT_NAMED_UP_TO}


def _bulk_params(kind: str, selection: dict, network: Actor | None) -> dict:
    """A bulk job's parameters (its selection, and the network it adds to), its kind and network checked."""
    if kind not in BULK_KINDS:
        raise OperationError(_("Aucune fiche sélectionnée."))
    params = {"selection": selection}
    if kind == "bulk.network":
        check_network(network)
        params["network"] = network.id
    return params


def queue_selection(session, kind: str, selection: dict, user: User, networks: list[int],
                    network: Actor | None = None, expected: int | None = None) -> Job:
    """Queue the bulk action ``kind`` on the actors list's selection as confirmed (``expected`` actors:
    ``SelectionChanged`` if it has another number now). The request counts it only; the worker writes its ids
    (``jobs.freeze_items``: the actors that exist now, checked again against the count)."""
    params = _bulk_params(kind, selection, network)
    total, digest = selection_digest(session, selection, networks)
    if expected is not None and total != expected:
        raise SelectionChanged(total)
    same = active_job_like(session, kind, params, user, total)
    if same is not None:  # the confirmation sent twice (a double click, a replayed form): one job
        return same
    until = session.scalar(select(func.max(Actor.id)))
    return queue_deferred(session, kind, params, total, until or 0, user, networks, digest)


def _job_selection(job: Job):
    """The selection a job queued by ``queue_selection`` acts on (``jobs.freeze_items``)."""
    return selection_ids(job.params["selection"], job.networks, job.state["until"])


def _as_select(selected):
    """A select of actor ids: ``selected`` itself, or one over a list of ids."""
    if isinstance(selected, (list, tuple, set)):
        return select(Actor.id).where(Actor.id.in_(list(selected)))
    return selected.order_by(None)


def selection_impact(session, selected, shown: int | None = None) -> dict:
    """How many actors, and in which networks (name, how many of them are members), busiest first: only the
    ``shown`` busiest named if given (``network_count``: how many in all). ``selected``: a select of actor ids
    (the filtered selection, a job's items) or a list of ids; two grouped queries over it as a subquery,
    whatever its size."""
    selected = _as_select(selected)
    if selected.whereclause is None and selected.get_final_froms() == [Actor.__table__]:
        # every actor (the whole directory, no filter, no scope): every membership counts, no selection to build
        total = select(literal_column("0").label("network_id"), func.count().label("n")).select_from(Actor)
        grouped = select(Membership.network_id, func.count()).group_by(Membership.network_id)
    else:  # one statement, the selection computed once (a filter by name scans the actors once, not twice)
        chosen = selected.cte("selection").prefix_with("MATERIALIZED")
        total = select(literal_column("0").label("network_id"), func.count().label("n")).select_from(chosen)
        grouped = select(Membership.network_id, func.count()).where(
            Membership.actor_id.in_(select(list(chosen.c)[0]))).group_by(Membership.network_id)
    counts = dict(session.execute(union_all(total, grouped)).all())  # network ids start at 1
    count = counts.pop(0, 0)
    busiest = sorted(counts, key=lambda i: (-counts[i], i))[:shown] if shown is not None else list(counts)
    names = dict(session.execute(select(Actor.id, Actor.name).where(Actor.id.in_(busiest))).all()) \
        if busiest else {}
    return {"actors": count, "networks": sorted(((names.get(i, str(i)), counts[i]) for i in busiest),
                                                key=lambda x: (-x[1], x[0])),
            "network_count": len(counts), "network_ids": sorted(counts)}


def _archive(session, actors, user) -> list:
    previous = []
    for actor in actors:
        status = actor.status
        if set_status(session, actor, "archived", user, "archive"):
            previous.append([actor.id, status])
    return previous


def _record_archive(session, user, selected, selection, previous):
    impact = selection_impact(session, selected)
    return record_action(session, user, "bulk.archive", ("selection", None, _selection_label(selection)),
                         {"actors": previous, "selection": selection}, {"archived": len(previous)},
                         impact["network_ids"] + curating_networks_of(session, selected))


def bulk_archive(session, ids: list[int], user: User, selection: dict):
    """Archive every actor of ``ids`` not archived yet; the event keeps each one's previous status."""
    previous = []
    for actors in _batches(session, ids):
        previous += _archive(session, actors, user)
    return _record_archive(session, user, ids, selection, previous)


def check_network(network: Actor | None):
    if network is None or not network.is_published or network.merged_into_id or network.kind_slug != "reseau":
        raise OperationError(_("Le réseau doit être une fiche publiée."))


def update_or_skip(session, actor, data, vocab, user, action: str) -> bool:
    """``update_actor`` in a savepoint, for one actor of a batch: an entry that can no longer be saved as it is
    (another of its links names an actor withdrawn since: ``LinkProblem``) keeps its values (False) and the
    batch goes on with the others."""
    try:
        with session.begin_nested():  # its writes only are rolled back
            update_actor(session, actor, data, vocab, user, action=action)
    except LinkProblem:
        session.expire(actor)
        return False
    return True


def _add_to_network(session, actors, network, vocab, user) -> list[int]:
    """Add each of ``actors`` to ``network``; the ids added. An actor whose entry can no longer be saved as it is
    (another of its links names an actor withdrawn since: ``LinkProblem``) keeps its values and is not counted,
    rather than stopping the action for the others."""
    added = []
    for actor in actors:
        data = actor_input(actor)
        if actor.id == network.id or any(n["network"] == network.slug for n in data.networks):
            continue
        data.networks = data.networks + [{"network": network.slug, "since": None}]
        if update_or_skip(session, actor, data, vocab, user, "bulk-network"):
            added.append(actor.id)
    return added


def _record_network(session, user, network, selection, added, selected=None):
    """The event, filed under the network and the curating networks whose scope holds one of the actors
    (``selected``, a select of their ids, or else ``added``)."""
    return record_action(session, user, "bulk.network", network,
                         {"actors": added, "network": network.id, "selection": selection},
                         {"added": len(added)},
                         [network.id] + curating_networks_of(session, added if selected is None else selected))


def bulk_add_to_network(session, ids: list[int], network: Actor, user: User, selection: dict):
    """Make every actor of ``ids`` a member of ``network`` (a published actor, not one of them)."""
    check_network(network)
    vocab = Vocabulary(session)
    added = []
    for actors in _batches(session, ids):
        added += _add_to_network(session, actors, network, vocab, user)
    return _record_network(session, user, network, selection, added)


def record_export(session, user: User, ids: list[int], selection: dict):
    return record_action(session, user, "bulk.export", ("selection", None, _selection_label(selection)),
                         {"selection": selection}, {"exported": len(ids)},
                         selection_impact(session, ids)["network_ids"] + curating_networks_of(session, ids))


# -- as jobs -------------------------------------------------------------------

def queue_bulk(session, kind: str, selected, user: User, selection: dict, networks: list[int],
               network: Actor | None = None, expected: int | None = None) -> Job:
    """Queue the bulk action ``kind`` on the confirmed selection ``selected`` (a select of actor ids, or a list)
    of ``expected`` actors (``SelectionChanged`` if it has another number now); ``networks``: the scope of who
    asks."""
    params = _bulk_params(kind, selection, network)
    if expected is not None or isinstance(selected, (list, tuple, set)):
        total = expected if expected is not None else len(set(selected))
        same = active_job_like(session, kind, params, user, total)
        if same is not None:  # the confirmation sent twice (a double click, a replayed form): one job
            return same
    return queue_job(session, kind, params, selected, user, networks, expected)


def _job_actors(session, job: Job, ids: list[int]) -> list[Actor]:
    """The chunk's actors, locked, and still within the scope of who queued the job (a network's coordinator
    never acts on an actor that left their networks meanwhile)."""
    actors = lock_batch(session, ids)
    inside = _in_scope(session, job, ids)
    return actors if inside is None else [a for a in actors if a.id in inside]


def _in_scope(session, job: Job, ids: list[int]) -> set[int] | None:
    """Which of ``ids`` are within the job's network scope (None: a global job, all of them)."""
    if not job.networks:
        return None
    return set(session.scalars(select(Actor.id).where(Actor.id.in_(ids), scope_of_networks(job.networks))))


def _archive_chunk(session, job, ids, user):
    return ChunkDone(_archive(session, _job_actors(session, job, ids), user))


def _archive_finish(session, job, user):
    event = _record_archive(session, user, job_actor_ids(job), job.params["selection"], job_items(session, job))
    return {"event": event.id, "count": event.after["archived"]}


def _job_network(session, job) -> Actor:
    network = session.get(Actor, job.params["network"])
    check_network(network)
    return network


def _network_chunk(session, job, ids, user):
    network = _job_network(session, job)
    return ChunkDone(_add_to_network(session, _job_actors(session, job, ids), network, Vocabulary(session), user))


def _network_finish(session, job, user):
    network = session.get(Actor, job.params["network"])
    if network is None:
        raise OperationError(_("Le réseau doit être une fiche publiée."))
    event = _record_network(session, user, network, job.params["selection"], job_items(session, job),
                            job_actor_ids(job))
    return {"event": event.id, "count": event.after["added"], "network": network.name}


def _export_file(job) -> str:
    return export_path(current_app.instance_path, job)


def _export_resume(session, job):
    """Cut what a killed worker wrote after its last committed chunk."""
    path = _export_file(job)
    size = job.state.get("size", 0)
    if os.path.exists(path) and os.path.getsize(path) > size:
        with open(path, "r+b") as f:
            f.truncate(size)


def _export_chunk(session, job, ids, user):
    from ..interchange import CSV_COLUMNS, csv_row, spreadsheet_safe
    from ..serialize import actor_to_dict
    path = _export_file(job)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    size = job.state.get("size", 0)
    if size == 0:
        remove_older_than(os.path.dirname(path), EXPORT_KEPT_DAYS * 86400)  # the files of older exports
        buffer.write("\ufeff")
        writer.writeheader()
    rows = 0
    inside = _in_scope(session, job, ids)
    for actor in session.scalars(select(Actor).where(Actor.id.in_(ids)).order_by(Actor.id)):
        if inside is None or actor.id in inside:
            writer.writerow(spreadsheet_safe(csv_row(actor_to_dict(actor))))
            rows += 1
    data = buffer.getvalue().encode("utf-8")
    private_dir(os.path.dirname(path))
    with (private_open(path, "wb") if size == 0 else open(path, "r+b")) as f:
        f.seek(size)
        f.truncate()
        f.write(data)
    return ChunkDone([], {"size": size + len(data), "rows": job.state.get("rows", 0) + rows})


def _export_finish(session, job, user):
    rows = job.state.get("rows", 0)
    event = record_action(session, user, "bulk.export",
                          ("selection", None, _selection_label(job.params["selection"])),
                          {"selection": job.params["selection"]}, {"exported": rows},
                          selection_impact(session, job_actor_ids(job))["network_ids"]
                          + curating_networks_of(session, job_actor_ids(job)))
    return {"event": event.id, "count": rows, "file": True}


def export_file_of(job: Job) -> str | None:
    """The finished export's file, if it is there."""
    path = _export_file(job)
    return path if job.kind == "bulk.export" and job.status == "done" and os.path.exists(path) else None


def _published_networks(session):
    """A select of the published networks (kind « réseau », not merged away), on the (kind, status) index."""
    reseau = session.scalar(select(Kind.id).where(Kind.slug == "reseau"))
    return select(Actor).where(Actor.kind_id == reseau, Actor.status == "published",
                               Actor.merged_into_id.is_(None))


def network_choices(session, network_ids: list[int]):
    """The published networks among ``network_ids`` (a network coordinator's own: a few), by name."""
    if not network_ids:
        return []
    return session.scalars(_published_networks(session).where(Actor.id.in_(network_ids))
                           .order_by(Actor.name_sort, Actor.id)).all()


NETWORK_MATCHES = 20  # networks offered to choose from when a typed name matches several


@dataclass
class NetworkLookup:
    networks: list  # at most NETWORK_MATCHES published networks, by name
    total: int  # how many match in all


def find_networks(session, typed: str, limit: int = NETWORK_MATCHES) -> NetworkLookup:
    """The published networks a typed name designates: those of exactly this name (accents, case and
    punctuation aside) if there are any, else those of this acronym, else those whose name holds it (at most
    ``limit``, and how many in all). The exact name is a range of the ``name_sort`` index (« folded name \\x01
    spelling »); the rest reads the networks only (the (kind, status) index), never the whole directory."""
    folded = fold_words(typed or "")
    if not folded:
        return NetworkLookup([], 0)
    networks = _published_networks(session)
    exact = session.scalars(networks.where(Actor.name_sort >= f"{folded}\x01", Actor.name_sort < f"{folded}\x02")
                            .order_by(Actor.name_sort, Actor.id).limit(limit + 1)).all()
    if exact:
        return NetworkLookup(exact[:limit], len(exact))  # namesakes: a handful
    spelled = (typed or "").strip()
    acronym = spelled.casefold()
    # SQLite's lower() folds ASCII letters only: the acronym as typed, in capitals and in small letters too
    # (« cérès » finds « CÉRÈS » on both databases); the exact test is the casefold below
    is_acronym = or_(func.lower(Actor.acronym) == acronym,
                     Actor.acronym.in_(sorted({spelled, spelled.upper(), spelled.lower(), acronym})))
    condition = or_(is_acronym, Actor.name_sort.contains(folded, autoescape=True))
    # `|| ''`: SQLite would otherwise walk the whole name index for the order and the limit
    found = session.scalars(networks.where(condition)
                            .order_by(case((is_acronym, 0), else_=1), Actor.name_sort + "", Actor.id)
                            .limit(limit + 1)).all()
    acronyms = [n for n in found if n.acronym.casefold() == acronym]
    if acronyms:
        return NetworkLookup(acronyms[:limit], len(acronyms))
    total = len(found) if len(found) <= limit else session.scalar(
        select(func.count()).select_from(networks.where(condition).with_only_columns(Actor.id).subquery()))
    return NetworkLookup(found[:limit], total)


# -- undoing a bulk action, as a job too ---------------------------------------

UNDO_JOB = "bulk.undo"
UNDO_AS_JOB = ("bulk.archive", "bulk.network")  # the undoable actions that may touch thousands of actors


_CHANGED = {"bulk.archive": "archived", "bulk.network": "added"}  # how many actors it changed, in ``after``


def undo_in_job(event: AuditEvent) -> bool:
    """Whether undoing ``event`` is queued as a job (a bulk action that changed some actors) rather than done in
    the request (a term merged or retired, a bulk action that changed nothing). Reads the event's small
    ``after`` only."""
    return event.kind in UNDO_AS_JOB and bool((event.after or {}).get(_CHANGED[event.kind]))


def _undo_ids(session, event: AuditEvent):
    """A select of the ids of the actors the bulk action ``event`` changed, read from its ``before`` by the
    database (its JSON functions): 100,000 ids never come through Python to be queued."""
    if session.connection().dialect.name == "postgresql":
        ids = text("SELECT DISTINCT CASE json_typeof(item) WHEN 'array' THEN (item->>0)::integer "
                   "ELSE (item#>>'{}')::integer END AS actor_id FROM audit_event, "
                   "json_array_elements(audit_event.before->'actors') AS item WHERE audit_event.id = :event")
    else:
        ids = text("SELECT DISTINCT CASE json_type(value) WHEN 'array' THEN json_extract(value, '$[0]') "
                   "ELSE value END AS actor_id FROM audit_event, json_each(audit_event.before, '$.actors') "
                   "WHERE audit_event.id = :event")
    ids = ids.bindparams(event=event.id).columns(actor_id=Integer).subquery("undone")
    return select(ids.c.actor_id)


def active_undo_job(session, event: AuditEvent) -> Job | None:
    """The undo of ``event`` still waiting or running, if any (whoever queued it)."""
    for job in session.scalars(select(Job).where(Job.kind == UNDO_JOB, Job.status.in_(ACTIVE)).order_by(Job.id)):
        if job.params.get("event") == event.id:
            return job
    return None


def queue_undo(session, event: AuditEvent, user: User) -> Job:
    """Queue the undo of the bulk action ``event``: once (undone already: ``OperationError``; an undo of it
    waiting or running, from a replayed form or another coordinator at once: that job). The undos of one event
    are serialised (``_lock_undos``) until the commit. The job records the undo's event at its end, as the
    undo in a request does (an undo is never undone)."""
    if not undo_in_job(event):
        raise OperationError(_("Cette action ne peut pas être annulée."))
    _lock_undos(session, event)
    if is_undone(session, event):
        raise OperationError(_("Cette action a déjà été annulée."))
    running = active_undo_job(session, event)
    if running is not None:
        return running
    return queue_job(session, UNDO_JOB, {"event": event.id, "kind": event.kind}, _undo_ids(session, event), user, [])


def _undone_event(session, job: Job) -> tuple[AuditEvent, dict]:
    """The event a job undoes, and what its chunks need of it (read once per worker, not per chunk: a bulk
    action's values hold every actor of it)."""
    cache = session.info.setdefault("undo_jobs", {})
    event_id = job.params["event"]
    if event_id not in cache:
        cache.clear()
        event = session.get(AuditEvent, event_id)
        if event is None or event.kind not in UNDO_AS_JOB:
            raise OperationError(_("Cette action ne peut pas être annulée."))
        cache[event_id] = {"kind": event.kind, "network": event.before.get("network"),
                           "previous": dict((int(i), status) for i, status in event.before["actors"])
                           if event.kind == "bulk.archive" else None}
    return cache[event_id]


def _undo_chunk(session, job, ids, user):
    undone = _undone_event(session, job)
    if undone["kind"] == "bulk.archive":
        return ChunkDone(undo_archive_batch(session, undone["previous"], ids, user))
    return ChunkDone(undo_network_batch(session, undone["network"], ids, user))


def _undo_finish(session, job, user):
    event = session.get(AuditEvent, job.params["event"])
    undone = len(job_items(session, job))
    if job.done < job.total:  # stopped on an error: not the undo (done once, never undone), it may be queued again
        return {"count": undone, "skipped": 0, "undoes": event.id, "partial": True}
    undo = record_undo(session, event, user, undone, job.total - undone)
    return {"event": undo.id, "count": undone, "skipped": job.total - undone, "undoes": event.id}


register_kind(UNDO_JOB, JobKind(chunk=_undo_chunk, finish=_undo_finish))
register_kind("bulk.archive", JobKind(chunk=_archive_chunk, finish=_archive_finish, selection=_job_selection))
register_kind("bulk.network", JobKind(chunk=_network_chunk, finish=_network_finish, selection=_job_selection))
register_kind("bulk.export", JobKind(chunk=_export_chunk, finish=_export_finish, resume=_export_resume,
                                     selection=_job_selection))


def _selection_label(selection: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(selection.items()) if v) or _("toutes les fiches")
