"""Reading tables as French spreadsheets write them: CSV in UTF-8 or Windows-1252, `;` or `,`, and .xlsx.

``open_table`` turns the bytes of a file into a reader of records (lists of
strings, header first) with the line each record ends on (``line_num``, as
``csv.reader`` has it), and says what it detected.
"""
from __future__ import annotations

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass

from flask_babel import gettext as _

SEPARATORS = (",", ";", "\t")
MAX_COLUMNS = 200  # a header wider than this is not one of ours
# .xlsx are zip files: what they unpack to is capped, whatever the size of the upload (zip bombs).
MAX_XLSX_UNPACKED = 200 * 1024 * 1024
MAX_XLSX_ROWS = 1_048_576  # Excel's own limit
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003)


class TableError(ValueError):
    """The file cannot be read as a table; the message is French, for people."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.line = line


@dataclass
class Detected:
    format: str  # "csv" or "xlsx"
    encoding: str = ""  # "utf-8", "utf-8-sig", "utf-16", "cp1252"
    separator: str = ""
    sheet: str = ""

    def describe(self) -> str:
        """One French line saying how the file was read."""
        if self.format == "xlsx":
            return _("Fichier lu : classeur Excel (.xlsx), feuille « %(sheet)s ».", sheet=self.sheet)
        encoding = {"utf-8": _("UTF-8"), "utf-8-sig": _("UTF-8 avec BOM"), "utf-16": _("UTF-16"),
                    "cp1252": _("Windows-1252")}[self.encoding]
        separator = {",": _("virgule"), ";": _("point-virgule"), "\t": _("tabulation")}[self.separator]
        return _("Fichier lu : CSV, encodage %(encoding)s, séparateur %(separator)s.",
                 encoding=encoding, separator=separator)


def is_xlsx(data: bytes, filename: str = "") -> bool:
    return data.startswith(_ZIP_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm"))


def open_table(data: bytes, filename: str = "", known: tuple[str, ...] = (),
               drop: tuple[str, ...] = ()) -> tuple["_Records", Detected]:
    """A reader of the file's records and what was detected; raises TableError.

    ``known`` are the column names expected in the header (they decide the
    separator); columns named in ``drop`` are left out of every record.
    """
    if is_xlsx(data, filename):
        rows = _xlsx_rows(data)
        detected = Detected("xlsx", sheet=next(rows))
        return _Records(rows, xlsx=True, drop=drop), detected
    if data.startswith(_OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise TableError(_("les fichiers .xls (Excel 97-2003) ne sont pas lus : enregistrez le fichier "
                           "au format .xlsx ou « CSV UTF-8 »"))
    text, encoding = decode(data)
    separator = sniff_separator(text, known)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    return _Records(reader, drop=drop), Detected("csv", encoding=encoding, separator=separator)


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding: UTF-8 (BOM or not) first, then UTF-16 with a BOM, then Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        # Valid UTF-8 is read as UTF-8, always: accented letters in Windows-1252 almost never form
        # valid UTF-8 sequences, while the reverse reading would succeed and garble them.
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            failure = exc
    line = data[:failure.start].count(b"\n") + 1
    raise TableError(_("encodage non reconnu (enregistrez le fichier en « CSV UTF-8 »)"), line)


def sniff_separator(text: str, known: tuple[str, ...] = ()) -> str:
    """The separator of the header row: the one giving the most known column names, then the most columns.

    Only the header (the first record, quotes respected) is looked at: commas in
    quoted values of later rows cannot mislead it.
    """
    known_names = {k.lower() for k in known}
    head = text[:65536]  # the header is in there; copying the whole text three times is not free
    best, best_score = ",", (-1, -1)
    for separator in SEPARATORS:
        try:
            header = next(csv.reader(io.StringIO(head, newline=""), delimiter=separator, strict=True), [])
        except csv.Error:
            continue  # a quote in the wrong place for this separator: not it
        names = [h.strip().lower() for h in header]
        score = (sum(n in known_names for n in names), len([n for n in names if n]))
        if score > best_score:
            best, best_score = separator, score
    return best


class _Records:
    """Records with trailing empty columns left out, and a ``line_num`` like ``csv.reader``'s."""

    def __init__(self, rows, xlsx: bool = False, drop: tuple[str, ...] = ()):
        self._rows, self._xlsx, self._drop = iter(rows), xlsx, drop
        self._width = None  # columns of the header, once read
        self._raw_width = 0  # the same with its trailing empty columns
        self._kept = None
        self.line_num = 0

    def __iter__(self):
        return self

    def __next__(self) -> list[str]:
        record = next(self._rows)
        if self._xlsx:
            self.line_num, record = record
        else:
            self.line_num = self._rows.line_num
        if self._width is None:  # the header
            self._raw_width = len(record)
            while record and not record[-1].strip():
                record = record[:-1]
            if len(record) > MAX_COLUMNS:
                raise TableError(_("trop de colonnes (plus de %(n)d) : ce n'est pas un fichier d'acteurs",
                                   n=MAX_COLUMNS))
            self._width = len(record)
            self._kept = [i for i, name in enumerate(record) if name.strip().lower() not in self._drop]
        else:
            # only the empty columns the header has too (Excel's ";;;"): one value too many stays an error
            while self._width < len(record) <= self._raw_width and not record[-1].strip():
                record = record[:-1]
            if self._xlsx and 0 < len(record) < self._width:
                record = record + [""] * (self._width - len(record))  # spreadsheets leave trailing cells out
        if len(self._kept) != self._width and len(record) == self._width:
            record = [record[i] for i in self._kept]
        return record


def _xlsx_rows(data: bytes):
    """The first sheet's name, then (row number, cells as text) for each row."""
    _check_zip(data)
    try:
        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # a declared size of XFD1048576 would pad every row to 16,384 cells
    except Exception:  # openpyxl raises many kinds (zip, XML, KeyError...) on a broken file
        raise TableError(_("classeur .xlsx illisible ou endommagé : ouvrez-le dans un tableur et "
                           "enregistrez-le de nouveau")) from None
    return _sheet_rows(book, sheet)


def _sheet_rows(book, sheet):
    yield sheet.title
    try:
        postcode = None
        header_width = MAX_COLUMNS + 1
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            if number > MAX_XLSX_ROWS:
                raise TableError(_("trop de lignes : %(n)d au plus", n=MAX_XLSX_ROWS), number)
            cells = [_cell_text(v) for v in values[:header_width]]
            beyond = [i for i, v in enumerate(values[header_width:header_width + MAX_COLUMNS]) if v not in (None, "")]
            if beyond:  # a value outside the header's columns: kept, so that the row is refused, not cut
                cells += [_cell_text(v) for v in values[header_width:header_width + beyond[-1] + 1]]
            if postcode is None:  # the header
                names = [c.strip().lower() for c in cells]
                postcode = names.index("postcode") if "postcode" in names else -1
                phone = names.index("phone") if "phone" in names else -1
                header_width = len(cells)
            else:
                if 0 <= postcode < len(cells) and _is_number(values[postcode]):
                    cells[postcode] = cells[postcode].zfill(5)  # 01000 typed as a number: 1000
                if 0 <= phone < len(cells) and _is_number(values[phone]) and len(cells[phone]) == 9:
                    cells[phone] = "0" + cells[phone]  # 02 31 12 34 56 typed as a number: 231123456
            yield number, cells
    except TableError:
        raise
    except Exception:
        raise TableError(_("classeur .xlsx illisible ou endommagé : ouvrez-le dans un tableur et "
                           "enregistrez-le de nouveau")) from None
    finally:
        book.close()


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # 1994.0 -> "1994"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _check_zip(data: bytes):
    """Refuse what is not a zip, or would unpack to more than the cap."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise TableError(_("classeur .xlsx illisible ou endommagé : ouvrez-le dans un tableur et "
                           "enregistrez-le de nouveau")) from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise TableError(_("classeur trop volumineux une fois décompressé (%(mb)d Mo au plus) : "
                           "enregistrez-le en « CSV UTF-8 »", mb=MAX_XLSX_UNPACKED // (1024 * 1024)))
    if "xl/workbook.xml" not in names:
        raise TableError(_("ce fichier compressé n'est pas un classeur .xlsx"))


def csv_bytes(columns: list[str], rows: list[dict]) -> bytes:
    """Rows as a CSV file of the contract (UTF-8 with a BOM for spreadsheets, commas, RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")
