"""Importing a file of actors: check every row first, then import all or nothing.

Shared by ``repertoire import`` and the back-office upload.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
from dataclasses import dataclass, field
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import text

from . import operations
from .interchange import ParsedFile
from .models import Actor
from .processes import die_with_parent
from .validation import ActorInput, Vocabulary, actor_key, describe_errors, validate_actor


@dataclass
class ImportCheck:
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), in line order
    valid: list[tuple[int, ActorInput]] = field(default_factory=list)
    to_create: int = 0
    to_update: int = 0
    rows: int = 0
    outcomes: dict = field(default_factory=dict)  # by line: see ``operations.row_outcomes``

    @property
    def ok(self) -> bool:
        return not self.errors

    def messages(self) -> list[str]:
        return [f"line {line}: {reason}" for line, reason in self.errors]

    @classmethod
    def of(cls, parsed: ParsedFile) -> "ImportCheck":
        """A check of ``parsed`` holding, so far, the errors found while reading it."""
        check = cls(rows=len(parsed.rows))
        for message in parsed.errors:
            head, _sep, reason = message.partition(": ")
            check.errors.append((int(head.split()[-1]), reason))
        return check

    @property
    def invalid_lines(self) -> int:
        return len({line for line, _ in self.errors})


class _Silent:
    def update(self, n):
        pass


def existing_ids(session, keys: set[tuple[str, str, str]], chunk: int = 100) -> dict[tuple[str, str, str], int]:
    """Those of ``keys`` some actor already has, with its id."""
    return {key: actor_id for key, (actor_id, _slug) in existing_actors(session, keys, chunk).items()}


def existing_slugs(session, keys: set[tuple[str, str, str]], chunk: int = 100) -> dict[tuple, str]:
    """The slug of the actor that has each of ``keys``, when one has."""
    return {key: slug for key, (_id, slug) in existing_actors(session, keys, chunk).items()}


def existing_actors(session, keys: set[tuple[str, str, str]], chunk: int = 200) -> dict[tuple, tuple[int, str]]:
    """The id and slug of the actor that has each of ``keys``: actors looked up by their folded name, over the
    index on ``name_sort`` (the folded name, then \x01), not by folding the whole directory.

    The ranges are written as SQL text with bound values: building a thousand-term expression with
    SQLAlchemy's operators costs more than running the query (70 ms for a 1,000-row file)."""
    names = sorted({name for name, _town, _department in keys})
    dialect = session.get_bind().dialect.name
    found = {}
    for start in range(0, len(names), chunk):
        part = names[start:start + chunk]
        size = min(n for n in (8, 32, chunk) if n >= len(part))  # a few shapes of query: padded with the last
        part += [part[-1]] * (size - len(part))
        values = {f"a{n}": f"{name}\x01" for n, name in enumerate(part)}
        values.update((f"b{n}", f"{name}\x02") for n, name in enumerate(part))
        for actor_id, name, town, department, slug in session.execute(_by_names(dialect, len(part)), values):
            key = actor_key(name, town, department)
            if key in keys:
                found[key] = (actor_id, slug)
    return found


@lru_cache(maxsize=16)
def _by_names(dialect: str, count: int):
    """The query of ``existing_actors`` for ``count`` names (made once: parsing it costs as much as running it)."""
    column = "name_sort" + (' COLLATE "C"' if dialect != "sqlite" else "")  # byte-wise, whatever the collation
    ranges = " OR ".join(f"({column} >= :a{n} AND {column} < :b{n})" for n in range(count))
    return text(f"SELECT id, name, town, department, slug FROM {Actor.__table__.name} WHERE {ranges}")


def _carried(parsed: ParsedFile, line: int, data: ActorInput) -> ActorInput:
    """``data`` marked with its line and the fields its row does not carry (kept on an update)."""
    data.line, data.absent = line, parsed.missing(line)
    return data


def link_errors(session, valid: list[tuple[int, ActorInput]], slug_of: dict[tuple, str]) -> list[tuple[int, str]]:
    """(line, reason) for each row naming a network or partner that is neither a published actor nor an
    actor of the file (``slug_of``: each row's key → the slug its actor has or will have), or itself."""
    in_file = {slug: None for slug in slug_of.values()}
    wanted = set()
    for _line, data in valid:
        wanted |= operations.linked_slugs(data)
    known = {**dict.fromkeys(operations.published_slugs(session, wanted - set(in_file))), **in_file}
    errors = []
    for line, data in valid:
        if operations.linked_slugs(data):
            problems = operations.link_problems(session, data, slug_of.get(data.key), known)
            if problems:
                errors.append((line, describe_errors(problems)))
    return errors


def predicted_slugs(session, valid: list[tuple[int, ActorInput]], existing: dict[tuple, tuple[int, str]] | None = None
                    ) -> dict[tuple, str]:
    """The slug each row's actor has (an update) or will get (a creation, allocated in file order).
    ``existing``: ``existing_actors`` of the rows' keys, if read already."""
    if existing is None:
        existing = existing_actors(session, {d.key for _, d in valid})
    slug_of = {key: slug for key, (_id, slug) in existing.items()}
    fresh = [d for _line, d in valid if d.key not in slug_of]
    allocator = operations.SlugAllocator(session, only=[(d.name, d.town, d.slug) for d in fresh])
    for data in fresh:
        slug_of[data.key] = allocator.allocate(data.name, data.town, data.slug)
    return slug_of


def _drop_invalid(check: "ImportCheck", errors: list[tuple[int, str]]):
    if errors:
        bad = {line for line, _reason in errors}
        check.errors += errors
        check.valid = [(line, d) for line, d in check.valid if line not in bad]


def check_import(session, parsed: ParsedFile, progress=None, processes: int = 1, rows: bool = False
                 ) -> ImportCheck:
    """Validate every row and say what importing would do; changes nothing.

    With ``processes`` > 1 (the command line, a process without threads), large
    files are checked by that many forked processes. With ``rows``, also what
    happens to each row (``ImportCheck.outcomes``, see ``report_rows``).
    """
    progress = progress or _Silent()
    vocab = Vocabulary(session)
    check = ImportCheck.of(parsed)
    for line, data, error in _checked(parsed.rows, vocab, processes, progress):
        if error:
            check.errors.append((line, error))
        else:
            check.valid.append((line, _carried(parsed, line, data)))
    found = existing_actors(session, {d.key for _, d in check.valid})
    if any(operations.linked_slugs(d) for _line, d in check.valid):
        _drop_invalid(check, link_errors(session, check.valid, predicted_slugs(session, check.valid, found)))
    check.errors.sort()
    existing = {key: actor_id for key, (actor_id, _slug) in found.items()}
    check.to_update = sum(d.key in existing for _, d in check.valid)
    check.to_create = len(check.valid) - check.to_update
    if rows:
        check.outcomes = operations.row_outcomes(session, check.valid, existing)
    return check


def report_rows(parsed: ParsedFile, check: ImportCheck) -> list[list]:
    """Every row read, in line order, as ``[line, state, name, detail]`` (JSON values): state "create",
    "duplicate" (detail: [actor id, reason codes]), "update" (detail: the changed fields), "unchanged" or
    "refused" (detail: the reasons); a line that could not be read at all is a refused row too."""
    reasons: dict[int, list[str]] = {}
    for line, reason in check.errors:
        reasons.setdefault(line, []).append(reason)
    names = {line: raw.get("name") for line, raw in parsed.rows}
    valid = dict(check.valid)
    rows = []
    for line in sorted(set(names) | set(reasons)):
        if line in reasons:
            name = names.get(line)
            rows.append([line, "refused", name if isinstance(name, str) else "", " ; ".join(reasons[line])])
        else:
            state, detail = check.outcomes[line]
            rows.append([line, state, valid[line].name, detail])
    return rows


def check_and_import(session, parsed: ParsedFile, progress=None, processes: int = 1, batch_size: int = 1000,
                     user=None, source: str = "") -> tuple[ImportCheck, operations.ImportSummary | None]:
    """``check_import`` then ``apply_import`` in one pass: rows are written as soon as checked.

    The writing overlaps the checking (done by other processes when
    ``processes`` > 1). Everything happens in the caller's transaction: at the
    first invalid or repeated row writing stops, the whole file is still
    checked, and the summary is None — the caller rolls back, nothing is imported.
    """
    progress = progress or _Silent()
    vocab = Vocabulary(session)
    check = ImportCheck.of(parsed)
    importer = operations.ActorImporter(session, vocab, batch_size)
    batch: list[ActorInput] = []
    for line, data, error in _checked(parsed.rows, vocab, processes, progress):
        if error:
            check.errors.append((line, error))
            continue
        check.valid.append((line, _carried(parsed, line, data)))
        if not check.errors:
            batch.append(data)
            if len(batch) >= importer.batch_size:
                importer.add(batch)
                batch = []
    check.errors.sort()
    if check.errors:
        return check, None
    importer.add(batch)
    _drop_invalid(check, link_errors(session, check.valid, importer.slug_of))
    if check.errors:
        check.errors.sort()
        return check, None
    importer.finish()
    operations.record_import(session, user, importer.summary, source)
    check.to_update = importer.summary.updated + importer.summary.unchanged
    check.to_create = importer.summary.created
    return check, importer.summary


PARALLEL_FROM = 5000  # rows: below, starting processes costs more than it saves
CHUNK = 2000
_inherited = None  # in a checking process: (rows, vocabulary), inherited from the parent


def _checked(rows, vocab, processes, progress):
    """(line, data, None) for each good row, (line, None, reason) for a bad or repeated one, in file order."""
    first_line: dict[tuple, int] = {}
    for line, data, problems in _validated(rows, vocab, processes, progress):
        if problems:
            yield line, None, describe_errors(problems)
            continue
        first = first_line.setdefault(data.key, line)
        if first != line:
            yield line, None, repeated_row(first)
        else:
            yield line, data, None


def repeated_row(first: int) -> str:
    """Why a row is refused when an earlier one (line ``first``) has its name, town and département."""
    return _("même nom, même commune et même département qu'à la ligne %(n)d", n=first)


def _validated(rows, vocab, processes, progress):
    """(line, data, problems) for each row, in file order."""
    if processes <= 1 or len(rows) < PARALLEL_FROM:
        for line, raw in rows:
            yield line, *validate_actor(raw, vocab)
            progress.update(1)
        return
    global _inherited
    vocab.resolve("kind", "")  # builds the lookup once, before the processes copy it
    _inherited = rows, vocab
    gc.freeze()  # the processes share the parent's objects: no collection walks (and copies) them all
    try:
        # fork: the processes inherit the rows, the vocabulary and the app context (messages in French);
        # only the results travel.
        with multiprocessing.get_context("fork").Pool(processes, initializer=die_with_parent,
                                                     initargs=(os.getpid(),)) as pool:
            for results in pool.imap(_validate_chunk, range(0, len(rows), CHUNK)):
                yield from results
                progress.update(len(results))
    finally:
        _inherited = None
        gc.unfreeze()


def _validate_chunk(start: int):
    rows, vocab = _inherited
    results = []
    for line, raw in rows[start:start + CHUNK]:
        data, problems = validate_actor(raw, vocab)
        if data is not None:  # computed here, in parallel, and sent back with the data
            data.key, data.name_sort, data.slug
        results.append((line, data, problems))
    return results


def partial_possible(parsed: ParsedFile, check: ImportCheck) -> bool:
    """Whether the valid rows may be imported alone: some are, and every error is on a row that was read."""
    read = {line for line, _raw in parsed.rows}
    return bool(check.valid) and not check.ok and all(line in read for line, _reason in check.errors)


def refused_rows(parsed: ParsedFile, check: ImportCheck) -> tuple[list[str], list[dict]]:
    """The columns and the rows of ``parsed`` that ``check`` refused, each with its ``motif``, in file order."""
    reasons: dict[int, list[str]] = {}
    for line, reason in check.errors:
        reasons.setdefault(line, []).append(reason)
    columns = parsed.columns or (list(parsed.rows[0][1]) if parsed.rows else [])
    rows = []
    for line, raw in parsed.rows:
        if line in reasons:
            row = {c: ";".join(v) if isinstance(v, list) else v for c, v in raw.items()}
            rows.append({**row, "motif": " ; ".join(reasons[line])})
    return columns + ["motif"], rows


def apply_import(session, check: ImportCheck, progress=None, valid_only: bool = False, user=None,
                 source: str = "") -> operations.ImportSummary:
    """Import a check without errors, or only its valid rows with ``valid_only`` (the caller commits)."""
    if not check.ok and not valid_only:
        raise operations.OperationError(_("Le fichier contient des lignes invalides : rien n'a été importé."))
    progress = progress or _Silent()
    return operations.import_actors(session, [d for _, d in check.valid], Vocabulary(session),
                                    progress=progress.update, user=user, source=source)
