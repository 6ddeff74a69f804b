"""Reads shared by the pages, the API and the command line."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select

from ..models import STATUSES, Actor, ChangeRequest, Partnership, PartnershipPartner, utcnow

from .duplicates import merged_into


# -- figures ---------------------------------------------------------------

def submissions_per_month(session, months: int = 12, within=None) -> list[tuple[str, int]]:
    """("2026-11", n) for the last ``months`` months, oldest first, zeros included."""
    now = utcnow()
    keys = []
    year, month = now.year, now.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    keys.reverse()
    # one query, one filtered COUNT per month, over the index on (kind, created_at)
    bounds = [datetime(int(key[:4]), int(key[5:]), 1, tzinfo=timezone.utc) for key in keys]
    bounds.append(datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=timezone.utc))
    in_month = [func.count().filter(ChangeRequest.created_at >= start, ChangeRequest.created_at < end)
                for start, end in zip(bounds, bounds[1:])]
    query = select(*in_month).where(ChangeRequest.kind == "new", ChangeRequest.created_at >= bounds[0],
                                    ChangeRequest.created_at < bounds[-1])
    if within is not None:  # a select of the actor ids a network coordinator curates
        # probed per request of the year (EXISTS): an IN would list the whole scope first
        query = query.where(within.where(within.selected_columns[0] == ChangeRequest.actor_id).exists())
    row = session.execute(query).one()
    return list(zip(keys, (int(n or 0) for n in row)))


def status_counts(session) -> dict[str, int]:
    """How many actors the directory holds, by status, in one statement (one snapshot): the actors counted
    whole (SQLite counts a table's pages, not its rows), the statuses other than « published » each counted
    over the status index, published being the rest — a GROUP BY status walks every actor's index entry
    (1,000,000 at that size) when the published are nearly all of them."""
    others = [status for status in STATUSES if status != "published"]
    row = session.execute(select(select(func.count()).select_from(Actor).scalar_subquery(),
                                 *(select(func.count()).select_from(Actor).where(Actor.status == status)
                                   .scalar_subquery() for status in others))).one()
    counts = dict(zip(others, (int(n) for n in row[1:])))
    counts["published"] = int(row[0]) - sum(counts.values())
    return counts


@dataclass(frozen=True)
class PartnershipFigures:
    """The partnerships of published actors, counted (statistics page)."""
    total: int
    by_kind: dict[str, int]
    by_decade: dict[int | None, int]  # decade of start (1960) -> partnerships; None: start unknown
    by_country: dict[str, int]  # a partner's country -> partnerships with at least one partner there
    flows: list[tuple[str, str, int]]  # (holder's département, partner's country, partnerships), most first


def partnership_figures(session) -> PartnershipFigures:
    """Two GROUP BY queries over the partnerships of published holders."""
    decade = Partnership.start_year - Partnership.start_year % 10
    published = (Actor.id == Partnership.actor_id) & (Actor.status == "published")
    by_kind: dict[str, int] = {}
    by_decade: dict[int | None, int] = {}
    for kind, start, count in session.execute(
            select(Partnership.kind, decade, func.count()).join(Actor, published).group_by(Partnership.kind, decade)):
        by_kind[kind] = by_kind.get(kind, 0) + count
        key = None if start is None else int(start)
        by_decade[key] = by_decade.get(key, 0) + count
    # Counted per holder first, then the holders read by key: the other way round SQLite reads every
    # published actor (100,000) for the 30,000 partnerships (180 ms → 100 ms at that size).
    per_holder = (select(Partnership.actor_id, PartnershipPartner.country,
                         func.count(func.distinct(Partnership.id)).label("n"))
                  .join(PartnershipPartner, PartnershipPartner.partnership_id == Partnership.id)
                  .group_by(Partnership.actor_id, PartnershipPartner.country).subquery())
    # One holder, one département: a country's partnerships are the sum of its départements' ones.
    flows = [(department, country, int(count)) for department, country, count in session.execute(
        select(Actor.department, per_holder.c.country, func.sum(per_holder.c.n)).select_from(per_holder)
        .join(Actor, (Actor.id == per_holder.c.actor_id) & (Actor.status == "published"))
        .group_by(Actor.department, per_holder.c.country))]
    flows.sort(key=lambda flow: (-flow[2], flow[0], flow[1]))
    by_country: dict[str, int] = {}
    for _department, country, count in flows:
        by_country[country] = by_country.get(country, 0) + count
    return PartnershipFigures(sum(by_kind.values()), by_kind, by_decade, by_country, flows)


def indexed_partnership_figures() -> PartnershipFigures:
    """The same figures from the search index (its partnerships of the indexed actors, per snapshot): what
    the statistics page shows while the index is up to date. The two GROUP BY read every partnership again
    after each change (~100 ms at 30,000 partnerships, 10× that at 1,000,000 actors); the index counts them
    once per snapshot, from the facets the partnerships search keeps anyway."""
    from ..search import PartnershipCriteria, get_index
    engine = get_index()
    every = engine.search_partnerships(PartnershipCriteria(), 0, 0)
    by_decade: dict[int | None, int] = {int(decade): n for decade, n in every.facets["decade"].items() if n}
    if every.total > sum(by_decade.values()):
        by_decade[None] = every.total - sum(by_decade.values())
    flows = [(department, country, n)
             for (department, country), n in engine.partnerships_crossed("department", "country").items()]
    flows.sort(key=lambda flow: (-flow[2], flow[0], flow[1]))
    return PartnershipFigures(every.total, {kind: n for kind, n in every.facets["kind"].items() if n}, by_decade,
                              {country: n for country, n in every.facets["country"].items() if n}, flows)


def public_actor(session, actor_id: int | None = None, slug: str | None = None) -> tuple[Actor | None, Actor | None]:
    """What a visitor may see at an actor's address (by id or slug): ``(actor, None)`` to show it,
    ``(None, kept)`` when it was merged into a published actor (a permanent redirect), ``(None, None)`` otherwise."""
    if slug is not None:
        actor = session.scalar(select(Actor).where(Actor.slug == slug))
    else:
        actor = session.get(Actor, actor_id)
    kept = merged_into(session, actor)
    if kept is not None:
        return None, kept
    if actor is None or not actor.is_published:
        return None, None
    return actor, None
