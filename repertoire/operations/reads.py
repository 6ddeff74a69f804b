"""Reads shared by the pages, the API and the command line."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..models import ChangeRequest, utcnow


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
