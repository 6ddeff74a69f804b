"""The Whoosh index: schema, analyzers, writing, and searching with facet counts.

This is the only module that imports Whoosh. Facet counts are computed from
per-value document bitsets built once per searcher, intersected with the
matched set (see WHOOSH-NOTES: native ``groupedby`` is far slower and
multi-valued fields need care).
"""
from __future__ import annotations

import bisect
import heapq
import logging
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError as IndexLocked  # noqa: F401  (the writer is another process's)
from whoosh import query as wq
from whoosh.analysis import (CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter, Token,
                             Tokenizer)
from whoosh.lang import stemmer_for_language
from whoosh import columns
from whoosh.fields import COLUMN, ID, KEYWORD, TEXT, Schema
from whoosh.lang import stopwords_for_language
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.qparser import AndGroup, MultifieldParser
from whoosh.qparser import plugins as qplugins
from whoosh.support.charset import accent_map

from . import bits as bitsets
from .bulk import BulkSegmentWriter, build_segment, read_log_position
from ..actor_fields import TEXT_INDEXED
from ..text import fold_words, sort_key

log = logging.getLogger(__name__)

FACETS = ("country", "department", "domain", "activity", "kind")


INDEX_FORMAT = "5"  # bump when analysis or schema change: `repertoire init` then rebuilds the index
SUGGEST_SCAN = 2000  # lexicon terms looked at, at most, for one suggestion
_WORD = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)  # RegexTokenizer's default pattern


class _WordAnalyzer(Tokenizer):
    """Words of ``_WORD``, lower-cased, then turned into terms by ``_term``, in one pass.

    What a composed Whoosh chain does, without a generator per filter:
    indexing spends most of its time here. ``positions`` gives a bulk build
    each term's positions directly (see ``bulk``).
    """

    stops: frozenset = frozenset()

    def __init__(self):
        self.cache: dict[str, str] = {}  # lower-case word -> term
        self.raw: dict[str, bytes | bool] = {}  # word as written -> term in UTF-8, False if a stop word

    def __eq__(self, other):
        return type(other) is type(self)

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__()

    def _convert(self, word: str) -> str:
        raise NotImplementedError

    def _term(self, word: str) -> str:
        term = self.cache.get(word)
        if term is None:
            term = self._convert(word)
            if len(self.cache) < 500_000:
                self.cache[word] = term
        return term

    def positions(self, value: str) -> dict[bytes, list[int]]:
        """term (UTF-8) -> positions of the words kept, as ``__call__(value, positions=True)`` numbers them."""
        found: dict[bytes, list[int]] = {}
        known = self.raw
        pos = None
        for index, word in enumerate(_WORD.findall(value)):
            term = known.get(word)
            if term is None:
                term = self._raw_term(word)
            if term is False:  # a stop word
                continue
            pos = index if pos is None else pos + 1
            places = found.get(term)
            if places is None:
                found[term] = [pos]
            else:
                places.append(pos)
        return found

    def _raw_term(self, word: str):
        """The term of a word as written (False for a stop word), remembered."""
        lowered = word.lower()
        term = False if lowered in self.stops else self._term(lowered).encode("utf-8")
        if len(self.raw) < 500_000:
            self.raw[word] = term
        return term

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        matches = _WORD.finditer(value) if tokenize else [re.match(r"(?s).*", value)]
        pos = None  # as StopFilter(renumber=True): the first kept word keeps its place, then +1 each
        for index, match in enumerate(matches, start_pos):
            word = match.group(0).lower()
            stopped = word in self.stops
            if stopped and removestops:
                continue
            if not stopped:
                pos = index if pos is None else pos + 1
            token.text = word if stopped else self._term(word)
            token.stopped = stopped
            token.boost = 1.0
            if keeporiginal:
                token.original = match.group(0)
            if positions:
                token.pos = index if stopped else pos
            if chars:
                token.startchar, token.endchar = start_char + match.start(), start_char + match.end()
            yield token


class FrenchAnalyzer(_WordAnalyzer):
    """Lower case, stop words, then accent folding, then French stemming.

    The same steps in the same order as ``RegexTokenizer | LowercaseFilter |
    StopFilter | CharsetFilter | StemFilter`` (WHOOSH-NOTES: stop words before
    folding before stemming).
    """

    def __init__(self):
        super().__init__()
        self.stops = frozenset(stopwords_for_language("fr"))
        self.stem = stemmer_for_language("fr")

    def _convert(self, word: str) -> str:
        return self.stem(accent_fold(word))


class FoldingAnalyzer(_WordAnalyzer):
    """Words in lower case without accents, no stemming (names, places):
    ``RegexTokenizer | LowercaseFilter | CharsetFilter(accent_map)``."""

    def _convert(self, word: str) -> str:
        return accent_fold(word)


def accent_fold(word: str) -> str:
    return word.translate(accent_map) if not word.isascii() else word


def french_analyzer():
    return FrenchAnalyzer()


def reference_french_analyzer():
    """Whoosh's composed chain that ``FrenchAnalyzer`` must match term for term (tests check it)."""
    return (RegexTokenizer() | LowercaseFilter()
            | StopFilter(stoplist=stopwords_for_language("fr"), minsize=1)
            | CharsetFilter(accent_map) | StemFilter(lang="fr"))


def folding_analyzer():
    return FoldingAnalyzer()


def reference_folding_analyzer():
    """Whoosh's composed chain that ``FoldingAnalyzer`` must match term for term (tests check it)."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


class TextColumn(COLUMN):
    """A column of text (UTF-8), for sort keys."""

    def __init__(self):
        super().__init__(columns.VarBytesColumn())

    def to_column_value(self, value):
        return value.encode("utf-8")

    def from_column_value(self, value):
        return value.decode("utf-8")


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
        town_suggest=KEYWORD(commas=True, lowercase=False),  # "folded|Display" for suggestions
        name_sort=TextColumn(),  # columns only: sorted on, never searched
        updated=COLUMN(columns.NumericColumn("q")),
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


class _Segment:
    """What one Whoosh segment gives, cached by segment id (segments never change).

    Deletions do change: they are applied through the live mask of each snapshot.
    """

    TERM_CACHE = 400

    def __init__(self, reader):
        self.size = reader.doc_count_all()
        self.facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        self.terms: OrderedDict[tuple[str, str], int] = OrderedDict()
        if not self.size:
            self.ids, self.name_keys, self.updated = [], [], []
            return
        id_col = reader.column_reader("id")
        self.ids = [int(id_col[d]) if id_col[d] else 0 for d in range(self.size)]
        for name in FACETS:
            for term in reader.field_terms(name):
                self.facets[name][term] = bitsets.from_docs(reader.postings(name, term).all_ids())
        name_col, updated_col = reader.column_reader("name_sort"), reader.column_reader("updated")
        self.name_keys = [name_col[d] for d in range(self.size)]
        self.updated = [updated_col[d] or 0 for d in range(self.size)]
        self.by_name = sorted(range(self.size), key=self.name_keys.__getitem__)
        self.by_updated = sorted(range(self.size), key=lambda d: (-self.updated[d], self.name_keys[d]))

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


def _sorted_stream(cache: _Segment, offset: int, name: str):
    """(sort key, global docnum) of one segment, in order."""
    if name == "by_name":
        return ((cache.name_keys[d], d + offset) for d in cache.by_name)
    return (((-cache.updated[d], cache.name_keys[d]), d + offset) for d in cache.by_updated)


class _Snapshot:
    """One searcher and everything derived from it, assembled from per-segment caches."""

    def __init__(self, searcher, segments: dict):
        self.searcher = searcher
        self.parser = _free_text_parser(searcher.schema)
        self.leaves = []  # (reader, segment cache, offset)
        fresh = {}
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            segment = reader.segment() if hasattr(reader, "segment") else None
            key = segment.segment_id() if segment is not None else None
            cache = segments.get(key) if key else None
            if cache is None:
                cache = _Segment(reader)
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
        self.facets = {}
        for name in FACETS:
            merged: dict[str, int] = {}
            for _, cache, offset in self.leaves:
                for value, bits in cache.facets[name].items():
                    merged[value] = merged.get(value, 0) | (bits << offset)
            self.facets[name] = {value: bits & self.live for value, bits in merged.items()}
        self._orders, self._ranks, self._terms = {}, {}, {}
        self._browse_counts = None

    def browse_counts(self) -> dict[str, dict[str, int]]:
        """Facet counts over every live document (no text, no filter): the same until the next change."""
        if self._browse_counts is None:
            self._browse_counts = {name: {value: n for value, bits in values.items() if (n := bits.bit_count())}
                                   for name, values in self.facets.items()}
        return self._browse_counts

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

    def rank(self, name: str) -> list[int]:
        if name not in self._ranks:
            rank = [0] * self.size
            for i, d in enumerate(self.order(name)):
                rank[d] = i
            self._ranks[name] = rank
        return self._ranks[name]

    def close(self):
        self.searcher.close()


class IndexUnavailable(RuntimeError):
    """The index is missing or unreadable; it is being rebuilt from the database."""


class SearchIndex:
    """The index directory: one per process, shared by all requests.

    ``path`` holds generations (``gen-…`` directories) and a ``CURRENT`` file
    naming the active one, so that a full rebuild happens beside the live index
    and is swapped in at once.
    """

    def __init__(self, path: str):
        self.path = path
        self._ix = None
        self._ix_generation = None
        self._snapshot: _Snapshot | None = None
        self._snapshots_made = 0  # a new number each time what searches see may have changed
        self._segments: dict = {}
        self._read_lock = threading.RLock()
        self._write_lock = threading.Lock()

    # -- generations -----------------------------------------------------
    def generation(self) -> str | None:
        try:
            with open(os.path.join(self.path, "CURRENT")) as f:
                return f.read().strip() or None
        except OSError:
            return None

    def _dir(self, generation: str) -> str:
        return os.path.join(self.path, generation)

    def _storage(self, generation: str):
        # Without mmap: reading the index through files keeps each worker's RSS small
        # (mapped pages touched while building the caches counted ~250 MB at 100k actors).
        return FileStorage(self._dir(generation), supports_mmap=False)

    def new_generation(self) -> str:
        """An empty index in a new directory, not yet active."""
        generation = f"gen-{time.time_ns()}"
        os.makedirs(self._dir(generation))
        self._storage(generation).create_index(make_schema())
        with open(os.path.join(self._dir(generation), "repertoire-format"), "w") as f:
            f.write(INDEX_FORMAT)
        return generation

    def activate(self, generation: str):
        """Make ``generation`` the live index (atomically) and drop older ones but the previous."""
        previous = self.generation()
        pointer = os.path.join(self.path, f"CURRENT.{os.getpid()}")
        with open(pointer, "w") as f:
            f.write(generation)
        os.replace(pointer, os.path.join(self.path, "CURRENT"))
        for name in os.listdir(self.path):
            if name.startswith("gen-") and name not in (generation, previous):
                shutil.rmtree(self._dir(name), ignore_errors=True)

    # -- lifecycle -------------------------------------------------------
    def exists(self) -> bool:
        generation = self.generation()
        try:
            return bool(generation) and self._storage(generation).index_exists()
        except Exception:  # unreadable: as good as absent
            return False

    def is_current(self) -> bool:
        """The index exists and was written with this version's analysis and schema."""
        generation = self.generation()
        try:
            with open(os.path.join(self._dir(generation), "repertoire-format")) as f:
                return self.exists() and f.read().strip() == INDEX_FORMAT
        except (OSError, TypeError):
            return False

    def create(self):
        """Make an empty index the live one."""
        os.makedirs(self.path, exist_ok=True)
        self.activate(self.new_generation())
        self.close()

    def ensure(self):
        if not self.exists():
            self.create()

    @property
    def ix(self):
        generation = self.generation()
        if self._ix is None or generation != self._ix_generation:
            self._drop_snapshot()
            if not generation:
                raise IndexUnavailable("no index")
            try:
                self._ix = self._storage(generation).open_index()
            except Exception as exc:
                raise IndexUnavailable(str(exc)) from exc
            self._ix_generation = generation
        return self._ix

    def _drop_snapshot(self):
        if self._snapshot is not None:
            try:
                self._snapshot.close()
            except Exception:
                pass
            self._snapshot = None

    def close(self):
        with self._read_lock:
            self._drop_snapshot()
            self._segments.clear()
            self._ix = None
            self._ix_generation = None

    def doc_count(self) -> int:
        return self.ix.doc_count()

    # -- writing ---------------------------------------------------------
    @contextmanager
    def writer(self, timeout=30.0, generation: str | None = None):
        """The one Whoosh writer (waits for other processes' writers up to ``timeout``).

        Besides adding, updating and deleting documents one by one, it takes
        segments built aside in bulk (``add_segments``) and commits them with the rest.
        """
        ix = self._storage(generation).open_index() if generation else self.ix
        # A generation being built is nobody else's: only the live index needs one writer at a time.
        with nullcontext() if generation else self._write_lock:
            writer = BulkSegmentWriter(ix, timeout=timeout)
            try:
                yield writer
            except BaseException:
                writer.cancel()
                raise
            else:
                writer.commit()

    def log_position(self, writer=None) -> tuple[int, int]:
        """(last change-log id applied, first id whose "add" is safe) of the live index, or of ``writer``'s.

        Stored inside the index, committed with its segments: a copied or
        rebuilt index knows where it stands.
        """
        if writer is not None:
            return read_log_position(writer.storage)
        generation = self.generation()
        if not generation:
            raise IndexUnavailable("no index")
        try:
            return read_log_position(self._storage(generation))
        except (OSError, ValueError, KeyError) as exc:
            raise IndexUnavailable(str(exc)) from exc

    @staticmethod
    def set_log_position(writer, position: int, adds_from: int):
        """Have ``writer`` record this position with its commit."""
        writer.log_position = (position, adds_from)

    @staticmethod
    def folder(writer) -> str:
        """Where ``writer``'s index lives, for processes building segments for it (``build_segment_in``)."""
        return writer.storage.folder

    @staticmethod
    def add_segments(writer, segments):
        """Have ``writer`` commit these segments (from ``build_segment_in``) with its own changes."""
        writer.built.extend(segments)

    @staticmethod
    def apply(writer, operations, progress=None):
        """Send ``("add", doc)``, ``("update", doc)`` and ``("delete", actor_id)`` to ``writer``."""
        for op, value in operations:
            if op == "add":
                writer.add_document(**value)
            elif op == "update":
                writer.update_document(**value)
            else:
                writer.delete_by_term("id", str(value))
            if progress:
                progress(1)

    def documents(self) -> dict[int, int]:
        """actor id -> number of live documents for it (for checks)."""
        with self._read_lock:
            snap = self._current()
            counts: dict[int, int] = {}
            for d in bitsets.iter_docs(snap.live):
                counts[snap.ids[d]] = counts.get(snap.ids[d], 0) + 1
            return counts

    def updated_of(self) -> dict[int, int]:
        """actor id -> the ``updated`` value indexed (microseconds)."""
        with self._read_lock:
            snap = self._current()
            result = {}
            for reader, cache, offset in snap.leaves:
                for d in range(cache.size):
                    if (snap.live >> (d + offset)) & 1:
                        result[cache.ids[d]] = cache.updated[d]
            return result

    # -- reading ---------------------------------------------------------
    def _current(self) -> _Snapshot:
        ix = self.ix
        snap = self._snapshot
        if snap is None or not snap.searcher.up_to_date():
            # Never Searcher.refresh(): it keeps superseded segments (WHOOSH-NOTES).
            self._drop_snapshot()
            try:
                snap = self._snapshot = _Snapshot(ix.searcher(), self._segments)
                self._snapshots_made += 1
                snap.version = (self._ix_generation, self._snapshots_made)
            except Exception as exc:
                raise IndexUnavailable(str(exc)) from exc
        return snap

    def version(self):
        """Changes whenever the documents searches see may have changed (for caches)."""
        with self._read_lock:
            return self._current().version

    def search(self, criteria: Criteria, offset: int, limit: int) -> Hits:
        with self._read_lock:
            snap = self._current()
            return _run(snap, criteria, offset, limit)

    def suggest_places(self, text: str, limit: int) -> list[tuple[str, int]]:
        """Head-office towns and départements starting like ``text``: (name, live actors), most first."""
        key = fold_words(text)
        if len(key) < 2:
            return []
        with self._read_lock:
            snap = self._current()
            found: dict[str, int] = {}
            for n, term in enumerate(snap.searcher.reader().expand_prefix("town_suggest", key)):
                if n >= SUGGEST_SCAN:
                    break
                term = term.decode("utf-8") if isinstance(term, bytes) else term
                count = snap.term_bits("town_suggest", term).bit_count()
                if count:
                    display = term.split("|", 1)[1]
                    found[display] = found.get(display, 0) + count
        return sorted(found.items(), key=lambda item: (-item[1], sort_key(item[0])))[:limit]


def build_segment_in(folder: str, documents) -> object:
    """A new segment of ``documents`` for the index in ``folder`` (any process): give it to ``add_segments``.

    The index's writer must be held meanwhile (by the caller or its parent process).
    """
    storage = FileStorage(folder, supports_mmap=False)
    ix = storage.open_index()
    return build_segment(storage, ix.indexname, ix.schema, documents)


# -- documents -------------------------------------------------------------

def document(actor: dict, labels: dict[str, dict[str, str]], geo) -> dict:
    """The index document of one published actor, from ``actor_to_dict`` output."""
    dept_name = geo.department_name(actor["department"])
    country_names = []
    for code in actor["countries"]:
        country_names.append(geo.french_country_name(code))
        country_names.append(geo.english_country_name(code))
    kind_label = labels["kind"].get(actor["kind"], actor["kind"])
    domain_labels = [labels["domain"].get(s, s) for s in actor["domains"]]
    activity_labels = [labels["activity"].get(s, s) for s in actor["activities"]]
    name_and_acronym = f"{actor['name']}\n{actor['acronym']}"
    text = "\n".join([name_and_acronym, kind_label, actor["town"], actor["postcode"],
                      dept_name, *country_names, *actor["intervention_towns"],
                      *domain_labels, *activity_labels, *(f.to_text(actor[f.name]) for f in TEXT_INDEXED)])
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
        "town_suggest": ",".join(f"{fold_words(value)}|{value.replace(',', ' ')}"
                                 for value in (actor["town"], dept_name) if fold_words(value)),
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
            parsed = snap.parser.parse(criteria.q)
        except Exception:  # the parser is lenient, but never let a query text become a 500
            log.warning("query parse failed, falling back to plain words", exc_info=True)
            parsed = snap.parser.parse(" ".join(fold_words(criteria.q).split()))
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


def _bits(snap: _Snapshot, q) -> int:
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


def _scoring_cost(snap: _Snapshot, query) -> int:
    """How many postings scoring ``query`` reads: Whoosh walks each word's whole list."""
    reader = snap.searcher.reader()
    return sum(reader.doc_frequency(fieldname, text)
               for leaf in query.leaves() for fieldname, text in leaf.expanded_terms(reader))


def _ranked(snap: _Snapshot, query, candidates: int, needed: int, affordable: bool) -> list[int]:
    """Up to ``needed`` of ``candidates`` (bits) by BM25, or by name when scoring would cost too much.

    ``affordable`` says whether the query's words are rare enough to score
    (``_scoring_cost``, decided once per search). Scoring costs about 8 ms per thousand postings of the query's words
    (measured at 100 000 actors), whatever the number of candidates: words
    found in thousands of entries (« santé », « jeunes » at 100 000 actors) are
    ordered by name within their tier (names first) instead, as are candidate
    sets too large to score. Regional directories (a few thousand actors) are
    always ranked by BM25.
    """
    count = candidates.bit_count()
    if count > SCORED_AT_MOST or not affordable:
        return _in_order(snap, "by_name", candidates, count, needed)
    docs = list(bitsets.iter_docs(candidates))
    offsets = {id(sub): (offset, sub.doc_count_all()) for sub, offset in snap.searcher.leaf_searchers()}
    results = snap.searcher.search(wq.And([query, _DocSet(docs, offsets)]), limit=needed)
    return [hit.docnum for hit in results]


def _run(snap: _Snapshot, criteria: Criteria, offset: int, limit: int) -> Hits:
    query = _text_query(snap, criteria)
    base = snap.live if query is None else _bits(snap, query)

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

    if query is None and not masks:  # browsing: the counts of the whole directory, computed once
        facets = {name: dict(counts) for name, counts in snap.browse_counts().items()}
    else:
        facets = _facet_counts(snap, base, masks, criteria)

    total = matched.bit_count()
    docnums = _page(snap, query, criteria, matched, total, offset, limit) if total > offset else []
    return Hits(total=total, actor_ids=[snap.ids[d] for d in docnums], facets=facets)


def _facet_counts(snap: _Snapshot, base: int, masks: dict[str, int], criteria: Criteria) -> dict:
    """Disjunctive counts: each facet counted under the text and every other facet's filter."""
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
    return facets


def _page(snap, query, criteria, matched, total, offset, limit) -> list[int]:
    needed = offset + limit
    if criteria.sort == "relevance" and query is not None:
        # Matches in names and acronyms first, then the others; BM25 within each group.
        first = matched & _bits(snap, _in_names(query)) if criteria.q.strip() else matched
        affordable = _scoring_cost(snap, query) <= SCORING_POSTINGS
        ranked = _ranked(snap, query, first, needed, affordable)
        if len(ranked) < needed and first != matched:
            ranked += _ranked(snap, query, matched & ~first, needed - len(ranked), affordable)
        return ranked[offset:needed]
    order_name = "by_updated" if criteria.sort == "updated" else "by_name"
    return _in_order(snap, order_name, matched, total, needed)[offset:]


def _in_order(snap, order_name: str, bits: int, count: int, needed: int) -> list[int]:
    """The first ``needed`` documents of ``bits`` in a precomputed order."""
    if count <= 5000:  # few: sort them by rank
        rank = snap.rank(order_name)
        return sorted(bitsets.iter_docs(bits), key=rank.__getitem__)[:needed]
    raw = bitsets.to_bytes(bits)  # many: walk the order until the page is full
    picked = []
    for d in snap.order(order_name):
        if bitsets.contains(raw, d):
            picked.append(d)
            if len(picked) >= needed:
                break
    return picked
