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


def paginate(query, total: int | None = None, unique: bool = False) -> Page:
    """Run ``query`` (a select with its ORDER BY) for the requested page; 404 past the last page.

    ``total`` is counted by a COUNT over the query unless given (e.g. a figure already known)."""
    number = requested_page()
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // PER_PAGE))
    if number > pages:
        abort(404)
    result = db.session.scalars(query.limit(PER_PAGE).offset((number - 1) * PER_PAGE))
    return Page(rows=(result.unique() if unique else result).all(), total=total, number=number, pages=pages)
