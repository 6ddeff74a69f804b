"""The Whoosh implementation of the search engine port: an index directory of generations.

``location`` holds generations (``gen-…`` directories) and a ``CURRENT`` file
naming the active one, so that a full rebuild happens beside the live index
and is swapped in at once. Each generation records the change-log position it
has applied inside itself (``bulk.read_log_position``), committed with its segments.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
import weakref
from contextlib import contextmanager, nullcontext

from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError

from ...text import fold_words, sort_key
from ..engine import Criteria, Hits, IndexUnavailable, PartnershipCriteria, PartnershipHits, WriterBusy
from .bulk import BulkSegmentWriter, read_log_position
from .parallel import BULK_FROM, build_segments
from .query import run, run_partnerships
from .schema import INDEX_FORMAT, make_schema, to_fields
from .snapshot import Snapshot
from . import bits as bitsets

SUGGEST_SCAN = 2000  # lexicon terms looked at, at most, for one suggestion
WRITTEN_AGAINST = "2.7.5"  # whoosh-reloaded: bulk.py fills its codec's buffers (tests/test_bulk_index.py)


class WhooshChanges:
    """``engine.Changes`` over one ``BulkSegmentWriter``."""

    def __init__(self, writer):
        self.writer = writer
        self.position = read_log_position(writer.storage)

    def add(self, actor_ids, source, progress=None):
        actor_ids = sorted(actor_ids)
        if len(actor_ids) >= BULK_FROM:
            self.writer.built.extend(build_segments(self.writer.storage.folder, actor_ids, source, progress))
            return
        for document in source.documents(actor_ids, progress):
            self.writer.add_document(**to_fields(document))

    def upsert(self, documents):
        for document in documents:
            self.writer.update_document(**to_fields(document))

    def delete(self, actor_ids):
        for actor_id in actor_ids:
            self.writer.delete_by_term("id", str(actor_id))

    def set_position(self, applied: int, adds_from: int):
        self.writer.log_position = (applied, adds_from)


_ENGINES: "weakref.WeakSet[WhooshEngine]" = weakref.WeakSet()  # this process's engines, for os.fork


class WhooshEngine:
    """The index directory: one per process, shared by all requests (``engine.SearchEngine``).

    ``path`` holds generations (``gen-…`` directories) and a ``CURRENT`` file
    naming the active one, so that a full rebuild happens beside the live index
    and is swapped in at once.
    """

    PORT_VERSION = 4
    WRITTEN_AGAINST = WRITTEN_AGAINST

    def __init__(self, location: str):
        self.path = self.location = location
        self._ix = None
        self._ix_generation = None
        self._snapshot: Snapshot | None = None
        self._snapshots_made = 0  # a new number each time what searches see may have changed
        self._segments: dict = {}
        self._read_lock = threading.RLock()
        self._write_lock = threading.Lock()
        _ENGINES.add(self)

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

    def open(self):
        """Make sure an index exists (an empty one if none)."""
        if not self.exists():
            self.create()

    def count(self) -> int:
        return self.ix.doc_count()

    # -- writing ---------------------------------------------------------
    @contextmanager
    def writer(self, timeout=30.0, generation: str | None = None):
        """The one Whoosh writer (``WriterBusy`` if other processes' writers hold it past ``timeout``).

        Besides adding, updating and deleting documents one by one, it takes
        segments built aside in bulk (``writer.built``) and commits them with the rest.
        """
        ix = self._storage(generation).open_index() if generation else self.ix
        # A generation being built is nobody else's: only the live index needs one writer at a time.
        with nullcontext() if generation else self._write_lock:
            try:
                writer = BulkSegmentWriter(ix, timeout=timeout)
            except LockError as exc:
                raise WriterBusy(str(exc)) from exc
            try:
                yield writer
            except BaseException:
                writer.cancel()
                raise
            else:
                writer.commit()

    @contextmanager
    def changes(self, timeout: float = 30.0):
        with self.writer(timeout=timeout) as writer:
            yield WhooshChanges(writer)

    @contextmanager
    def rebuild(self):
        os.makedirs(self.path, exist_ok=True)
        generation = self.new_generation()
        with self.writer(generation=generation) as writer:
            yield WhooshChanges(writer)
        self.activate(generation)

    def applied_position(self) -> tuple[int, int]:
        """(last change-log id applied, first id whose "add" is safe) of the live index.

        Stored inside the index, committed with its segments: a copied or
        rebuilt index knows where it stands.
        """
        generation = self.generation()
        if not generation:
            raise IndexUnavailable("no index")
        try:
            return read_log_position(self._storage(generation))
        except (OSError, ValueError, KeyError) as exc:
            raise IndexUnavailable(str(exc)) from exc

    def indexed(self) -> dict[int, list[int]]:
        with self._read_lock:
            snap = self._current()
            result: dict[int, list[int]] = {}
            live = bitsets.to_bytes(snap.live)  # a shift of the whole set per document: hours at 1,000,000
            for reader, cache, offset in snap.leaves:
                for d in range(cache.size):
                    if bitsets.contains(live, d + offset):
                        result.setdefault(cache.ids[d], []).append(cache.updated[d])
            return result

    # -- reading ---------------------------------------------------------
    def _current(self) -> Snapshot:
        ix = self.ix
        snap = self._snapshot
        if snap is None or not snap.searcher.up_to_date():
            # Never Searcher.refresh(): it keeps superseded segments (WHOOSH-NOTES).
            self._drop_snapshot()
            try:
                snap = self._snapshot = Snapshot(ix.searcher(), self._segments)
                self._snapshots_made += 1
                snap.version = (self._ix_generation, self._snapshots_made)
            except Exception as exc:
                raise IndexUnavailable(str(exc)) from exc
        return snap

    def version(self):
        """Changes whenever the documents searches see may have changed (for caches)."""
        with self._read_lock:
            return self._current().version

    def build(self):
        return self.generation()

    def warm(self):
        with self._read_lock:  # the segments' caches: their documents, then their partnerships (statistics)
            self._current().partnerships()

    def _before_fork(self):
        self._read_lock.acquire()  # no thread of ours is reading or building a snapshot when the process forks

    def _after_fork_in_parent(self):
        self._read_lock.release()

    def _after_fork_in_child(self):
        """A forked process (a preloaded server's worker, a bench's child) gets locks and open files of its own:
        the parent's searcher would share its files' offsets across processes. The per-segment caches, plain
        data, are kept: the child's first snapshot is assembled from them, not read again."""
        self._read_lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._snapshot = None

    def search(self, criteria: Criteria, offset: int, limit: int) -> Hits:
        with self._read_lock:
            snap = self._current()
            return run(snap, criteria, offset, limit)

    def search_partnerships(self, criteria: PartnershipCriteria, offset: int, limit: int) -> PartnershipHits:
        with self._read_lock:
            snap = self._current()
            return run_partnerships(snap, criteria, offset, limit)

    def partnerships_crossed(self, first: str, second: str) -> dict[tuple[str, str], int]:
        with self._read_lock:
            return self._current().partnerships().crossed(first, second)

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

    LEXICONS = {"place": "town_suggest", "intervention": "itown_suggest", "name": "name_words"}

    def lexicon(self, kind: str) -> dict[str, int]:
        """Value -> documents holding it (kept per searcher), for spelling suggestions.

        Counts come from the lexicon and may include entries deleted since the
        last merge: callers check a suggestion by searching with it.
        """
        field = self.LEXICONS[kind]
        with self._read_lock:
            snap = self._current()
            cached = snap.lexicons.get(kind)
            if cached is None:
                cached = {}
                for term, info in snap.searcher.reader().iter_field(field):
                    term = term.decode("utf-8") if isinstance(term, bytes) else term
                    value = term.split("|", 1)[1] if field != "name_words" else term
                    cached[value] = cached.get(value, 0) + info.doc_frequency()
                snap.lexicons[kind] = cached
            return cached


def _for_every_engine(method):
    return lambda: [method(engine) for engine in list(_ENGINES)]


os.register_at_fork(before=_for_every_engine(WhooshEngine._before_fork),
                    after_in_parent=_for_every_engine(WhooshEngine._after_fork_in_parent),
                    after_in_child=_for_every_engine(WhooshEngine._after_fork_in_child))
