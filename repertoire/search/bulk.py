"""Whole segments built in one pass, for imports and rebuilds of many actors.

Whoosh's ``SegmentWriter`` sends every posting through a pool sorted on disk,
then reads each posting's field length back from the segment file (a ``stat``
and a ``seek`` per posting): at 100,000 actors that is most of the indexing
time. A bulk build knows all its documents up front, so it gathers each term's
postings in memory — already in document order — and hands them to Whoosh's
own codec a block at a time. The result is an ordinary segment of the pinned
Whoosh version, added to the index the way ``MpWriter(multisegment=True)``
adds the segments of its sub-processes (tests compare it, term by term and
posting by posting, with what ``SegmentWriter`` writes).

This module and ``index`` are the only ones importing Whoosh.
"""
from __future__ import annotations

from array import array

from whoosh import formats
from whoosh.codec import default_codec
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter


class BulkSegmentWriter(SegmentWriter):
    """A writer that also commits segments built beside it (see ``build_segment``)."""

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        self.built = []

    def _commit_toc(self, segments):
        super()._commit_toc(list(segments) + self.built)


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
    plan = [(name, field, _indexer(field) if field.indexed else None, postings.get(name), lengths.get(name),
             field.stored, field.column_type) for name, field in sorted(fields.items())]  # add_document's order
    docnum = 0
    for document in documents:
        perdoc.start_doc(docnum)
        for name, field, index, terms, field_lengths, stored, column in plan:
            value = document.get(name)
            length = 0
            if value is not None and index is not None:
                for tbytes, freq, weight, vbytes in index(value):
                    length += freq
                    entry = terms.get(tbytes)
                    if entry is None:
                        terms[tbytes] = ([docnum], [weight], [vbytes])
                    else:
                        entry[0].append(docnum)
                        entry[1].append(weight)
                        entry[2].append(vbytes)
            if field_lengths is not None:
                # what SegmentWriter reads back from the length column: the length as one byte
                field_lengths.append(byte_to_length(length_to_byte(length)) if length else 0)
            else:
                length = 0
            if value is None:
                continue
            if length or stored:
                perdoc.add_field(name, field, value if stored else None, length)
            if column:
                perdoc.add_column_value(name, column, field.to_column_value(value))
        perdoc.finish_doc()
        docnum += 1
    unknown = set(document) - set(fields) if docnum else set()
    if unknown:
        raise ValueError(f"fields not in the schema: {sorted(unknown)}")
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


def _indexer(field):
    """``field.index``, or a shortcut giving the same items for our own analyzers."""
    positions = getattr(field.analyzer, "positions", None)
    fmt = field.format
    if positions is None or type(fmt) not in (formats.Positions, formats.Frequency) or fmt.field_boost != 1.0:
        if field.unique:
            return field.index
        return _memoized(lambda value: list(field.index(value)))  # keywords: the same few values again and again
    if type(fmt) is formats.Positions:
        encode = _memoized(lambda p: fmt.encode(list(p)))
        return lambda value: [(term, len(p), float(len(p)), encode(tuple(p))) for term, p in positions(value).items()]
    return lambda value: [(term, len(p), float(len(p)), pack_uint(len(p))) for term, p in positions(value).items()]


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


def _write_postings(writer, docnums: list, weights: list, values: list, field_lengths):
    """What ``add_posting`` would do for each posting, a block at a time."""
    limit = writer._blocklimit
    for start in range(0, len(docnums), limit):
        if start:
            writer._write_block()
        ids = docnums[start:start + limit]
        block_weights = weights[start:start + limit]
        writer._ids = array("I", ids)
        writer._weights = array("f", block_weights)
        writer._values = [v for v in values[start:start + limit] if v]
        writer._maxweight = max(0, max(block_weights))
        if field_lengths is not None:
            block_lengths = [n for n in map(field_lengths.__getitem__, ids) if n]
            writer._minlength = min(block_lengths) if block_lengths else None
            writer._maxlength = max(block_lengths) if block_lengths else 0
        else:
            writer._minlength, writer._maxlength = None, 0
