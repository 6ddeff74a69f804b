"""Actors read in bulk with plain SQL, for indexing many at a time.

Loading 100,000 ``Actor`` objects with their four collections takes about 30 s
in the ORM; the same rows as ``ActorRecord`` take a few seconds. A record has
the attributes ``actor_to_dict`` reads, so the dict is still made in one place.
"""
from __future__ import annotations

from dataclasses import field, make_dataclass
from datetime import datetime

from sqlalchemy import select

from .actor_fields import FIELDS
from .models import (Activity, Actor, ActorCountry, ActorTown, Domain, Kind, Membership, Partnership,
                     PartnershipPartner, actor_activity, actor_domain)

CHUNK = 1000


_actor = Actor.__table__
# Record fields: a few of the actor's own, then every field of the table (scalars first: a row
# makes a record positionally, the lists are filled by _with_lists).
_SCALARS = [("id", int), ("slug", str), ("name_sort", str), ("status", str), ("updated_at", datetime)] + [
    (f.source, object) for f in FIELDS if not f.multi]
_LISTS = tuple(f.source for f in FIELDS if f.multi) + ("partnership_ids",)
ActorRecord = make_dataclass(
    "ActorRecord", _SCALARS + [(name, list, field(default_factory=list)) for name in _LISTS], slots=True)
ActorRecord.__doc__ = "An actor read in bulk: the attributes ``actor_to_dict`` (and ``values_of``) reads."
ActorRecord.__module__ = __name__  # picklable, for the processes that build the index
_COLUMNS = [Kind.__table__.c.slug if name == "kind_slug" else _actor.c[name] for name, _type in _SCALARS]


def published_records(connection, ids=None, published: bool = True):
    """Published actors as records, in id order: all of them, or those among ``ids``; with ``published``
    False, those among ``ids`` whatever their status."""
    base = select(*_COLUMNS).join(Kind.__table__, Kind.__table__.c.id == _actor.c.kind_id).order_by(_actor.c.id)
    if published:
        base = base.where(_actor.c.status == "published")
    if ids is not None:
        ids = sorted(ids)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            if chunk[-1] - chunk[0] < 2 * len(chunk):  # dense, as after an import: a range is cheaper than IN
                wanted = set(chunk)
                rows = [row for row in connection.execute(base.where(_actor.c.id.between(chunk[0], chunk[-1])))
                        if row[0] in wanted]
            else:
                rows = connection.execute(base.where(_actor.c.id.in_(chunk))).all()
            yield from _with_lists(connection, rows)
        return
    last = 0
    while True:
        rows = connection.execute(base.where(_actor.c.id > last).limit(CHUNK)).all()
        if not rows:
            return
        yield from _with_lists(connection, rows)
        last = rows[-1][0]


def _with_lists(connection, rows) -> list[ActorRecord]:
    records = {row[0]: ActorRecord(*row) for row in rows}
    if not records:
        return []
    first, last = min(records), max(records)

    def among(column):  # the rows of these actors (a range when they are dense, else IN)
        return column.between(first, last) if last - first < 2 * len(records) else column.in_(list(records))

    lists = (
        ("countries", select(ActorCountry.actor_id, ActorCountry.code).where(among(ActorCountry.actor_id))
         .order_by(ActorCountry.actor_id, ActorCountry.position)),
        ("intervention_towns", select(ActorTown.actor_id, ActorTown.name).where(among(ActorTown.actor_id))
         .order_by(ActorTown.actor_id, ActorTown.position, ActorTown.id)),
        ("domain_slugs", select(actor_domain.c.actor_id, Domain.slug).join(Domain)
         .where(among(actor_domain.c.actor_id)).order_by(actor_domain.c.actor_id, Domain.position, Domain.id)),
        ("activity_slugs", select(actor_activity.c.actor_id, Activity.slug).join(Activity)
         .where(among(actor_activity.c.actor_id))
         .order_by(actor_activity.c.actor_id, Activity.position, Activity.id)),
    )
    for attribute, query in lists:
        for actor_id, value in connection.execute(query):
            record = records.get(actor_id)  # a range may hold unpublished actors: skipped
            if record is not None:
                getattr(record, attribute).append(value)
    _with_links(connection, records, among)
    return list(records.values())


def _with_links(connection, records: dict, among):
    """Fill the records' memberships and partnerships (with their partners), as ``Actor`` gives them."""
    network = Actor.__table__.alias("network")
    for actor_id, slug, since in connection.execute(
            select(Membership.actor_id, network.c.slug, Membership.since)
            .join(network, network.c.id == Membership.network_id).where(among(Membership.actor_id))
            .order_by(Membership.actor_id, Membership.position)):
        record = records.get(actor_id)
        if record is not None:
            record.network_values.append({"network": slug, "since": since})
    rows = connection.execute(
        select(Partnership.id, Partnership.actor_id, Partnership.kind, Partnership.status, Partnership.start,
               Partnership.end, Partnership.domains, Partnership.description, Partnership.source)
        .where(among(Partnership.actor_id)).order_by(Partnership.actor_id, Partnership.position)).all()
    wanted = [row for row in rows if row.actor_id in records]
    if not wanted:
        return
    partners: dict[int, list] = {}
    ids = [row.id for row in wanted]
    partner_actor = Actor.__table__.alias("partner_actor")
    for start in range(0, len(ids), CHUNK):
        for partnership_id, name, country, locality, slug in connection.execute(
                select(PartnershipPartner.partnership_id, PartnershipPartner.name, PartnershipPartner.country,
                       PartnershipPartner.locality, partner_actor.c.slug)
                .outerjoin(partner_actor, partner_actor.c.id == PartnershipPartner.actor_id)
                .where(PartnershipPartner.partnership_id.in_(ids[start:start + CHUNK]))
                .order_by(PartnershipPartner.partnership_id, PartnershipPartner.position)):
            partners.setdefault(partnership_id, []).append(
                {"name": name, "country": country, "locality": locality, "actor": slug})
    for row in wanted:
        record = records[row.actor_id]
        record.partnership_ids.append(row.id)
        record.partnership_values.append({
            "kind": row.kind, "status": row.status, "start": row.start, "end": row.end,
            "partners": partners.get(row.id, []), "domains": list(row.domains or []),
            "description": row.description, "source": row.source})
