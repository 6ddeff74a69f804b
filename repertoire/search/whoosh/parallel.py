"""Segments of many new documents, built by up to ``BUILD_PROCESSES`` processes at once.

Each process reads its share of the documents itself (``DocumentSource``)
and builds one segment for the index folder whose writer its parent holds.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

from whoosh.filedb.filestore import FileStorage

from ...processes import die_with_parent
from .bulk import build_segment
from .schema import to_fields

BULK_FROM = 2000  # from this many new actors, segments are built in bulk
BUILD_PROCESSES = 2  # processes building segments at once (the target server has 2 cores)
SEGMENT_AT_MOST = 250_000  # documents in one bulk segment: a process holds its postings in memory (~1 GB)


def build_segment_in(folder: str, documents) -> object:
    """A new segment of Whoosh ``documents`` for the index in ``folder`` (any process), for ``writer.built``.

    The index's writer must be held meanwhile (by the caller or its parent process).
    """
    storage = FileStorage(folder, supports_mmap=False)
    ix = storage.open_index()
    return build_segment(storage, ix.indexname, ix.schema, documents)


def build_segments(folder: str, ids, source, progress=None) -> list:
    """Segments of the published actors among ``ids``, read from ``source``.

    A source other processes cannot read (an in-memory database) is read in this process.
    """
    ids = sorted(ids)
    if not ids:
        return []
    processes = min(BUILD_PROCESSES, os.cpu_count() or 1, max(1, len(ids) // BULK_FROM))
    size = min(-(-len(ids) // processes), SEGMENT_AT_MOST)
    shares = [ids[start:start + size] for start in range(0, len(ids), size)]
    if processes == 1 or not source.shareable:
        return [_build(source, folder, share, progress) for share in shares]
    # fork starts at once and shares what is loaded, but is unsafe in a process running threads (a web server)
    context = multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")
    counter = context.Value("q", 0)
    gc.freeze()  # forked processes: no collection walks (and copies) all the objects they inherit
    try:
        with ProcessPoolExecutor(min(processes, len(shares)), mp_context=context, initializer=_init_builder,
                                 initargs=(counter, os.getpid())) as pool:
            futures = [pool.submit(_build, source, folder, share, _count_built) for share in shares]
            reported = 0
            while not all(f.done() for f in futures):
                wait(futures, timeout=0.2, return_when=FIRST_EXCEPTION)
                if any(f.done() and f.exception() for f in futures):
                    break
                if progress and counter.value > reported:
                    progress(counter.value - reported)
                    reported = counter.value
            segments = [f.result() for f in futures]  # raises the first failure
    finally:
        gc.unfreeze()
    if progress and len(ids) > reported:
        progress(len(ids) - reported)
    return segments


_built = None  # in a builder process: shared count of documents built, for the progress bar


def _init_builder(counter, parent_pid: int):
    global _built
    die_with_parent(parent_pid)  # a builder holds the index writer's lock it inherited: never orphaned
    _built = counter


def _count_built(n: int):
    with _built.get_lock():
        _built.value += n


def _build(source, folder: str, ids: list[int], progress=None):
    """The segment of the published actors among ``ids``."""
    return build_segment_in(folder, (to_fields(d) for d in source.documents(ids, progress)))
