"""Actors read in bulk with plain SQL, for indexing many at a time.

Loading 100,000 ``Actor`` objects with their four collections takes about 30 s
in the ORM; the same rows as ``ActorRecord`` take a few seconds. A record has
the attributes ``actor_to_dict`` reads, so the dict is still made in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import select

from .models import Activity, Actor, ActorCountry, ActorTown, Domain, Kind, actor_activity, actor_domain

CHUNK = 1000


@dataclass(slots=True)
class ActorRecord:
    id: int
    slug: str
    name: str
    name_sort: str
    acronym: str | None
    kind_slug: str
    town: str
    postcode: str | None
    department: str
    description: str | None
    website: str | None
    email: str | None
    phone: str | None
    status: str
    updated_at: datetime
    countries: list[str] = field(default_factory=list)
    intervention_towns: list[str] = field(default_factory=list)
    domain_slugs: list[str] = field(default_factory=list)
    activity_slugs: list[str] = field(default_factory=list)


_actor = Actor.__table__
_LISTS = ("countries", "intervention_towns", "domain_slugs", "activity_slugs")  # filled by _with_lists
# The selected columns, in the record's field order (a row makes a record positionally).
_COLUMNS = [Kind.__table__.c.slug if f.name == "kind_slug" else _actor.c[f.name]
            for f in fields(ActorRecord) if f.name not in _LISTS]


def published_records(connection, ids=None):
    """Published actors as records, in id order: all of them, or those among ``ids``."""
    base = (select(*_COLUMNS).join(Kind.__table__, Kind.__table__.c.id == _actor.c.kind_id)
            .where(_actor.c.status == "published").order_by(_actor.c.id))
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
    return list(records.values())
