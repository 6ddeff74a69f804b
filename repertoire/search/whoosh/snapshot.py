"""What searches read: one searcher and per-segment caches (ids, facet bitsets, sort orders)."""
from __future__ import annotations

import heapq
import json
from array import array
from collections import Counter, OrderedDict
from itertools import chain

from ..engine import FACETS, PARTNERSHIP_FACETS
from . import bits as bitsets
from .query import free_text_parser

# Facets of many values, each held by few documents (a directory of 1,000,000 actors has ~45,000 networks):
# kept as each document's values rather than a bitset per value, which would cost a pass over the whole
# directory per value to count (4,500 values × 12 kB at 100,000 actors: 40 ms a search, 100× that at
# 1,000,000) and as much memory. A value's bitset (a filter) is made when asked for, and kept a while.
SPARSE_FACETS = ("network",)


class Segment:
    """What one Whoosh segment gives, cached by segment id (segments never change).

    Deletions do change: they are applied through the live mask of each snapshot.
    """

    TERM_CACHE = 400

    def __init__(self, reader):
        self.size = reader.doc_count_all()
        self.facets: dict[str, dict[str, int]] = {name: {} for name in FACETS if name not in SPARSE_FACETS}
        self.postings: dict[str, dict[str, array]] = {name: {} for name in SPARSE_FACETS}  # value -> docs
        self.doc_values: dict[str, dict[int, tuple]] = {name: {} for name in SPARSE_FACETS}  # doc -> values
        self.valued: dict[str, int] = {name: 0 for name in SPARSE_FACETS}  # bits: docs with a value
        self.terms: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._all_counts: dict[str, Counter] = {}
        if not self.size:
            self.ids, self.name_keys, self.updated = [], [], []
            self._partnerships = None
            return
        id_col = reader.column_reader("id")
        self.ids = [int(id_col[d]) if id_col[d] else 0 for d in range(self.size)]
        for name in FACETS:
            if name in SPARSE_FACETS:
                self._read_sparse(reader, name)
                continue
            for term in reader.field_terms(name):
                self.facets[name][term] = bitsets.from_docs(reader.postings(name, term).all_ids())
        name_col, updated_col = reader.column_reader("name_sort"), reader.column_reader("updated")
        self.name_keys = [name_col[d] for d in range(self.size)]
        self.updated = [updated_col[d] or 0 for d in range(self.size)]
        self.by_name = sorted(range(self.size), key=self.name_keys.__getitem__)
        self.by_updated = sorted(range(self.size), key=lambda d: (-self.updated[d], self.name_keys[d]))
        self._partnerships = None

    def all_counts(self, name: str) -> Counter:
        """A sparse facet's counts over every document of the segment, deleted or not (made once)."""
        if name not in self._all_counts:
            self._all_counts[name] = Counter(chain.from_iterable(self.doc_values[name].values()))
        return self._all_counts[name]

    def _read_sparse(self, reader, name: str):
        values: dict[int, list[str]] = {}
        for term in reader.field_terms(name):
            docs = array("i", reader.postings(name, term).all_ids())
            self.postings[name][term] = docs
            for d in docs:
                values.setdefault(d, []).append(term)
        self.doc_values[name] = {d: tuple(terms) for d, terms in values.items()}
        self.valued[name] = bitsets.from_docs(sorted(values))

    def partnerships(self, reader) -> "SegmentPartnerships":
        """This segment's partnerships (``reader``: one of this segment), read on the first partnerships search."""
        if self._partnerships is None:
            self._partnerships = SegmentPartnerships(reader, self.size, self.name_keys)
        return self._partnerships

    def term_bits(self, reader, field: str, text: str) -> int:
        key = (field, text)
        bits = self.terms.get(key)
        if bits is None:
            try:
                bits = bitsets.from_docs(reader.postings(field, text).all_ids())
            except Exception:  # term absent from this segment
                bits = 0
            if bits.bit_length() > 4096:  # cheap ones are not worth the memory
                self.terms[key] = bits
                if len(self.terms) > self.TERM_CACHE:
                    self.terms.popitem(last=False)
        else:
            self.terms.move_to_end(key)
        return bits


class SegmentPartnerships:
    """The partnerships held by one segment's documents (their ``partnerships`` column), numbered 0…n-1.

    Bitsets here are over partnership numbers, not document numbers.
    """

    def __init__(self, reader, size: int, name_keys: list):
        self.ids: list[int] = []
        self.holders: list[int] = []  # local docnum of each partnership's holder
        self.keys: list[tuple] = []  # sort key: start year (unknown last), holder's name, id
        self.facets: dict[str, dict[str, int]] = {name: {} for name in PARTNERSHIP_FACETS}
        # a holder's partnership numbers: a list, not a bitset (holders × partnerships / 8 bytes: 23 MB at
        # 100,000 actors, ~2 GB at 1,000,000); its bitset made when a search names the holder
        self.actors: dict[str, array] = {}
        self.years: dict[int, int] = {}
        self.terms: dict[str, int] = {}
        self.by_key: list[int] = []
        if not size:
            return
        column = reader.column_reader("partnerships")
        postings: dict[tuple, list[int]] = {}
        for d in range(size):
            raw = column[d]
            if not raw:
                continue
            data = json.loads(raw)
            for pid, kind, status, year, countries, terms in data["rows"]:
                n = len(self.ids)
                self.ids.append(pid)
                self.holders.append(d)
                self.keys.append((year is None, year or 0, name_keys[d], pid))
                values = [("kind", kind), ("status", status), ("department", data["department"]),
                          ("actor", data["slug"])]
                values += [("country", c) for c in countries]
                if year is not None:
                    values += [("decade", str(year - year % 10)), ("year", year)]
                values += [("term", t) for t in terms.split()]
                for key in values:
                    postings.setdefault(key, []).append(n)
        targets = {"actor": self.actors, "year": self.years, "term": self.terms}
        for (name, value), numbers in postings.items():
            if name == "actor":
                self.actors[value] = array("i", numbers)
                continue
            bits = bitsets.from_docs(numbers)
            (targets[name] if name in targets else self.facets[name])[value] = bits
        self.by_key = sorted(range(len(self.ids)), key=self.keys.__getitem__)


class Partnerships:
    """The partnerships of a snapshot's live documents, over all its segments (built once per snapshot)."""

    def __init__(self, leaves, live: int):
        self.parts = []  # (segment partnerships, offset in partnership numbers)
        self.ids: list[int] = []
        self.keys: list[tuple] = []
        self.live = 0
        raw = bitsets.to_bytes(live)
        offset = 0
        for reader, cache, doc_offset in leaves:
            part = cache.partnerships(reader)
            self.parts.append((part, offset))
            self.ids.extend(part.ids)
            self.keys.extend(part.keys)
            alive = [n for n, d in enumerate(part.holders) if bitsets.contains(raw, d + doc_offset)]
            self.live |= bitsets.from_docs(alive) << offset
            offset += len(part.ids)
        self.facets = {}
        for name in PARTNERSHIP_FACETS:
            merged: dict[str, int] = {}
            for part, offset in self.parts:
                for value, bits in part.facets[name].items():
                    merged[value] = merged.get(value, 0) | (bits << offset)
            self.facets[name] = {value: bits & self.live for value, bits in merged.items()}
        self._order = None
        self._cache: dict[tuple, int] = {}
        self._crossed: dict[tuple, dict] = {}
        self._browse_counts = None

    def browse_counts(self) -> dict[str, dict[str, int]]:
        """Facet counts over every live partnership (no text, no filter): the same until the next change."""
        if self._browse_counts is None:
            self._browse_counts = {name: {value: n for value, bits in values.items() if (n := bits.bit_count())}
                                   for name, values in self.facets.items()}
        return self._browse_counts

    def crossed(self, first: str, second: str) -> dict[tuple[str, str], int]:
        """(value of facet ``first``, value of facet ``second``) -> live partnerships holding both (once per
        snapshot: a département × country table is ~20,000 intersections, ~100 ms at 300,000 partnerships)."""
        key = ("crossed", first, second)
        if key not in self._crossed:
            table = {}
            for a, a_bits in self.facets[first].items():
                for b, b_bits in self.facets[second].items():
                    n = (a_bits & b_bits).bit_count()
                    if n:
                        table[(a, b)] = n
            self._crossed[key] = table
        return self._crossed[key]

    def _bits(self, table: str, value) -> int:
        key = (table, value)
        if key not in self._cache:
            bits = 0
            for part, offset in self.parts:
                found = getattr(part, table).get(value, 0)
                bits |= (found if isinstance(found, int) else bitsets.from_docs(found)) << offset
            if len(self._cache) > 1000:
                self._cache.clear()
            self._cache[key] = bits & self.live
        return self._cache[key]

    def term_bits(self, term: str) -> int:
        return self._bits("terms", term)

    def actor_bits(self, slug: str) -> int:
        return self._bits("actors", slug)

    def year_bits(self, since: int | None, until: int | None) -> int:
        """Partnerships whose start year is known and within [since, until]."""
        years = {year for part, _ in self.parts for year in part.years
                 if (since is None or year >= since) and (until is None or year <= until)}
        bits = 0
        for year in years:
            bits |= self._bits("years", year)
        return bits

    def order(self) -> list[int]:
        """Live partnership numbers by start year (unknown last), then holder's name."""
        if self._order is None:
            raw = bitsets.to_bytes(self.live)
            streams = [_partnership_stream(part, offset) for part, offset in self.parts if part.ids]
            merged = heapq.merge(*streams) if len(streams) > 1 else (streams[0] if streams else ())
            self._order = [n for _, n in merged if bitsets.contains(raw, n)]
        return self._order


def _partnership_stream(part: SegmentPartnerships, offset: int):
    """(sort key, partnership number) of one segment, in order."""
    return ((part.keys[n], n + offset) for n in part.by_key)


def _sorted_stream(cache: Segment, offset: int, name: str):
    """(sort key, global docnum) of one segment, in order."""
    if name == "by_name":
        return ((cache.name_keys[d], d + offset) for d in cache.by_name)
    return (((-cache.updated[d], cache.name_keys[d]), d + offset) for d in cache.by_updated)


class Snapshot:
    """One searcher and everything derived from it, assembled from per-segment caches."""

    def __init__(self, searcher, segments: dict):
        self.searcher = searcher
        self.parser = free_text_parser(searcher.schema)
        self.leaves = []  # (reader, segment cache, offset)
        fresh = {}
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            segment = reader.segment() if hasattr(reader, "segment") else None
            key = segment.segment_id() if segment is not None else None
            cache = segments.get(key) if key else None
            if cache is None:
                cache = Segment(reader)
            if key:
                fresh[key] = cache
            self.leaves.append((reader, cache, offset))
        segments.clear()
        segments.update(fresh)  # forget merged-away segments
        self.size = sum(cache.size for _, cache, _ in self.leaves)
        self.live = 0
        self.ids = []
        for reader, cache, offset in self.leaves:
            deleted = reader.deleted_docs_set if hasattr(reader, "deleted_docs_set") else frozenset()
            local = ((1 << cache.size) - 1) & ~bitsets.from_docs(deleted)
            self.live |= local << offset
            self.ids.extend(cache.ids)
        self.count = self.live.bit_count()
        self.facets = {}  # the dense facets: value -> bits
        for name in FACETS:
            if name in SPARSE_FACETS:
                continue
            merged: dict[str, int] = {}
            for _, cache, offset in self.leaves:
                for value, bits in cache.facets[name].items():
                    merged[value] = merged.get(value, 0) | (bits << offset)
            self.facets[name] = {value: bits & self.live for value, bits in merged.items()}
        self._orders, self._ranks, self._terms = {}, {}, {}
        self._sparse_bits: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._browse_counts: dict[str, dict[str, int]] = {}
        self.lexicons: dict[str, dict[str, int]] = {}  # kind -> value -> documents (``lexicon``)
        self._partnerships = None

    def partnerships(self) -> Partnerships:
        if self._partnerships is None:
            self._partnerships = Partnerships(self.leaves, self.live)
        return self._partnerships

    def browse_counts(self, name: str) -> dict[str, int]:
        """A facet's counts over every live document (no text, no filter): the same until the next change.

        A sparse facet's (the networks: a pass over every document that holds one, ~0.6 s at 1,000,000 actors
        after each change) are each segment's counts, kept with the segment, less those of its deleted
        documents."""
        if name not in self._browse_counts:
            if name in SPARSE_FACETS:
                counts: Counter = Counter()
                for reader, cache, _offset in self.leaves:
                    counts.update(cache.all_counts(name))
                    table = cache.doc_values[name]
                    deleted = reader.deleted_docs_set if hasattr(reader, "deleted_docs_set") else ()
                    counts.subtract(chain.from_iterable(table.get(d, ()) for d in deleted))
                self._browse_counts[name] = {value: n for value, n in counts.items() if n > 0}
            else:
                self._browse_counts[name] = self.counts(name, self.live)
        return self._browse_counts[name]

    def counts(self, name: str, scope: int) -> dict[str, int]:
        """value -> documents of ``scope`` (live documents) holding it, for the values held at least once."""
        if name in SPARSE_FACETS:  # through the documents of ``scope`` that hold a value: a pass over those
            counts: Counter = Counter()
            for _, cache, offset in self.leaves:
                table = cache.doc_values[name]
                if table:
                    local = (scope >> offset if offset else scope) & cache.valued[name]
                    counts.update(chain.from_iterable(map(table.__getitem__, bitsets.iter_docs(local))))
            return dict(counts)
        return {value: n for value, bits in self.facets[name].items() if (n := (scope & bits).bit_count())}

    def facet_bits(self, name: str, value: str) -> int:
        """The live documents holding ``value`` of facet ``name`` (a filter)."""
        if name not in SPARSE_FACETS:
            return self.facets[name].get(value, 0)
        key = (name, value)
        bits = self._sparse_bits.get(key)
        if bits is None:
            bits = 0
            for _, cache, offset in self.leaves:
                docs = cache.postings[name].get(value)
                if docs:
                    bits |= bitsets.from_docs(docs) << offset
            bits &= self.live
            self._sparse_bits[key] = bits
            if len(self._sparse_bits) > 200:
                self._sparse_bits.popitem(last=False)
        else:
            self._sparse_bits.move_to_end(key)
        return bits

    def term_bits(self, field: str, text: str) -> int:
        key = (field, text)
        if key not in self._terms:
            bits = 0
            for reader, cache, offset in self.leaves:
                bits |= cache.term_bits(reader, field, text) << offset
            self._terms[key] = bits & self.live
            if len(self._terms) > 1000:
                self._terms.clear()
        return self._terms[key]

    def order(self, name: str) -> list[int]:
        """Live global docnums sorted by name ("by_name") or newest first ("by_updated")."""
        if name not in self._orders:
            raw = bitsets.to_bytes(self.live)
            streams = [_sorted_stream(cache, offset, name) for _, cache, offset in self.leaves]
            merged = heapq.merge(*streams) if len(streams) > 1 else (streams[0] if streams else ())
            self._orders[name] = [d for _, d in merged if bitsets.contains(raw, d)]
        return self._orders[name]

    def sort_key(self, name: str):
        """The key that orders global docnums as ``order(name)`` does: (name key, docnum) or, newest first,
        ((-updated, name key), docnum). Made from the segments' own columns (two list concatenations), not
        from the whole order: a change makes a new snapshot, and a sorted page of a few thousand matches
        then needs no pass over the directory (~1 s at 1,000,000 actors)."""
        if "names" not in self._ranks:
            self._ranks["names"] = list(chain.from_iterable(cache.name_keys for _, cache, _ in self.leaves))
        names = self._ranks["names"]
        if name == "by_name":
            return lambda d: (names[d], d)
        if "updated" not in self._ranks:
            self._ranks["updated"] = list(chain.from_iterable(cache.updated for _, cache, _ in self.leaves))
        updated = self._ranks["updated"]
        return lambda d: ((-updated[d], names[d]), d)

    WALKED_AT_MOST = 50_000  # documents merged in order before the whole order is made (and kept) instead

    def first_in_order(self, name: str, raw: bytes, needed: int) -> list[int]:
        """The first ``needed`` documents of ``raw`` (``bitsets.to_bytes``) in ``order(name)``.

        Once the snapshot's order is made, by walking it; before, by merging the segments' own orders as far
        as the page needs (a first page of a browse walks a few dozen documents), and only past
        ``WALKED_AT_MOST`` documents is the whole order made — what a new snapshot cost on its first sorted
        search (~1 s at 1,000,000 actors, after each change).
        """
        picked = []
        if name not in self._orders and needed < self.WALKED_AT_MOST:  # an export needs the whole order
            streams = [_sorted_stream(cache, offset, name) for _, cache, offset in self.leaves]
            merged = heapq.merge(*streams) if len(streams) > 1 else (streams[0] if streams else ())
            for steps, (_key, d) in enumerate(merged):
                if steps >= self.WALKED_AT_MOST:
                    break
                if bitsets.contains(raw, d):
                    picked.append(d)
                    if len(picked) >= needed:
                        return picked
            else:
                return picked
            picked = []
        for d in self.order(name):
            if bitsets.contains(raw, d):
                picked.append(d)
                if len(picked) >= needed:
                    break
        return picked

    def close(self):
        self.searcher.close()
