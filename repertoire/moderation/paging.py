"""Back-office lists shown fifty rows at a time, with page links that work without JavaScript."""
from dataclasses import dataclass

from flask import abort, request, url_for
from sqlalchemy import func, select

from ..extensions import db

PER_PAGE = 50


@dataclass
class Page:
    rows: list
    total: int
    number: int
    pages: int

    def url(self, number: int) -> str:
        """The same list (same filters) at another page."""
        return url_for(request.endpoint, **{**request.view_args, **request.args.to_dict(), "page": number})


def requested_page() -> int:
    """The ``page`` argument: 1 when absent or not a number; 404 when below 1 or absurdly large."""
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 10**9:  # an offset the database cannot hold
        abort(404)
    return page


def paginate(query, total: int | None = None, key=None, keyed=None) -> Page:
    """Run ``query`` (a select of one entity, with its ORDER BY) for the requested page; 404 past the last.

    ``total`` is counted by a COUNT over the query unless given (e.g. a figure already known). With ``key``
    (the entity's primary key column), the page's keys are found first, over the indexes alone, then only
    those rows are loaded: a deep OFFSET then skips index entries, not whole rows. ``keyed``: the list's keys
    (first column) in its order, from elsewhere (a network's scope rows); counted and paged instead of
    ``query``, which then only loads the page's rows."""
    number = requested_page()
    if total is None:
        counted = keyed if keyed is not None else query.with_only_columns(key) if key is not None else query
        total = db.session.scalar(select(func.count()).select_from(counted.order_by(None).subquery()))
    pages = max(1, -(-total // PER_PAGE))
    if number > pages:
        abort(404)
    window = (keyed if keyed is not None else query).limit(PER_PAGE).offset((number - 1) * PER_PAGE)
    if key is None:
        return Page(rows=db.session.scalars(window).all(), total=total, number=number, pages=pages)
    keys = db.session.scalars(window if keyed is not None else window.with_only_columns(key)).all()
    found = {getattr(row, key.key): row for row in db.session.scalars(query.order_by(None).where(key.in_(keys)))}
    return Page(rows=[found[k] for k in keys if k in found], total=total, number=number, pages=pages)
