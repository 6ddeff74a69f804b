"""The garbage collector out of the requests' way.

Python's full collection (generation 2) walks every container object of the process: the modules, SQLAlchemy's
and Jinja's compiled caches, the search index's readers — about 150,000 objects once a worker has served its
first pages, ~65 ms of CPU on the bench machine. It runs every few requests that allocate much (an import report
of 300 rows: one request in eight took twice as long, and up to five times at 1,000,000 actors; bench/RESULTS.md,
session 6). Those objects live as long as the process: after the process's first request, and again after its
``FREEZE_AFTER``-th (the templates of most pages compiled by then), the collector collects once and moves
whatever is alive into its permanent generation (``gc.freeze``), which its later collections skip. Garbage is
still collected as before; only what was alive at those two moments is never examined again (it is never freed
either, as it would not have been). Not under ``TESTING`` (one process creates hundreds of apps there), nor
with the app setting ``REPERTOIRE_GC_FREEZE`` false.
"""
from __future__ import annotations

import gc
import os
import threading

FREEZE_AFTER = (1, 50)  # requests served by the process

_lock = threading.Lock()
_served = 0


def _count_anew():
    """A forked process (a worker of a preloaded server, a bench's child) counts its own requests from zero."""
    global _served, _lock
    _served, _lock = 0, threading.Lock()


os.register_at_fork(after_in_child=_count_anew)


def init_app(app):
    if app.testing or not app.config.get("REPERTOIRE_GC_FREEZE", True):
        return

    @app.after_request
    def freeze_when_warm(response):
        global _served
        with _lock:
            _served += 1
            due = _served in FREEZE_AFTER
        if due:  # once the response has gone: the client does not wait for it
            response.call_on_close(_freeze)
        return response


def _freeze():
    gc.collect()
    gc.freeze()
