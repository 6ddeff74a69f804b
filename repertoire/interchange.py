"""Reading and writing the contract's interchange files (CSV §2, and JSON)."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _

from .actor_fields import CSV_COLUMNS, FIELDS, REQUIRED_COLUMNS
from .serialize import csv_row
from .spreadsheets import TableError, open_table


@dataclass
class ParsedFile:
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (line number, raw values)
    errors: list[str] = field(default_factory=list)  # "line N: reason"
    detected: str = ""  # how the file was read, one French line
    columns: list[str] = field(default_factory=list)  # the file's own columns, in its order
    # Fields the file does not carry: a CSV's missing optional columns (the same for every row), or
    # for JSON each item's missing keys ({line: fields}); an update keeps their current values.
    absent: frozenset = frozenset()
    absent_at: dict = field(default_factory=dict)

    def missing(self, line: int) -> frozenset:
        return self.absent_at.get(line, self.absent)


def _decode(data: bytes) -> tuple[str | None, str | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return None, f"line {line}: " + _("le fichier n'est pas encodé en UTF-8 "
                                          "(enregistrez-le en « CSV UTF-8 »)")


def parse_csv(data: bytes, filename: str = "", drop: tuple[str, ...] = (), columns: list[str] = CSV_COLUMNS,
              required: list[str] = REQUIRED_COLUMNS) -> ParsedFile:
    """Rows of a CSV (or .xlsx) file with the line each starts on; structural errors as messages.

    Encoding, separator and format are detected (see spreadsheets.py); columns
    named in ``drop`` are ignored. ``columns`` and ``required``: the actors' (§2) unless
    given (the partnerships' of §5). ``absent`` says which of ``columns`` the file lacks.
    """
    parsed = ParsedFile()
    try:
        reader, detected = open_table(data, filename, known=tuple(columns), drop=drop)
    except TableError as exc:
        parsed.errors.append(f"line {exc.line}: {exc}")
        return parsed
    parsed.detected = detected.describe()
    try:
        header = next(reader, None)
        if header is None:
            parsed.errors.append("line 1: " + _("le fichier est vide (une ligne d'en-tête est attendue)"))
            return parsed
        header = [h.strip() for h in header]
        missing = [c for c in required if c not in header]  # optional columns may be absent
        unknown = [h for h in header if h not in columns]
        doubled = sorted(h for h, n in Counter(header).items() if n > 1)
        problems = []
        if missing:
            problems.append(_("colonnes manquantes : %(cols)s", cols=", ".join(missing)))
        if unknown:
            problems.append(_("colonnes inconnues : %(cols)s", cols=", ".join(f"« {h} »" for h in unknown)))
        if doubled:
            problems.append(_("colonnes en double : %(cols)s", cols=", ".join(doubled)))
        if problems:
            parsed.errors.append("line 1: " + " ; ".join(problems) + " — " + _(
                "colonnes obligatoires : %(required)s ; colonnes acceptées : %(cols)s",
                required=",".join(required), cols=",".join(columns)))
            return parsed
        absent = dict.fromkeys((c for c in columns if c not in header), "")  # read as empty
        parsed.columns = header
        parsed.absent = frozenset(absent) | (NOT_IN_CSV if columns is CSV_COLUMNS else frozenset())
        line = reader.line_num + 1
        for record in reader:
            start, line = line, reader.line_num + 1
            if not record or all(not v.strip() for v in record):
                continue
            if len(record) != len(header):
                parsed.errors.append(f"line {start}: " + _(
                    "%(n)d valeurs au lieu de %(expected)d (vérifiez les guillemets et les virgules)",
                    n=len(record), expected=len(header)))
                continue
            parsed.rows.append((start, {**absent, **dict(zip(header, record))}))
    except csv.Error as exc:
        parsed.errors.append(f"line {reader.line_num}: " + _("CSV mal formé (%(reason)s)", reason=str(exc)))
    except TableError as exc:
        parsed.errors.append(f"line {exc.line if exc.line > 1 else max(reader.line_num, 1)}: {exc}")
    return parsed


NOT_IN_CSV = frozenset(f.name for f in FIELDS if not f.csv)  # an actors CSV never carries partnerships
_SCALAR = (str, int, float, bool)
_STRUCTURED = ("networks", "partnerships")  # lists of objects, checked by partnership_fields


def read_json_list(data: bytes, parsed: ParsedFile, expected: str) -> list | None:
    """The list a JSON file holds (or its ``results``); None, with the reason in ``parsed.errors``, if not one."""
    text, error = _decode(data)
    if error:
        parsed.errors.append(error)
        return None
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        parsed.errors.append(f"line {exc.lineno}: " + _("JSON mal formé (%(reason)s)", reason=exc.msg))
        return None
    except RecursionError:
        parsed.errors.append("line 1: " + _("JSON trop imbriqué"))
        return None
    if isinstance(items, dict) and isinstance(items.get("results"), list):
        items = items["results"]
    if not isinstance(items, list):
        parsed.errors.append("item 1: " + expected)
        return None
    return items


def parse_json(data: bytes) -> ParsedFile:
    """Actors from a JSON export (a list of objects, lists for multi-valued fields)."""
    parsed = ParsedFile()
    items = read_json_list(data, parsed, _("une liste d'acteurs est attendue"))
    if items is None:
        return parsed
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            parsed.errors.append(f"item {n}: " + _("un objet est attendu"))
            continue
        raw, wrong = {}, []
        for f in FIELDS:
            value = item.get(f.name)
            if f.type in _STRUCTURED and isinstance(value, list):
                raw[f.name] = value
            elif not f.csv and value is None:
                raw[f.name] = []
            elif f.multi and isinstance(value, list) and all(isinstance(v, _SCALAR) for v in value):
                raw[f.name] = [str(v) for v in value]
            elif value is None or isinstance(value, _SCALAR):
                raw[f.name] = "" if value is None else str(value)
            else:  # an object or a nested list: refused, never turned into text
                wrong.append(f.name)
        if wrong:
            parsed.errors.append(f"item {n}: " + _("valeur invalide pour %(cols)s", cols=", ".join(wrong)))
            continue
        missing = frozenset(f.name for f in FIELDS if f.name not in item)
        if missing:
            parsed.absent_at[n] = missing
        parsed.rows.append((n, raw))
    return parsed


def parse_file(path: str, drop: tuple[str, ...] = ()) -> ParsedFile:
    """A JSON, CSV or .xlsx file, by its extension (and content for .xlsx)."""
    with open(path, "rb") as f:
        data = f.read()
    return parse_json(data) if path.lower().endswith(".json") else parse_csv(data, path, drop)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(row: dict) -> dict:
    """Cells a spreadsheet would run as a formula start with an apostrophe: shown as text, never run."""
    return {key: "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value
            for key, value in row.items()}


def iter_csv(actors, every: int = 200, excel: bool = False):
    """CSV text (RFC 4180, CRLF line ends) of actor dicts, in chunks, header first.

    ``excel``: for opening in a spreadsheet (BOM, formulas neutralised); not for re-import.
    """
    buffer = io.StringIO()
    if excel:
        buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for n, actor in enumerate(actors, 1):
        writer.writerow(spreadsheet_safe(csv_row(actor)) if excel else csv_row(actor))
        if n % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_csv(stream, actors) -> int:
    """Write actor dicts as CSV; return how many."""
    counted = _Counter(actors)
    for chunk in iter_csv(counted):
        stream.write(chunk)
    return counted.n


class _Counter:
    def __init__(self, items):
        self.items, self.n = items, 0

    def __iter__(self):
        for item in self.items:
            self.n += 1
            yield item


def iter_json(actors):
    """A JSON array of actor dicts, one actor a line, in chunks."""
    yield "["
    for n, actor in enumerate(actors):
        yield (",\n" if n else "\n") + json.dumps(actor, ensure_ascii=False)
    yield "\n]\n"


def write_json(stream, actors) -> int:
    """Write actor dicts as a JSON array; return how many."""
    counted = _Counter(actors)
    for chunk in iter_json(counted):
        stream.write(chunk)
    return counted.n
