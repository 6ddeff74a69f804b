"""Reads shared by the pages, the API and the command line."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from ..models import Actor, ChangeRequest, utcnow

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
        query = query.where(ChangeRequest.actor_id.in_(within))
    row = session.execute(query).one()
    return list(zip(keys, (int(n or 0) for n in row)))


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
