"""Coordinators: moderation queue, edits, history; admins: accounts."""
from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

from . import bulk, jobs, journal, networks, toolbox, views  # noqa: E402,F401
