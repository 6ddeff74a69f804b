"""Bulk actions on a back-office selection of actors: archive, add to a network, export — each one event
in the audit log (archive and network can be undone from it)."""
from __future__ import annotations

from collections import Counter

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..models import Actor, Membership, User
from ..validation import Vocabulary

from . import OperationError
from .actors import actor_input, set_status, update_actor
from .audit import record_action

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


def selection_impact(session, ids: list[int]) -> dict:
    """How many actors, and in which networks (name, how many of them are members), busiest first."""
    counts: Counter = Counter()
    for start in range(0, len(ids), BATCH):
        counts.update(dict(session.execute(select(Membership.network_id, func.count())
                                           .where(Membership.actor_id.in_(ids[start:start + BATCH]))
                                           .group_by(Membership.network_id)).all()))
    names = dict(session.execute(select(Actor.id, Actor.name).where(Actor.id.in_(list(counts)))).all()) \
        if counts else {}
    return {"actors": len(ids), "networks": sorted(((names.get(i, str(i)), n) for i, n in counts.items()),
                                                   key=lambda x: (-x[1], x[0])),
            "network_ids": sorted(counts)}


def bulk_archive(session, ids: list[int], user: User, selection: dict):
    """Archive every actor of ``ids`` not archived yet; the event keeps each one's previous status."""
    previous = []
    for actors in _batches(session, ids):
        for actor in actors:
            status = actor.status
            if set_status(session, actor, "archived", user, "archive"):
                previous.append([actor.id, status])
    impact = selection_impact(session, ids)
    return record_action(session, user, "bulk.archive", ("selection", None, _selection_label(selection)),
                         {"actors": previous, "selection": selection}, {"archived": len(previous)},
                         impact["network_ids"])


def bulk_add_to_network(session, ids: list[int], network: Actor, user: User, selection: dict):
    """Make every actor of ``ids`` a member of ``network`` (a published actor, not one of them)."""
    if not network.is_published or network.merged_into_id:
        raise OperationError(_("Le réseau doit être une fiche publiée."))
    vocab = Vocabulary(session)
    added = []
    for actors in _batches(session, ids):
        for actor in actors:
            data = actor_input(actor)
            if actor.id == network.id or any(n["network"] == network.slug for n in data.networks):
                continue
            data.networks = data.networks + [{"network": network.slug, "since": None}]
            update_actor(session, actor, data, vocab, user, action="bulk-network")
            added.append(actor.id)
    return record_action(session, user, "bulk.network", network,
                         {"actors": added, "network": network.id, "selection": selection},
                         {"added": len(added)}, [network.id])


def record_export(session, user: User, ids: list[int], selection: dict):
    record_action(session, user, "bulk.export", ("selection", None, _selection_label(selection)),
                  {"selection": selection}, {"exported": len(ids)}, selection_impact(session, ids)["network_ids"])


def _selection_label(selection: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(selection.items()) if v) or _("toutes les fiches")
