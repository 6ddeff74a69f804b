"""The Whoosh index: schema, analyzers, writing, and searching with facet counts.

This is the only module that imports Whoosh. Facet counts are computed from
per-value document bitsets built once per searcher, intersected with the
matched set (see WHOOSH-NOTES: native ``groupedby`` is far slower and
multi-valued fields need care).
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.lang import stopwords_for_language
from whoosh.qparser import AndGroup, MultifieldParser
from whoosh.qparser import plugins as qplugins
from whoosh.support.charset import accent_map

from . import bits as bitsets
from ..text import fold_words

log = logging.getLogger(__name__)

FACETS = ("country", "department", "domain", "activity", "kind")


def french_analyzer():
    """Stop words, then accent folding, then French stemming (order matters: WHOOSH-NOTES)."""
    return (RegexTokenizer() | LowercaseFilter()
            | StopFilter(stoplist=stopwords_for_language("fr"), minsize=1)
            | CharsetFilter(accent_map) | StemFilter(lang="fr", cachesize=100_000))


def folding_analyzer():
    """Words folded to lower case without accents; no stemming (names, places)."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def make_schema() -> Schema:
    french, folding = french_analyzer(), folding_analyzer()
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        name=TEXT(analyzer=french, phrase=True),
        name_words=TEXT(analyzer=folding, phrase=False),
        text=TEXT(analyzer=french, phrase=True),
        place=TEXT(analyzer=folding, phrase=True),
        place_key=KEYWORD(commas=True, lowercase=False, scorable=True),
        itowns=TEXT(analyzer=folding, phrase=True),
        itown_key=KEYWORD(commas=True, lowercase=False, scorable=True),
        country=KEYWORD(lowercase=False, scorable=True),
        department=KEYWORD(lowercase=False, scorable=True),
        domain=KEYWORD(lowercase=False, scorable=True),
        activity=KEYWORD(lowercase=False, scorable=True),
        kind=KEYWORD(lowercase=False, scorable=True),
        name_sort=ID(sortable=True),
        updated=NUMERIC(int, bits=64, sortable=True),
    )


@dataclass
class Criteria:
    """What to look for: the text criteria and the facet filters (already validated)."""

    q: str = ""
    name: str = ""
    place: str = ""
    intervention: str = ""
    intervention_country: str | None = None  # the country ``intervention`` names, if any
    place_department: str | None = None  # the département ``place`` names, if any
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "name"  # relevance | name | updated

    @property
    def has_text(self) -> bool:
        return any((self.q.strip(), self.name.strip(), self.place.strip(), self.intervention.strip()))


@dataclass
class Hits:
    total: int
    actor_ids: list[int]
    facets: dict[str, dict[str, int]]


class _Snapshot:
    """One searcher and everything derived from it; rebuilt when the index changes."""

    def __init__(self, searcher):
        self.searcher = searcher
        reader = searcher.reader()
        self.size = reader.doc_count_all()
        live_docs = list(reader.all_doc_ids())
        self.live = bitsets.from_docs(live_docs)
        self.count = len(live_docs)
        self.facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        self._rank = {}
        if not self.size:  # an empty reader has no columns
            self.ids, self.by_name, self.by_updated = [], [], []
            return
        id_col = reader.column_reader("id")
        self.ids = [int(id_col[d]) if id_col[d] else 0 for d in range(self.size)]
        for name in FACETS:
            self.facets[name] = {
                term: bitsets.from_docs(reader.postings(name, term).all_ids())
                for term in reader.field_terms(name)
            }
        name_col = reader.column_reader("name_sort")
        updated_col = reader.column_reader("updated")
        self.by_name = sorted(live_docs, key=lambda d: name_col[d])
        self.by_updated = sorted(live_docs, key=lambda d: (-(updated_col[d] or 0), name_col[d]))

    def rank(self, order_name: str) -> list[int]:
        if order_name not in self._rank:
            rank = [0] * self.size
            for i, d in enumerate(getattr(self, order_name)):
                rank[d] = i
            self._rank[order_name] = rank
        return self._rank[order_name]

    def close(self):
        self.searcher.close()


class SearchIndex:
    """A Whoosh index directory: one per process, shared by all requests."""

    def __init__(self, path: str):
        self.path = path
        self._ix = None
        self._snapshot: _Snapshot | None = None
        self._read_lock = threading.RLock()
        self._write_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------
    def exists(self) -> bool:
        return os.path.isdir(self.path) and whoosh_index.exists_in(self.path)

    def create(self):
        """Create an empty index (or empty an existing one)."""
        os.makedirs(self.path, exist_ok=True)
        with self._read_lock:
            self._drop_snapshot()
            self._ix = whoosh_index.create_in(self.path, make_schema())

    def ensure(self):
        if not self.exists():
            self.create()

    @property
    def ix(self):
        if self._ix is None:
            self.ensure()
            self._ix = whoosh_index.open_dir(self.path)
        return self._ix

    def _drop_snapshot(self):
        if self._snapshot is not None:
            self._snapshot.close()
            self._snapshot = None

    def close(self):
        with self._read_lock:
            self._drop_snapshot()
            self._ix = None

    def doc_count(self) -> int:
        return self.ix.doc_count()

    # -- writing ---------------------------------------------------------
    def write(self, operations, progress=None, bulk=False):
        """Apply ``("add", doc)``, ``("update", doc)`` and ``("delete", actor_id)`` in one writer.

        ``bulk`` uses two processes writing separate segments (WHOOSH-NOTES: the
        fastest way to index many documents on two cores).
        """
        options = {"procs": 2, "multisegment": True} if bulk and (os.cpu_count() or 1) > 1 else {}
        with self._write_lock:
            writer = self.ix.writer(timeout=30.0, limitmb=128, **options)
            try:
                for op, value in operations:
                    if op == "add":
                        writer.add_document(**value)
                    elif op == "update":
                        writer.update_document(**value)
                    else:
                        writer.delete_by_term("id", str(value))
                    if progress:
                        progress(1)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise

    def rebuild(self, docs, progress=None, bulk=False):
        """Replace the whole index by ``docs``."""
        self.create()
        self.write((("add", doc) for doc in docs), progress=progress, bulk=bulk)

    # -- reading ---------------------------------------------------------
    def _current(self) -> _Snapshot:
        snap = self._snapshot
        if snap is None or not snap.searcher.up_to_date():
            # Never Searcher.refresh(): it keeps superseded segments (WHOOSH-NOTES).
            self._drop_snapshot()
            snap = self._snapshot = _Snapshot(self.ix.searcher())
        return snap

    def search(self, criteria: Criteria, offset: int, limit: int) -> Hits:
        with self._read_lock:
            snap = self._current()
            return _run(snap, criteria, offset, limit)


# -- documents -------------------------------------------------------------

def document(actor: dict, labels: dict[str, dict[str, str]], geo) -> dict:
    """The index document of one published actor, from ``actor_to_dict`` output."""
    dept_name = geo.department_name(actor["department"])
    country_names = []
    for code in actor["countries"]:
        country_names.append(geo.country_name(code))
        country_names.append(geo.english_country_name(code))
    kind_label = labels["kind"].get(actor["kind"], actor["kind"])
    domain_labels = [labels["domain"].get(s, s) for s in actor["domains"]]
    activity_labels = [labels["activity"].get(s, s) for s in actor["activities"]]
    name_and_acronym = f"{actor['name']}\n{actor['acronym']}"
    text = "\n".join([name_and_acronym, kind_label, actor["town"], actor["postcode"],
                      dept_name, *country_names, *actor["intervention_towns"],
                      *domain_labels, *activity_labels, actor["description"]])
    place_values = [actor["town"], actor["postcode"], actor["department"], dept_name]
    return {
        "id": str(actor["id"]),
        "name": name_and_acronym,
        "name_words": name_and_acronym,
        "text": text,
        "place": "\n".join(place_values),
        "place_key": ",".join(k for k in map(fold_words, place_values) if k),
        "itowns": "\n".join(actor["intervention_towns"]),
        "itown_key": ",".join(k for k in map(fold_words, actor["intervention_towns"]) if k),
        "country": " ".join(actor["countries"]),
        "department": actor["department"],
        "domain": " ".join(actor["domains"]),
        "activity": " ".join(actor["activities"]),
        "kind": actor["kind"],
        "name_sort": actor["name_sort"],
        "updated": int(actor["updated_ts"] * 1_000_000),
    }


# -- querying --------------------------------------------------------------

def _free_text_parser(schema):
    parser = MultifieldParser(["name", "text"], schema, fieldboosts={"name": 3.0}, group=AndGroup)
    for plugin in (qplugins.WildcardPlugin, qplugins.RangePlugin, qplugins.FieldsPlugin,
                   qplugins.BoostPlugin, qplugins.EveryPlugin, qplugins.SingleQuotePlugin,
                   qplugins.OperatorsPlugin):
        parser.remove_plugin_class(plugin)
    # Operators in capitals, in French or English: "eau ET santé", "Mali OU Sénégal", "SAUF".
    parser.add_plugin(qplugins.OperatorsPlugin(
        And=r"(?<=\s)(AND|ET)(?=\s)", Or=r"(?<=\s)(OR|OU)(?=\s)",
        AndNot=r"(?<=\s)(ANDNOT|SAUF)(?=\s)", AndMaybe=None,
        Not=r"(^|(?<=(\s|[()])))(NOT|NON)(?=\s)", Require=None))
    return parser


def _tokens(schema, fieldname, text) -> list[str]:
    analyzer = schema[fieldname].analyzer
    return [t.text for t in analyzer(text)]


def _words_query(schema, fieldname, text):
    words = _tokens(schema, fieldname, text)
    if not words:
        return None
    if len(words) == 1:
        return wq.Term(fieldname, words[0])
    return wq.Phrase(fieldname, words)


def _keyed_query(reader, schema, key_field, text_field, text):
    """A whole value ("Saint-Denis") if the index holds it, else the words in that order."""
    key = fold_words(text)
    if key and reader.doc_frequency(key_field, key):
        return wq.Term(key_field, key)
    return _words_query(schema, text_field, text)


def _name_query(reader, schema, text):
    parts = []
    for word in _tokens(schema, "name_words", text):
        options = [wq.Term("name_words", word)]
        if len(word) >= 2:
            options.append(wq.Prefix("name_words", word))
        options.extend(wq.Term("name", stem) for stem in _tokens(schema, "name", word))
        parts.append(wq.Or(options))
    return wq.And(parts) if parts else None


def _text_query(snap: _Snapshot, criteria: Criteria):
    schema = snap.searcher.schema
    reader = snap.searcher.reader()
    parts = []
    if criteria.q.strip():
        try:
            parsed = _free_text_parser(schema).parse(criteria.q)
        except Exception:  # the parser is lenient, but never let a query text become a 500
            log.warning("query parse failed, falling back to plain words", exc_info=True)
            parsed = _free_text_parser(schema).parse(" ".join(fold_words(criteria.q).split()))
        if parsed is not None and parsed is not wq.NullQuery:
            parts.append(parsed)
    if criteria.name.strip():
        parts.append(_name_query(reader, schema, criteria.name) or wq.NullQuery)
    if criteria.place.strip():
        options = [_keyed_query(reader, schema, "place_key", "place", criteria.place)]
        if criteria.place_department:
            options.append(wq.Term("department", criteria.place_department))
        parts.append(wq.Or([o for o in options if o is not None]))
    if criteria.intervention.strip():
        options = [_keyed_query(reader, schema, "itown_key", "itowns", criteria.intervention)]
        if criteria.intervention_country:
            options.append(wq.Term("country", criteria.intervention_country))
        parts.append(wq.Or([o for o in options if o is not None]))
    if not parts:
        return None
    return wq.And(parts).normalize()


def _run(snap: _Snapshot, criteria: Criteria, offset: int, limit: int) -> Hits:
    query = _text_query(snap, criteria)
    if query is None:
        base = snap.live
    elif query is wq.NullQuery:
        base = 0
    else:
        base = bitsets.from_docs(snap.searcher.docs_for_query(query)) & snap.live

    masks = {}
    for name in FACETS:
        values = criteria.filters.get(name) or []
        if values:
            mask = 0
            for value in values:
                mask |= snap.facets[name].get(value, 0)
            masks[name] = mask

    matched = base
    for mask in masks.values():
        matched &= mask

    facets = {}
    for name in FACETS:
        scope = base
        for other, mask in masks.items():
            if other != name:
                scope &= mask
        counts = {}
        for value, value_bits in snap.facets[name].items():
            n = (scope & value_bits).bit_count()
            if n:
                counts[value] = n
        for value in criteria.filters.get(name) or []:
            counts.setdefault(value, 0)
        facets[name] = counts

    total = matched.bit_count()
    docnums = _page(snap, query, criteria, matched, total, offset, limit, bool(masks)) if total > offset else []
    return Hits(total=total, actor_ids=[snap.ids[d] for d in docnums], facets=facets)


def _page(snap, query, criteria, matched, total, offset, limit, filtered) -> list[int]:
    if criteria.sort == "relevance" and query is not None:
        filter_set = set(bitsets.iter_docs(matched)) if filtered else None
        results = snap.searcher.search(query, filter=filter_set, limit=offset + limit)
        return [hit.docnum for hit in results][offset:offset + limit]
    order_name = "by_updated" if criteria.sort == "updated" else "by_name"
    if total <= 5000:
        rank = snap.rank(order_name)
        docs = sorted(bitsets.iter_docs(matched), key=rank.__getitem__)
        return docs[offset:offset + limit]
    raw = bitsets.to_bytes(matched)
    picked = []
    needed = offset + limit
    for d in getattr(snap, order_name):
        if bitsets.contains(raw, d):
            picked.append(d)
            if len(picked) >= needed:
                break
    return picked[offset:]
