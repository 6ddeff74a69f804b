"""Whole segments built in one pass, for imports and rebuilds of many actors.

Whoosh's ``SegmentWriter`` sends every posting through a pool sorted on disk,
then reads each posting's field length back from the segment file (a ``stat``
and a ``seek`` per posting): at 100,000 actors that is most of the indexing
time. A bulk build knows all its documents up front, so it gathers each term's
postings in memory — already in document order — and hands them to Whoosh's
own codec a block at a time. The result is an ordinary segment of the pinned
Whoosh version, added to the index the way ``MpWriter(multisegment=True)``
adds the segments of its sub-processes (tests compare it, term by term and
posting by posting, with what ``SegmentWriter`` writes). It fills the buffers
of the codec's postings writer and its length columns directly: internals of
the exact Whoosh version pyproject pins, which that test would catch changing.

Only ``search/whoosh/`` imports Whoosh; this module is fenced by tests/test_bulk_index.py.
"""
from __future__ import annotations

import json
import os
import re
from array import array

from whoosh import formats
from whoosh.codec import default_codec
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.index import TOC
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter


class BulkSegmentWriter(SegmentWriter):
    """A writer that also commits segments built beside it (see ``build_segment``)."""

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        self.built = []
        self.log_position: tuple[int, int] | None = None  # set to record a new one with this commit

    def _commit_toc(self, segments):
        # The position goes in a file named after the new TOC generation, written before the TOC:
        # a crash in between leaves the previous TOC, which still reads its own position.
        position = self.log_position or read_log_position(self.storage, self.generation - 1)
        _write_position(self.storage.folder, self.generation, position)
        super()._commit_toc(list(segments) + self.built)
        for name in os.listdir(self.storage.folder):
            match = _POSITION_FILE.fullmatch(name)
            if match and int(match.group(1)) < self.generation:
                try:
                    os.remove(os.path.join(self.storage.folder, name))
                except OSError:
                    pass


_POSITION_FILE = re.compile(r"log-position-(\d+)\.json")


def read_log_position(storage, generation: int | None = None) -> tuple[int, int]:
    """(last log id applied, first log id whose "add" is safe) of a TOC generation (default: the latest).

    An index that never recorded one (an empty new index) is at (0, 0).
    """
    if generation is None:
        generation = TOC._latest_generation(storage, "MAIN")
    try:
        with open(os.path.join(storage.folder, f"log-position-{generation}.json")) as f:
            data = json.load(f)
        return int(data["position"]), int(data["adds_from"])
    except FileNotFoundError:
        return 0, 0


def _write_position(folder: str, generation: int, position: tuple[int, int]):
    path = os.path.join(folder, f"log-position-{generation}.json")
    with open(path + ".tmp", "w") as f:
        json.dump({"position": position[0], "adds_from": position[1]}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + ".tmp", path)


def build_segment(storage, indexname: str, schema, documents) -> object:
    """Write ``documents`` (dicts of field values) as one new segment; return it (not yet in the index)."""
    codec = default_codec()
    segment = codec.new_segment(storage, indexname)
    perdoc = codec.per_document_writer(storage, segment)
    fields = {name: schema[name] for name in schema.names()}
    for name, field in fields.items():
        if field.vector or field.separate_spelling():
            raise ValueError(f"build_segment cannot write vectors or spelling ({name})")
    postings = {name: {} for name, field in fields.items() if field.indexed}
    lengths = {name: [] for name, field in fields.items() if field.indexed and field.scorable}
    plan = [(name, field, _indexer(field), postings.get(name), lengths.get(name), field.stored,
             field.column_type) for name, field in sorted(fields.items())]  # add_document's order
    known = set(fields)
    docnum = 0
    for document in documents:
        if not document.keys() <= known:
            raise ValueError(f"fields not in the schema: {sorted(document.keys() - known)}")
        perdoc.start_doc(docnum)
        for name, field, index, terms, field_lengths, stored, column in plan:
            value = document.get(name)
            length = 0
            if value is not None and index is not None:
                for tbytes, freq, weight, vbytes in index(value):
                    length += freq
                    entry = terms.get(tbytes)
                    if entry is None:
                        terms[tbytes] = (array("I", (docnum,)), array("f", (weight,)), [vbytes])
                    else:
                        entry[0].append(docnum)
                        entry[1].append(weight)
                        entry[2].append(vbytes)
            if field_lengths is not None:
                field_lengths.append(length)
            if value is None:
                continue
            if stored:
                perdoc.add_field(name, field, value, 0)
            if column:
                perdoc.add_column_value(name, column, field.to_column_value(value))
        perdoc.finish_doc()
        docnum += 1
    for name, field_lengths in lengths.items():
        lengths[name] = _write_lengths(perdoc, name, field_lengths)
    perdoc.close()
    segment.set_doc_count(docnum)

    fieldwriter = codec.field_writer(storage, segment)
    for name in sorted(postings):
        terms = postings[name]
        if not terms:
            continue
        field_lengths = lengths.get(name)
        fieldwriter.start_field(name, fields[name])
        for tbytes in sorted(terms):
            fieldwriter.start_term(tbytes)
            _write_postings(fieldwriter._postwriter, *terms[tbytes], field_lengths)
            fieldwriter.finish_term()
        fieldwriter.finish_field()
        postings[name] = None  # free each field's postings as soon as written
    fieldwriter.close()
    if segment.should_assemble():
        segment.create_compound_file(storage)
    return segment


def _write_lengths(perdoc, name: str, field_lengths: list[int]) -> list[int]:
    """Write a field's length column (what ``add_field`` does a document at a time); return the
    lengths as ``SegmentWriter`` reads them back for the postings: stored in one byte."""
    column = None
    quantized = []
    for docnum, length in enumerate(field_lengths):
        if not length:
            quantized.append(0)
            continue
        if column is None:
            perdoc._create_column(_lenfield(name), LENGTHS_COLUMN)
            column = perdoc._get_column(_lenfield(name))
        byte = length_to_byte(length)
        column.add(docnum, byte)
        quantized.append(byte_to_length(byte))
    perdoc._fieldlengths[name] += sum(field_lengths)
    return quantized


def _indexer(field):
    """What ``field.index`` gives (term, frequency, weight, value), faster for our own analyzers."""
    if not field.indexed:
        return None
    positions = getattr(field.analyzer, "positions", None)
    fmt = field.format
    if positions is None or type(fmt) not in (formats.Positions, formats.Frequency) or fmt.field_boost != 1.0:
        if field.unique:
            return field.index
        return _memoized(lambda value: list(field.index(value)))  # keywords: the same values again and again
    if type(fmt) is formats.Frequency:
        return lambda value: [(term, len(p), float(len(p)), pack_uint(len(p))) for term, p in positions(value).items()]
    single, several = {}, _memoized(lambda key: fmt.encode(list(key)))

    def encode(places):
        if len(places) > 1:
            return several(tuple(places))
        value = single.get(places[0])
        if value is None:
            value = single[places[0]] = fmt.encode(places)
        return value
    return lambda value: [(term, len(p), float(len(p)), encode(p)) for term, p in positions(value).items()]


def _memoized(function, size: int = 100_000):
    cache = {}

    def call(value):
        result = cache.get(value)
        if result is None:
            result = function(value)
            if len(cache) < size:
                cache[value] = result
        return result
    return call


def _write_postings(writer, docnums: array, weights: array, values: list, field_lengths):
    """What ``add_posting`` would do for each posting, a block at a time.

    (Documents and weights are kept in arrays as the writer keeps them: 8 bytes a posting, not 40.)
    """
    limit = writer._blocklimit
    for start in range(0, len(docnums), limit):
        if start:
            writer._write_block()
        ids = docnums[start:start + limit]
        block_weights = weights[start:start + limit]
        writer._ids = ids
        writer._weights = block_weights
        writer._values = [v for v in values[start:start + limit] if v]
        writer._maxweight = max(0, max(block_weights))
        if field_lengths is not None:
            block_lengths = [n for n in map(field_lengths.__getitem__, ids) if n]
            writer._minlength = min(block_lengths) if block_lengths else None
            writer._maxlength = max(block_lengths) if block_lengths else 0
        else:
            writer._minlength, writer._maxlength = None, 0
