"""Public pages: the search page, actor pages, CSV export of a search."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from . import figures, networks, page_cache, partnerships, views  # noqa: E402,F401

bp.record_once(lambda state: page_cache.init_app(state.app))
