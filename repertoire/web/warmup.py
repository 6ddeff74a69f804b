"""A web worker ready before its first visitor.

At 1,000,000 actors a process's first search reads every index segment (16 s of CPU) and its first home page
counts the facets and names ~45,000 networks (1 s): a first visitor would wait for it, and a server's timeout
(gunicorn's 30 s) could kill the worker, whose successor would start cold again. A thread of each web worker does
it as the worker starts: the index's caches (``search.warm``), then the home page as a visitor asks it (which also
fills the page cache). ``REPERTOIRE_WARM_INDEX``: by default in production (``REPERTOIRE_ENV``), never in a command
(``click`` runs it). A request meanwhile waits for the same caches, as it would have made them.
"""
from __future__ import annotations

import os
import threading

import click

WARMUP = "repertoire.warmup"  # the thread, in app.extensions (tests join it)


def init_app(app):
    """Start the warm-up; call it last in the app factory (the app complete)."""
    if not app.config.get("REPERTOIRE_WARM_INDEX") or click.get_current_context(silent=True):
        return
    from ..extensions import db
    with app.app_context():
        engine = db.engine
    # A server that loads the app before forking its workers (gunicorn --preload) would hand them the connections
    # the warm-up opened: a forked worker leaves them to its parent and opens its own.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    thread = threading.Thread(target=_warm, args=(app,), name="repertoire-warmup", daemon=True)
    app.extensions[WARMUP] = thread
    thread.start()


def _warm(app):
    from .. import search
    try:
        with app.app_context():
            search.warm()
        app.test_client().get("/").close()
    except Exception:
        app.logger.warning("préparation au démarrage impossible", exc_info=True)
