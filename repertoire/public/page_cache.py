"""Rendered search pages for anonymous visitors, kept while nothing they show can have changed.

The key holds the address (host included), the language, the taxonomy labels and the index
version; ``results_version`` refuses any cache while a change waits for the
index. Each page is kept with the ids of the actors it shows, and served again
only if the database still publishes all of them (one query by primary key):
a cached page never shows an entry the database no longer publishes, even
after a change made behind the application's back.
Each worker process keeps its own small LRU in memory.
"""
import threading
from collections import OrderedDict

from flask import current_app, request, session
from flask_login import current_user

from ..extensions import db
from ..i18n import current_language
from ..search import all_published, results_version

MAX_PAGES = 128  # a search page weighs 40–120 kB: at most ~15 MB a process
MAX_BYTES = 250_000


class PageCache:
    def __init__(self, size: int = MAX_PAGES):
        self.size = size
        self.pages: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key, page: tuple[str, list[int]]):
        if len(page[0]) > MAX_BYTES:
            return
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


def cache_key(vocab=None):
    """The key of this request's page, or None when it must be rendered afresh (``vocab``: when the page
    shows taxonomy labels)."""
    if not current_app.config.get("PAGE_CACHE", True) or request.method != "GET" \
            or current_user.is_authenticated or session.get("_flashes"):
        return None
    version = results_version(db.session)
    if version is None:
        return None
    labels = () if vocab is None else tuple((name, tuple(sorted(values.items())))
                                            for name, values in sorted(vocab.labels.items()))
    # The page shows absolute links (the embed snippet) built from the address asked for.
    return request.host_url, request.full_path, current_language(), version, hash(labels)


def init_app(app):
    app.extensions["repertoire.page_cache"] = PageCache()


def cached_page(key, render) -> str:
    """The page for ``key`` from the cache, or ``render()`` (html, actor ids shown) stored there."""
    cache = current_app.extensions["repertoire.page_cache"]
    if key is None:
        return render()[0]
    page = cache.get(key)
    if page is None or not all_published(db.session, page[1]):
        page = render()
        cache.put(key, page)
    return page[0]
