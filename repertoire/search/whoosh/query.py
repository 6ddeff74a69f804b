"""From criteria to ordered document numbers and disjunctive facet counts, on a snapshot's bitsets.

Facet counts are computed from per-value document bitsets built once per
searcher, intersected with the matched set (see WHOOSH-NOTES: native
``groupedby`` is far slower and multi-valued fields need care).
"""
from __future__ import annotations

import bisect
import logging

from typing import TYPE_CHECKING

from whoosh import query as wq
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.qparser import AndGroup, MultifieldParser
from whoosh.qparser import plugins as qplugins

from ...text import fold_words
from ..engine import FACETS, PARTNERSHIP_FACETS, Alternative, Criteria, Hits, PartnershipCriteria, PartnershipHits
from . import bits as bitsets

if TYPE_CHECKING:
    from .snapshot import Snapshot

log = logging.getLogger(__name__)


def free_text_parser(schema):
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


MIN_PREFIX = 2  # characters typed before a value is also looked for by its start


def _value_query(reader, schema, key_field, text_field, code_fields, value: Alternative):
    """One value of the place or intervention criterion.

    The whole value (« Saint-Denis ») if the index holds it; else its words in
    that order, or (when it names no département or country exactly) the
    values that start like it (« Cae » for Caen); or any of the codes it names.
    """
    options = []
    key = fold_words(value.text)
    if key and reader.doc_frequency(key_field, key):
        options.append(wq.Term(key_field, key))
    else:
        words = _words_query(schema, text_field, value.text)
        if words is not None:
            options.append(words)
        if not value.exact and len(key) >= MIN_PREFIX:
            options.append(wq.Prefix(key_field, key))
    options.extend(wq.Term(field, code) for code in value.codes for field in code_fields)
    return wq.Or(options) if options else wq.NullQuery


def _name_query(reader, schema, text):
    parts = []
    for word in _tokens(schema, "name_words", text):
        options = [wq.Term("name_words", word)]
        if len(word) >= 2:
            options.append(wq.Prefix("name_words", word))
        options.extend(wq.Term("name", stem) for stem in _tokens(schema, "name", word))
        parts.append(wq.Or(options))
    return wq.And(parts) if parts else None


def _text_query(snap: Snapshot, criteria: Criteria):
    schema = snap.searcher.schema
    reader = snap.searcher.reader()
    parts = []
    if criteria.q.strip():
        try:
            parsed = snap.parser.parse(criteria.q)
        except Exception:  # the parser is lenient, but never let a query text become a 500
            log.warning("query parse failed, falling back to plain words", exc_info=True)
            parsed = snap.parser.parse(" ".join(fold_words(criteria.q).split()))
        if parsed is not None and parsed is not wq.NullQuery:
            parts.append(parsed)
    if criteria.name.strip():
        parts.append(_name_query(reader, schema, criteria.name) or wq.NullQuery)
    # A country of intervention is also met through a partner's country (pcountry).
    for values, fields in ((criteria.place_values(), ("place_key", "place", ("department",))),
                           (criteria.intervention_values(), ("itown_key", "itowns", ("country", "pcountry")))):
        if values:
            parts.append(wq.Or([_value_query(reader, schema, *fields, value) for value in values]))
    if not parts:
        return None
    return wq.And(parts).normalize()


def _bits(snap: Snapshot, q) -> int:
    """The live documents matching ``q``, computed on cached bitsets where the query allows."""
    if q is wq.NullQuery:
        return 0
    if isinstance(q, wq.Term):
        return snap.term_bits(q.fieldname, q.text)
    if isinstance(q, wq.And):
        result = snap.live
        for sub in sorted(q.subqueries, key=lambda sub: not isinstance(sub, wq.Term)):
            result &= _bits(snap, sub)
            if not result:
                break
        return result
    if isinstance(q, wq.Or) and not getattr(q, "minmatch", 0):
        result = 0
        for sub in q.subqueries:
            result |= _bits(snap, sub)
        return result
    if isinstance(q, wq.AndNot):
        return _bits(snap, q.a) & ~_bits(snap, q.b)
    if isinstance(q, wq.Not):
        return snap.live & ~_bits(snap, q.query)
    if isinstance(q, wq.Prefix):
        result = 0
        for term in snap.searcher.reader().expand_prefix(q.fieldname, q.text):
            result |= snap.term_bits(q.fieldname, term.decode("utf-8") if isinstance(term, bytes) else term)
        return result
    if isinstance(q, wq.Every):
        return snap.live
    return bitsets.from_docs(snap.searcher.docs_for_query(q)) & snap.live  # phrases and the like


def _in_names(q):
    """The same query, with free-text words looked for in names and acronyms only."""
    if isinstance(q, wq.Term) and q.fieldname == "text":
        return wq.Term("name", q.text)
    if isinstance(q, wq.Phrase) and q.fieldname == "text":
        return wq.Phrase("name", q.words)
    if isinstance(q, (wq.And, wq.Or)):
        return type(q)([_in_names(sub) for sub in q.subqueries])
    if isinstance(q, wq.AndNot):
        return wq.AndNot(_in_names(q.a), q.b)
    return q


class _DocSet(wq.Query):
    """Matches exactly the given global document numbers; scores nothing.

    Put in an And with a text query, it makes Whoosh score only these documents.
    """

    def __init__(self, docs: list[int], offsets: dict[int, tuple[int, int]]):
        self.docs = docs
        self.offsets = offsets  # id(leaf searcher) -> (offset, size)

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return f"_DocSet({len(self.docs)})"

    def estimate_size(self, ixreader):
        return len(self.docs)

    def matcher(self, searcher, context=None):
        offset, size = self.offsets.get(id(searcher), (0, searcher.doc_count_all()))
        lo, hi = bisect.bisect_left(self.docs, offset), bisect.bisect_left(self.docs, offset + size)
        local = [d - offset for d in self.docs[lo:hi]]
        return ListMatcher(local, all_weights=0.0) if local else NullMatcher()


SCORED_AT_MOST = 3000  # candidates
SCORING_POSTINGS = 2_500  # postings Whoosh would read for the query's words


SCORED_STEPS = 20_000  # candidates × terms: a query that expands to many terms (« sa » to every Saint-…)
# costs a matcher per term for each candidate, whatever its postings


def _scoring_cost(snap: Snapshot, query) -> tuple[int, int]:
    """How many postings scoring ``query`` reads (Whoosh walks each word's whole list), and its terms."""
    reader = snap.searcher.reader()
    terms = [term for leaf in query.leaves() for term in leaf.expanded_terms(reader)]
    return sum(reader.doc_frequency(fieldname, text) for fieldname, text in terms), len(terms)


def _ranked(snap: Snapshot, query, candidates: int, needed: int, cost: tuple[int, int]) -> list[int]:
    """Up to ``needed`` of ``candidates`` (bits) by BM25, or by name when scoring would cost too much.

    ``cost`` (``_scoring_cost``, decided once per search) says whether the query's words are rare enough to
    score. Scoring costs about 8 ms per thousand postings of the query's words
    (measured at 100 000 actors), whatever the number of candidates: words
    found in thousands of entries (« santé », « jeunes » at 100 000 actors) are
    ordered by name within their tier (names first) instead, as are candidate
    sets too large to score, and starts of names that expand to many terms for
    many candidates (« sa » at 20 000 actors: 22 terms, 1 467 candidates,
    65 ms scored). Regional directories (a few thousand actors) are ranked by
    BM25.
    """
    count = candidates.bit_count()
    postings, terms = cost
    if count > SCORED_AT_MOST or postings > SCORING_POSTINGS or count * terms > SCORED_STEPS:
        return _in_order(snap, "by_name", candidates, count, needed)
    docs = list(bitsets.iter_docs(candidates))
    offsets = {id(sub): (offset, sub.doc_count_all()) for sub, offset in snap.searcher.leaf_searchers()}
    results = snap.searcher.search(wq.And([query, _DocSet(docs, offsets)]), limit=needed)
    return [hit.docnum for hit in results]


def run(snap: Snapshot, criteria: Criteria, offset: int, limit: int) -> Hits:
    query = _text_query(snap, criteria)
    base = snap.live if query is None else _bits(snap, query)

    masks = {}
    for name in FACETS:
        values = criteria.filters.get(name) or []
        if values:
            mask = 0
            for value in values:
                mask |= snap.facet_bits(name, value)
            masks[name] = mask

    matched = base
    for mask in masks.values():
        matched &= mask

    wanted = [name for name in FACETS if name in criteria.facets]
    if query is None and not masks:  # browsing: the counts of the whole directory, computed once
        facets = {name: dict(snap.browse_counts(name)) for name in wanted}
    else:
        facets = _facet_counts(snap, base, masks, criteria, wanted)

    total = matched.bit_count()
    docnums = _page(snap, query, criteria, matched, total, offset, limit) if total > offset and limit > 0 else []
    return Hits(total=total, actor_ids=[snap.ids[d] for d in docnums], facets=facets)


def _facet_counts(snap: Snapshot, base: int, masks: dict[str, int], criteria: Criteria, wanted) -> dict:
    """Disjunctive counts: each facet counted under the text and every other facet's filter."""
    facets = {}
    for name in wanted:
        scope = base
        for other, mask in masks.items():
            if other != name:
                scope &= mask
        # Filtered by this facet alone (a network's members): its counts are the whole directory's, kept.
        counts = dict(snap.browse_counts(name)) if scope == snap.live else snap.counts(name, scope)
        for value in criteria.filters.get(name) or []:
            counts.setdefault(value, 0)
        facets[name] = counts
    return facets


def _exact_names(snap: Snapshot, criteria: Criteria) -> int:
    """The documents whose whole name or acronym is the name criterion or the free text, as typed."""
    found = 0
    for text in (criteria.name, criteria.q):
        key = fold_words(text)
        if key:
            found |= snap.term_bits("name_key", key)
    return found


def _page(snap, query, criteria, matched, total, offset, limit) -> list[int]:
    needed = offset + limit
    if criteria.sort == "relevance" and query is not None:
        # The name or acronym typed exactly first; then matches in names and acronyms; then the others.
        # BM25 within each group.
        exact = matched & _exact_names(snap, criteria)
        named = matched & _bits(snap, _in_names(query)) if criteria.q.strip() else matched
        groups = [exact, named & ~exact, matched & ~named & ~exact]
        cost = _scoring_cost(snap, query)
        ranked = []
        for group in groups:
            if len(ranked) >= needed:
                break
            if group:
                ranked += _ranked(snap, query, group, needed - len(ranked), cost)
        return ranked[offset:needed]
    order_name = "by_updated" if criteria.sort == "updated" else "by_name"
    return _in_order(snap, order_name, matched, total, needed)[offset:]


KEY_SORTED_AT_MOST = 5000  # matched documents sorted by their keys; more: the order is walked


def _in_order(snap, order_name: str, bits: int, count: int, needed: int) -> list[int]:
    """The first ``needed`` documents of ``bits`` in a precomputed order."""
    if count <= KEY_SORTED_AT_MOST:  # few: sort them by their keys
        return sorted(bitsets.iter_docs(bits), key=snap.sort_key(order_name))[:needed]
    return snap.first_in_order(order_name, bitsets.to_bytes(bits), needed)  # many: walk the order


SORTED_AT_MOST = 5000  # matched partnerships sorted directly; more: the snapshot's order is walked


def run_partnerships(snap: Snapshot, criteria: PartnershipCriteria, offset: int, limit: int) -> PartnershipHits:
    """Partnerships of the live documents: text, holder and years restrict; facets are disjunctive."""
    table = snap.partnerships()
    base = table.live
    if criteria.q.strip():
        for term in set(_tokens(snap.searcher.schema, "text", criteria.q)):
            base &= table.term_bits(term)
    if criteria.actor:
        base &= table.actor_bits(criteria.actor)
    if criteria.since is not None or criteria.until is not None:
        base &= table.year_bits(criteria.since, criteria.until)
    masks = {}
    for name in PARTNERSHIP_FACETS:
        values = criteria.filters.get(name) or []
        if values:
            mask = 0
            for value in values:
                mask |= table.facets[name].get(value, 0)
            masks[name] = mask
    matched = base
    for mask in masks.values():
        matched &= mask
    facets = {}
    browsing = base == table.live and not masks  # every live partnership: the counts are the snapshot's
    for name in PARTNERSHIP_FACETS:
        if browsing:
            facets[name] = dict(table.browse_counts()[name])
            continue
        scope = base
        for other, mask in masks.items():
            if other != name:
                scope &= mask
        counts = {value: n for value, bits in table.facets[name].items() if (n := (scope & bits).bit_count())}
        for value in criteria.filters.get(name) or []:
            counts.setdefault(value, 0)
        facets[name] = counts
    total = matched.bit_count()
    numbers: list[int] = []
    if total > offset and limit > 0:  # no page asked for (counts only): no order made
        needed = offset + limit
        if total <= SORTED_AT_MOST:
            numbers = sorted(bitsets.iter_docs(matched), key=table.keys.__getitem__)[offset:needed]
        else:
            raw = bitsets.to_bytes(matched)
            for n in table.order():
                if bitsets.contains(raw, n):
                    numbers.append(n)
                    if len(numbers) >= needed:
                        break
            numbers = numbers[offset:]
    return PartnershipHits(total=total, partnership_ids=[table.ids[n] for n in numbers], facets=facets)
