"""Public pages: the search page, actor pages, CSV export of a search."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from . import views  # noqa: E402,F401
