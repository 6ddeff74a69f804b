"""The audit log: every coordinator's and admin's action, append-only; undoing the actions that can be undone."""
from __future__ import annotations

import json
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, false, select, text, update
from sqlalchemy.exc import IntegrityError

from ..models import (Activity, Actor, AuditEvent, AuditEventNetwork, ChangeRequest, Domain, Kind, Membership,
                      User, utcnow)

from . import OperationError

UNDO_LOCK = 0x554E444F  # PostgreSQL advisory lock key (with the event id) serialising undos
UNDOABLE = ("term.merge", "term.retire", "bulk.archive", "bulk.network")


def _plain(value):
    """A JSON-safe copy (dates as ISO strings)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)))


def _describe(session, target) -> tuple[str, int | None, str, list[int]]:
    """(type, id, label, networks of the target actor) of what an action was about."""
    if target is None:
        return "", None, "", []
    if isinstance(target, tuple):
        kind, target_id, label = target
        return kind, target_id, str(label)[:300], []
    if isinstance(target, ChangeRequest):
        kind, target_id, label, networks = _describe(session, target.actor)
        return "request", target.id, label, networks
    if isinstance(target, Actor):
        from .networks import networks_holding
        networks = list(session.scalars(select(Membership.network_id).where(Membership.actor_id == target.id)
                                        .order_by(Membership.position))) if target.id else []
        if target.id:  # the curating networks whose scope holds it (territory included): their journal shows it
            networks += networks_holding(session, target)
        return "actor", target.id, target.name[:300], networks
    if isinstance(target, User):  # no address kept: the journal shows the account's while it exists
        return "account", target.id, "", []
    if isinstance(target, (Kind, Domain, Activity)):
        return type(target).__tablename__, target.id, f"{target.label} ({target.slug})"[:300], []
    if isinstance(target, str):
        return "", None, target[:300], []
    # any other model object: its table and id
    kind = getattr(target, "__tablename__", type(target).__name__.lower())[:20]
    label = getattr(target, "name", None) or getattr(target, "label", None) or ""
    return kind, getattr(target, "id", None), str(label)[:300], []


def record_action(session, user, kind, target, before, after, networks):
    """Record one action: who (``user``, None for the command line), what (``kind``, ``target``: a model
    object or ``(type, id, label)``), the values ``before`` and ``after`` (JSON), the network actor ids it
    concerns (the target actor's networks are added). Returns the event (flushed)."""
    target_type, target_id, label, own = _describe(session, target)
    concerned = list(dict.fromkeys([int(n) for n in (networks or [])] + own))
    event = AuditEvent(created_at=utcnow(), user_id=getattr(user, "id", None), kind=kind[:40],
                       target_type=target_type, target_id=target_id, target_label=label,
                       before=_plain(before), after=_plain(after), networks=concerned)
    session.add(event)
    session.flush()
    session.add_all(AuditEventNetwork(network_id=n, event_id=event.id) for n in concerned)
    return event


def is_undone(session, event: AuditEvent) -> bool:
    return session.scalar(select(exists().where(AuditEvent.undo_of_id == event.id)))


def can_undo(session, event: AuditEvent) -> bool:
    return event.kind in UNDOABLE and not is_undone(session, event)


def undo_event(session, event: AuditEvent, user: User) -> AuditEvent:
    """Undo ``event`` once; the undo is itself an event. Actors changed again since the event keep their
    later values (they are counted as ``skipped`` in the undo's ``after``).

    The undo event's ``undo_of_id`` is unique: of two undos at once, the second fails on writing it and
    its transaction, changes included, is rolled back by the caller."""
    if event.kind not in UNDOABLE:
        raise OperationError(_("Cette action ne peut pas être annulée."))
    _lock_undos(session, event)
    if is_undone(session, event):
        raise OperationError(_("Cette action a déjà été annulée."))
    undone, skipped = _UNDO[event.kind](session, event, user)
    return record_undo(session, event, user, undone, skipped)


def record_undo(session, event: AuditEvent, user: User, undone: int, skipped: int) -> AuditEvent:
    """The undo's own event (once: ``OperationError`` if ``event`` is undone already)."""
    _lock_undos(session, event)
    if is_undone(session, event):
        raise OperationError(_("Cette action a déjà été annulée."))
    undo = AuditEvent(created_at=utcnow(), user_id=getattr(user, "id", None), kind="undo",
                      target_type=event.target_type,
                      target_id=event.target_id, target_label=event.target_label,
                      before={"event": event.id, "kind": event.kind}, after={"undone": undone, "skipped": skipped},
                      networks=list(event.networks or []), undo_of_id=event.id)
    session.add(undo)
    try:
        session.flush()
    except IntegrityError:  # undone by another request meanwhile: the caller rolls everything back
        raise OperationError(_("Cette action a déjà été annulée.")) from None
    session.add_all(AuditEventNetwork(network_id=n, event_id=undo.id) for n in undo.networks)
    session.flush()
    return undo


def _lock_undos(session, event: AuditEvent):
    """Hold the undos of ``event`` until this transaction ends: a second one waits, then finds it undone."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key, :event)"), {"key": UNDO_LOCK, "event": event.id})
    else:  # SQLite: a write takes the database's one write lock (this one changes no row: the triggers allow it)
        connection.execute(update(AuditEvent).where(AuditEvent.id == event.id, false()).values(kind=AuditEvent.kind))


def _undo_term_merge(session, event, user):
    from .actors import actor_input, update_actor
    from .taxonomy import TAXONOMIES
    from ..validation import Vocabulary
    name = event.before["taxonomy"]
    model = TAXONOMIES[name]
    source = session.scalar(select(model).where(model.slug == event.before["source"]))
    target = session.scalar(select(model).where(model.slug == event.before["target"]))
    source.retired = event.before.get("source_retired", False)
    session.flush()
    vocab = Vocabulary(session)
    had_target = set(event.before.get("had_target", []))
    undone = skipped = 0
    for actor_id in event.before["actors"]:
        actor = session.get(Actor, actor_id)
        data = actor_input(actor) if actor is not None else None
        if data is None:
            skipped += 1
            continue
        if name == "kind":
            if data.kind != target.slug:
                skipped += 1
                continue
            data.kind = source.slug
        else:
            field = "domains" if name == "domain" else "activities"
            values = getattr(data, field)
            if target.slug not in values or source.slug in values:
                skipped += 1
                continue
            values = values + [source.slug]
            if actor_id not in had_target:
                values.remove(target.slug)
            order = list(vocab.terms[name])
            setattr(data, field, sorted(values, key=order.index))
        update_actor(session, actor, data, vocab, user, action="undo")
        undone += 1
    return undone, skipped


def _undo_term_retire(session, event, user):
    from .taxonomy import TAXONOMIES
    model = TAXONOMIES[event.before["taxonomy"]]
    term = session.get(model, event.target_id)
    if term is None or not term.retired:
        return 0, 1
    term.retired = False
    return 1, 0


def undo_actor_ids(event: AuditEvent) -> list[int]:
    """The ids of the actors a bulk action changed (what its undo goes through)."""
    if event.kind == "bulk.archive":
        return sorted(int(i) for i, _status in event.before["actors"])
    return sorted(int(i) for i in event.before["actors"])


def undo_archive_batch(session, previous: dict[int, str], ids: list[int], user) -> list[int]:
    """Give back their ``previous`` status to those of ``ids`` still archived (not merged away); their ids."""
    from .actors import set_status
    from .bulk import lock_batch
    undone = []
    for actor in lock_batch(session, ids):
        if actor.status == "archived" and not actor.merged_into_id:
            set_status(session, actor, previous[actor.id], user, "undo")
            undone.append(actor.id)
    session.flush()
    return undone


def undo_network_batch(session, network_id: int, ids: list[int], user, vocab=None) -> list[int]:
    """Take those of ``ids`` still members of the network out of it; their ids. An actor whose entry can no
    longer be saved as it is (another of its links names an actor withdrawn since: ``LinkProblem``) keeps its
    values and is not counted, rather than stopping the undo of the others."""
    from .actors import actor_input
    from .bulk import lock_batch, update_or_skip
    from ..validation import Vocabulary
    vocab = vocab or Vocabulary(session)
    network = session.get(Actor, network_id)
    undone = []
    for actor in lock_batch(session, ids):
        data = actor_input(actor)
        kept = [n for n in data.networks if network is None or n["network"] != network.slug]
        if len(kept) == len(data.networks):
            continue
        data.networks = kept
        if update_or_skip(session, actor, data, vocab, user, "undo"):
            undone.append(actor.id)
    session.flush()
    return undone


def _undo_bulk_archive(session, event, user):
    previous = dict((int(i), status) for i, status in event.before["actors"])
    ids = sorted(previous)
    undone = 0
    for start in range(0, len(ids), 500):
        undone += len(undo_archive_batch(session, previous, ids[start:start + 500], user))
    return undone, len(ids) - undone


def _undo_bulk_network(session, event, user):
    from ..validation import Vocabulary
    vocab = Vocabulary(session)
    ids = undo_actor_ids(event)
    undone = 0
    for start in range(0, len(ids), 500):
        undone += len(undo_network_batch(session, event.before["network"], ids[start:start + 500], user, vocab))
    return undone, len(ids) - undone


_UNDO = {"term.merge": _undo_term_merge, "term.retire": _undo_term_retire,
         "bulk.archive": _undo_bulk_archive, "bulk.network": _undo_bulk_network}


# -- reading the log ---------------------------------------------------------

def networks_in_journal(session) -> list[int]:
    """The networks some event is filed under (what the journal's network filter can match): walked on the
    (network, event) key one network at a time, so that it costs the number of networks, not of events."""
    table = AuditEventNetwork.__table__.name
    return [row[0] for row in session.execute(text(
        f"WITH RECURSIVE found(id) AS (SELECT min(network_id) FROM {table} UNION ALL "
        f"SELECT (SELECT min(network_id) FROM {table} WHERE network_id > found.id) FROM found "
        f"WHERE found.id IS NOT NULL) SELECT id FROM found WHERE id IS NOT NULL"))]


def audit_query(network: int | None = None, user: int | str | None = None, kind: str | None = None,
                since: datetime | None = None, until: datetime | None = None, before: int | None = None):
    """The events matching the filters, newest first, for keyset paging (``before``: the last id shown).

    Each filter has its index ending in the id: (network, event), (user, id), (kind, id), created_at.
    ``user`` "cli" is the command line."""
    query = select(AuditEvent)
    if network is not None:
        query = query.join(AuditEventNetwork, AuditEventNetwork.event_id == AuditEvent.id).where(
            AuditEventNetwork.network_id == network)
    if user == "cli":
        query = query.where(AuditEvent.user_id.is_(None))
    elif user is not None:
        query = query.where(AuditEvent.user_id == user)
    if kind:
        query = query.where(AuditEvent.kind == kind)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    key = AuditEventNetwork.event_id if network is not None else AuditEvent.id  # walk the filter's index
    if before is not None:
        query = query.where(key < before)
    return query.order_by(key.desc())


def audit_events(session, limit: int, networks: list[int] | None = None, **filters) -> list[AuditEvent]:
    """The newest ``limit`` events matching the filters (``audit_query``'s), newest first; with ``networks``
    (a network coordinator's), only the events concerning one of them: each network's index is walked for
    ``limit`` ids (a keyset page each, however many events the journal holds), the pages merged."""
    if networks is None:
        return list(session.scalars(audit_query(**filters).limit(limit)))
    network = filters.pop("network", None)
    if network is not None:  # one of theirs, or nothing
        networks = [network] if network in networks else []
    ids: set[int] = set()
    for network in networks:
        ids.update(session.scalars(audit_query(network=network, **filters)
                                   .with_only_columns(AuditEventNetwork.event_id).limit(limit)))
    ids = sorted(ids, reverse=True)[:limit]
    if not ids:
        return []
    found = {e.id: e for e in session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


ACTOR_LISTS = ("actors", "had_target")  # the keys of an event's values listing actor ids (or [id, …] rows)
SCOPE_READ_ABOVE = 2000  # more ids than this: the scope's ids read once rather than the ids checked by chunks


def event_for_networks(session, event: AuditEvent, networks: list[int] | None) -> tuple[dict, dict, int]:
    """``event``'s values (before, after) as a coordinator of ``networks`` may read them (None: everything):
    a list of actors (a bulk action, a term merged) cut to the actors within their networks' scope now, with
    ``actors_outside_scope``: how many others; and that number in all (0 when nothing was cut)."""
    values = [event.before, event.after]
    if networks is None or not any(isinstance(v, dict) and isinstance(v.get(k), list)
                                   for v in values for k in ACTOR_LISTS):
        return event.before, event.after, 0
    from .networks import scope_of_networks

    def actor_id(item):
        return int(item[0] if isinstance(item, (list, tuple)) else item)

    ids = {actor_id(item) for v in values if isinstance(v, dict) for k in ACTOR_LISTS
           if isinstance(v.get(k), list) for item in v[k]}
    scope = scope_of_networks(networks)
    if len(ids) > SCOPE_READ_ABOVE:
        inside = ids & set(session.scalars(select(Actor.id).where(scope)))
    else:
        ordered, inside = sorted(ids), set()
        for start in range(0, len(ordered), 500):
            inside.update(session.scalars(select(Actor.id).where(Actor.id.in_(ordered[start:start + 500]), scope)))
    hidden = 0
    cut = []
    for value in values:
        if not isinstance(value, dict):
            cut.append(value)
            continue
        value = dict(value)
        for key in ACTOR_LISTS:
            if isinstance(value.get(key), list):
                kept = [item for item in value[key] if actor_id(item) in inside]
                if len(kept) < len(value[key]):
                    value[f"{key}_outside_scope"] = len(value[key]) - len(kept)
                    hidden = max(hidden, len(value[key]) - len(kept))
                value[key] = kept
        cut.append(value)
    return cut[0], cut[1], hidden


def event_concerns(session, event: AuditEvent, networks: list[int]) -> bool:
    """Whether ``event`` concerns one of ``networks`` (what a network coordinator's journal shows)."""
    return bool(networks) and session.scalar(select(exists().where(
        AuditEventNetwork.event_id == event.id, AuditEventNetwork.network_id.in_(networks))))
