"""Reads shared by the pages, the API and the command line."""
from __future__ import annotations

from sqlalchemy import select

from ..models import Actor, ChangeRequest, utcnow

from .duplicates import merged_into


# -- figures ---------------------------------------------------------------

def submissions_per_month(session, months: int = 12) -> list[tuple[str, int]]:
    """("2026-11", n) for the last ``months`` months, oldest first, zeros included."""
    now = utcnow()
    keys = []
    year, month = now.year, now.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    keys.reverse()
    counts = dict.fromkeys(keys, 0)
    for (created,) in session.execute(select(ChangeRequest.created_at).where(ChangeRequest.kind == "new")):
        key = f"{created.year:04d}-{created.month:02d}"
        if key in counts:
            counts[key] += 1
    return list(counts.items())


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
