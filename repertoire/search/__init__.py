"""Search: the searches the site offers, over the engine ``REPERTOIRE_SEARCH_ENGINE`` names.

The engine is reached through ``engine.SearchEngine`` only; nothing outside
its subpackage (``search/whoosh/``) imports Whoosh.
"""
from __future__ import annotations

import threading
import time
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import partial

from flask import current_app
from sqlalchemy import bindparam, func, select

from flask_babel import gettext as _

from .. import geo
from ..models import Actor, IndexLog, Partnership, PartnershipPartner
from ..records import published_records
from ..partnership_fields import kind_label, status_label
from ..serialize import actor_to_dict, actor_url
from ..text import sort_key
from ..database import rows_in
from ..i18n import current_language
from . import outbox
from .engine import (FACETS, PARTNERSHIP_FACETS, Criteria, Hits, IndexUnavailable, PartnershipCriteria,
                     PartnershipHits, SearchEngine, WriterBusy, make_engine)
from .outbox import (IndexSyncError, apply_pending, check_index, mark_for_index, progress_bar, rebuild_if_broken,
                     reindex_all)
from .params import (ParamError, PartnershipParams, SearchParams, parse_partnership_params,
                     parse_search_params)
from . import spelling

__all__ = ["FACETS", "PARTNERSHIP_FACETS", "SUGGEST_FIELDS", "Criteria", "Hits", "IndexSyncError",
           "IndexUnavailable", "ParamError", "PartnershipCriteria", "PartnershipHits", "PartnershipParams",
           "SearchEngine", "SearchParams", "SearchResult", "parse_partnership_params", "search_partnerships", "WriterBusy", "all_published", "apply_pending",
           "check_index", "did_you_mean", "export_actor_ids", "get_index", "init_app", "make_engine", "mark_for_index", "outbox",
           "parse_search_params", "progress_bar", "published_dicts_in_order", "published_in_order", "rebuild_if_broken", "reindex_all",
           "results_version", "search_actors", "suggest", "warm"]


def init_app(app):
    app.extensions["repertoire.index"] = make_engine(app.config.get("REPERTOIRE_SEARCH_ENGINE", "whoosh"),
                                                     app.config["REPERTOIRE_INDEX_DIR"])
    app.extensions[FACETS_CACHE] = FacetCache()
    every = app.config.get("REPERTOIRE_INDEX_CHECK_EVERY", outbox.CHECK_EVERY)
    looked = [None]  # when this process last looked at the change log

    @app.before_request
    def follow_log():
        """Apply the changes other processes and servers logged (at most every ``every`` seconds)."""
        now = time.monotonic()
        first = looked[0] is None
        if not first and now - looked[0] < every:
            return
        looked[0] = now
        try:
            # The first look waits for the writer (catching up after a stop); later ones leave it to its holder.
            apply_pending(timeout=5.0 if first else 0, quiet=not first)
        except Exception:  # no database yet, say: searches will tell
            app.logger.warning("index : modifications en attente non appliquées", exc_info=True)


def warm():
    """Make the index's caches a first search needs (``web/warmup.py``: a worker's start); no index: nothing."""
    try:
        get_index().warm()
    except IndexUnavailable:  # no index yet: the first search says so, as before
        pass


def get_index() -> SearchEngine:
    return current_app.extensions["repertoire.index"]


@dataclass
class SearchResult:
    params: SearchParams | PartnershipParams
    total: int
    results: list[dict]
    facets: dict[str, list[dict]]
    shown_actor_ids: list[int] = field(default_factory=list)  # partnerships: holders and partners with a page
    kept: dict | None = None  # actors: the facets' entry in the per-process cache (``FacetCache``), if any

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.params.per_page))


def facet_label(name: str, value: str, labels) -> str:
    if name == "country":
        return geo.country_name(value)
    if name == "department":
        return geo.department_name(value)
    if name in ("partnership", "kind") and value not in labels.get(name, ()):
        return kind_label(value)
    if name == "status":
        return status_label(value)
    if name == "decade":
        return _("années %(decade)s", decade=value)
    return labels[name].get(value, value)


NAMES_CACHE = "repertoire.network_names"


def network_names(session, slugs) -> dict[str, tuple[str, tuple]]:
    """slug -> (name, sort key) of the published actors among ``slugs`` (the networks a facet lists).

    Kept per process, and brought up to date when the index version changes by reading again only the actors the
    change log says changed since (a network renamed, withdrawn or published through the application is logged for
    the index): at 1,000,000 actors a facet lists ~45,000 networks, whose names and sort keys cost ~1 s to read and
    make again after every change. All of them are read again when the log no longer holds the changes (pruned),
    when they are many, and while a change waits for the index (nothing kept then).
    """
    version = results_version(session)
    kept = current_app.extensions.get(NAMES_CACHE)
    if version is None:
        known = {}
    else:
        if kept is None or kept["version"] != version:
            kept = {**_names_brought_up_to_date(session, kept), "version": version}
            current_app.extensions[NAMES_CACHE] = kept  # one assignment: readers see the old entry or the new one
        known = kept["names"]
    missing = sorted(slug for slug in slugs if slug not in known)
    if missing:
        found = {}
        # By the slugs' unique index; the status is checked here (with it, SQLite may walk the published).
        for actor_id, slug, name, status in rows_in(session.connection(),
                                                    "SELECT id, slug, name, status FROM actor WHERE slug", missing):
            if status == "published":
                found[slug] = (actor_id, name, sort_key(name))
        known.update({slug: found.get(slug) for slug in missing})  # None: not a published actor
    return {slug: known[slug][1:] for slug in slugs if known.get(slug) is not None}


NAMES_REREAD_OVER = 5000  # changed actors past which every network name is read again rather than these


def _names_brought_up_to_date(session, kept) -> dict:
    """The kept names (slug -> (actor id, name, sort key), or None) less those of the actors changed since they
    were kept — by id, and by the slugs these actors have now —, with the index's log position they follow."""
    position, build = get_index().applied_position()[0], get_index().build()
    if kept is None or kept["position"] is None or position < kept["position"] or kept["build"] != build:
        return {"position": position, "build": build, "names": {}}  # a rebuilt index (a restore): all read again
    if position == kept["position"]:
        return {"position": position, "build": build, "names": kept["names"]}
    oldest = session.scalar(select(func.min(IndexLog.id)))
    if oldest is None or oldest > kept["position"] + 1:  # the log was pruned past what was kept
        return {"position": position, "build": build, "names": {}}
    changed = set(session.scalars(select(IndexLog.actor_id).where(IndexLog.id > kept["position"],
                                                                   IndexLog.id <= position)
                                  .limit(NAMES_REREAD_OVER + 1)))
    if len(changed) > NAMES_REREAD_OVER:
        return {"position": position, "build": build, "names": {}}
    slugs_now = {slug for slug, in rows_in(session.connection(), "SELECT slug FROM actor WHERE id", sorted(changed))}
    names = {slug: entry for slug, entry in kept["names"].items()
             if slug not in slugs_now and (entry is None or entry[0] not in changed)}
    return {"position": position, "build": build, "names": names}


def _facet_entries(name, counts: dict[str, int], selected, label) -> list[dict]:
    """A facet's values with their counts, sorted as the contract says (count descending, then label)."""
    entries = [{"value": value, "label": label(value), "count": count, "selected": value in selected}
               for value, count in counts.items()]
    entries.sort(key=lambda e: (-e["count"], sort_key(e["label"])))
    return entries


class FacetCache:
    """The facets of recent searches, per process: what does not depend on the page, the sort or the results.

    Keyed on the index version (no entry while a change waits for the index: ``results_version``), the
    criteria, the facets asked for, the language and the taxonomy labels. At 1,000,000 actors a search's
    network facet lists ~36,000 networks (the contract lists every value): counting, labelling and sorting
    them costs ~250 ms, the same for each page of the search. Bounded by the entries held (each a value of
    a facet), not by searches.
    """

    MAX_ENTRIES = 150_000  # ~60 MB

    def __init__(self):
        self.kept: OrderedDict = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            kept = self.kept.get(key)
            if kept is not None:
                self.kept.move_to_end(key)
            return kept

    def put(self, key, kept: dict):
        weight = sum(len(entries) for entries in kept["entries"].values()) + 1
        if weight > self.MAX_ENTRIES:
            return
        with self.lock:
            if key in self.kept:
                return
            if self.kept and next(reversed(self.kept))[0] != key[0]:  # a new index version: the others are dead
                self.kept.clear()
                self.size = 0
            self.kept[key] = kept
            self.size += weight
            while self.size > self.MAX_ENTRIES:
                _key, old = self.kept.popitem(last=False)
                self.size -= sum(len(entries) for entries in old["entries"].values()) + 1


def _facets_key(session, params: SearchParams, facets: tuple, labels) -> tuple | None:
    if not facets:
        return None
    version = results_version(session)
    if version is None:
        return None
    return (version, params.q, params.name, params.place, params.intervention,
            tuple(sorted((name, tuple(values)) for name, values in params.filters.items() if values)),
            facets, current_language(),
            hash(tuple((name, tuple(sorted(values.items()))) for name, values in sorted(labels.items()))))


def search_actors(session, params: SearchParams, labels: dict[str, dict[str, str]],
                  facets: tuple[str, ...] = FACETS) -> SearchResult:
    """Run a search; only published actors, read from the database, are returned.

    ``facets``: those the page shows (``SearchResult.facets`` holds these only); each costs up to a pass over
    the matched actors, and is kept for the next pages of the same search (``FacetCache``).
    """
    offset = (params.page - 1) * params.per_page
    facets = tuple(facets)
    cache: FacetCache = current_app.extensions[FACETS_CACHE]
    key = _facets_key(session, params, facets, labels)
    kept = cache.get(key) if key is not None else None
    hits = get_index().search(params.criteria(() if kept is not None else facets), offset, params.per_page)
    results = list(published_dicts_in_order(session, hits.actor_ids))
    if kept is None:
        kept = {"entries": _entries(session, params, labels, facets, hits)}
        if key is not None:
            cache.put(key, kept)
    return SearchResult(params=params, total=hits.total, results=results, facets=kept["entries"],
                        kept=kept if key is not None else None)


FACETS_CACHE = "repertoire.facet_entries"


def _entries(session, params, labels, facets, hits) -> dict[str, list[dict]]:
    """The facets' values as pages show them: labelled, flagged if selected, sorted as the contract says."""
    entries = {}
    for name in facets:
        counts, selected = hits.facets[name], set(params.filters.get(name, []))
        if name == "network":  # labelled by the network's name; one no longer published is not offered
            entries[name] = _network_entries(network_names(session, counts), counts, selected)
        else:
            entries[name] = _facet_entries(name, counts, selected, partial(facet_label, name, labels=labels))
    return entries


def _network_entries(names: dict[str, tuple[str, tuple]], counts: dict[str, int], selected) -> list[dict]:
    """The network facet's entries (tens of thousands at 1,000,000 actors): sorted as tuples (count
    descending, the name's sort key, then the slug), each made a dict once in its place."""
    keyed = sorted((-n, names[slug][1], slug) for slug, n in counts.items() if slug in names)
    return [{"value": slug, "label": names[slug][0], "count": -n, "selected": slug in selected}
            for n, _key, slug in keyed]


def did_you_mean(params: SearchParams) -> tuple[SearchParams, list[str]] | None:
    """For a search that finds nothing: a corrected search that finds something, and the corrected values."""
    if not params.has_text:
        return None
    return spelling.did_you_mean(get_index(), params)


def search_partnerships(session, params: PartnershipParams) -> SearchResult:
    """Run a partnerships search; only partnerships of published holders, read from the database."""
    offset = (params.page - 1) * params.per_page
    hits = get_index().search_partnerships(params.criteria(), offset, params.per_page)
    shown: list[int] = []
    results = partnerships_in_order(session, hits.partnership_ids, shown)
    facets = {name: _facet_entries(name, hits.facets[name], set(params.filters.get(name, [])),
                                   partial(facet_label, name, labels={}))
              for name in PARTNERSHIP_FACETS}
    return SearchResult(params=params, total=hits.total, results=results, facets=facets, shown_actor_ids=shown)


_PARTNER_ACTOR = Actor.__table__.alias("partner_actor")
# The three reads of a page of partnerships, built once (each search only binds its ids).
_PARTNERSHIP_ROWS = select(Partnership.id, Partnership.actor_id, Partnership.kind, Partnership.status,
                           Partnership.start, Partnership.end, Partnership.domains, Partnership.description,
                           Partnership.source).where(Partnership.id.in_(bindparam("ids", expanding=True)))
_HOLDERS = select(Actor.id, Actor.slug, Actor.name, Actor.town, Actor.department).where(
    Actor.id.in_(bindparam("ids", expanding=True)), Actor.status == "published")
_PARTNERS = (select(PartnershipPartner.partnership_id, PartnershipPartner.name, PartnershipPartner.country,
                    PartnershipPartner.locality, _PARTNER_ACTOR.c.slug, _PARTNER_ACTOR.c.status,
                    PartnershipPartner.actor_id)
             .outerjoin(_PARTNER_ACTOR, _PARTNER_ACTOR.c.id == PartnershipPartner.actor_id)
             .where(PartnershipPartner.partnership_id.in_(bindparam("ids", expanding=True)))
             .order_by(PartnershipPartner.partnership_id, PartnershipPartner.position))


def partnerships_in_order(session, ids: list[int], shown: list[int] | None = None) -> list[dict]:
    """The partnerships of ``ids`` whose holder the database publishes, in that order, as the API gives them.

    Each is the partnership (contract §5, with its holder's slug as ``actor``) and ``holder``: the
    holder's name, town, département and page. A partner in the directory has its page as ``url``
    when it is published (else null). ``shown`` receives the ids of the published actors the results
    show (holders, partners with a page), for the page cache.
    """
    if not ids:
        return []
    # By primary keys, one table at a time: joined, SQLite may walk every published actor instead.
    rows = session.execute(_PARTNERSHIP_ROWS, {"ids": list(ids)}).all()
    holders = {row.id: row for row in session.execute(_HOLDERS, {"ids": sorted({row.actor_id for row in rows})})}
    partners: dict[int, list[dict]] = {}
    linked = []
    for partnership_id, name, country, locality, slug, status, partner_id in session.execute(
            _PARTNERS, {"ids": list(ids)}):
        partners.setdefault(partnership_id, []).append(
            {"name": name, "country": country, "locality": locality, "actor": slug,
             "url": actor_url(slug) if status == "published" else None})
        if status == "published":
            linked.append((partnership_id, partner_id))
    by_id = {row.id: row for row in rows if row.actor_id in holders}
    if shown is not None:
        shown.extend({row.actor_id for row in by_id.values()} | {a for p, a in linked if p in by_id})
    results = []
    for i in ids:
        row = by_id.get(i)
        if row is None:
            continue
        holder = holders[row.actor_id]
        results.append({"id": row.id, "actor": holder.slug, "kind": row.kind, "status": row.status,
                        "start": row.start, "end": row.end, "partners": partners.get(row.id, []),
                        "domains": list(row.domains or []), "description": row.description, "source": row.source,
                        "holder": {"name": holder.name, "town": holder.town, "department": holder.department,
                                   "url": actor_url(holder.slug)}})
    return results


def published_in_order(session, actor_ids, chunk: int = 500):
    """The actors of ``actor_ids`` that the database says are published, in that order.

    The index may lag behind the database; this is what keeps an unpublished
    entry from ever being shown.
    """
    for start in range(0, len(actor_ids), chunk):
        part = actor_ids[start:start + chunk]
        rows = session.scalars(select(Actor).where(Actor.id.in_(part), Actor.status == "published"))
        by_id = {actor.id: actor for actor in rows}
        yield from (by_id[i] for i in part if i in by_id)


def published_dicts_in_order(session, actor_ids, chunk: int = 500):
    """``actor_to_dict`` of the actors of ``actor_ids`` that the database says are published, in that order.

    Read as records (``records.published_records``: a few plain queries a chunk, not the ORM and its
    relationships), ``chunk`` actors at a time: an export of 100,000 actors streams in bounded memory.
    """
    connection = session.connection()
    for start in range(0, len(actor_ids), chunk):
        part = actor_ids[start:start + chunk]
        by_id = {record.id: record for record in published_records(connection, part)}
        yield from (actor_to_dict(by_id[i]) for i in part if i in by_id)


SUGGEST_FIELDS = ("name", "town")


def suggest(session, field: str, text: str, limit: int = 8) -> list[dict]:
    """Suggestions as someone types: actor names, or head-office towns and départements.

    Names come from the name search; places from the index lexicon. Both are
    checked against the published actors of the database.
    """
    text = text.strip()[:100]
    if len(text) < 2:
        return []
    if field == "name":
        hits = get_index().search(SearchParams(name=text, sort="relevance").criteria(facets=()), 0, limit)
        return [{"value": actor.name, "acronym": actor.acronym or "", "url": actor_to_dict(actor)["url"]}
                for actor in published_in_order(session, hits.actor_ids)]
    places = get_index().suggest_places(text, limit * 2)
    departments = set(geo.departments().values())
    towns = {name for name, _ in places if name not in departments}
    published = set(session.scalars(select(Actor.town).where(Actor.status == "published",
                                                             Actor.town.in_(towns)).distinct())) if towns else set()
    return [{"value": name, "count": count} for name, count in places
            if name in departments or name in published][:limit]


def results_version(session):
    """What search results depend on, for caching pages; None while changes wait for this index.

    While the change log is ahead of the index, the index may still hold an
    entry the database no longer publishes: nothing may then be served from a cache.
    """
    head = session.scalar(select(func.max(IndexLog.id)))
    if head is not None and head > get_index().applied_position()[0]:
        return None
    return get_index().version()


def all_published(session, actor_ids) -> bool:
    """Whether the database still publishes every one of ``actor_ids``."""
    if not actor_ids:
        return True
    count = session.scalar(select(func.count()).select_from(Actor)
                           .where(Actor.id.in_(actor_ids), Actor.status == "published"))
    return count == len(set(actor_ids))


def export_actor_ids(params: SearchParams) -> array:
    """Every actor id matching ``params`` (all pages), in the requested order (no facet counted)."""
    criteria = params.criteria(facets=())
    hits = get_index().search(criteria, 0, 10**9)
    return array("q", hits.actor_ids)  # 8 bytes an id rather than a list's 36: 1,000,000 ids in 8 MB
