"""The import report of a large file, checked in the background (a « vérification d'import » job).

A file of more rows than ``IMPORT_BACKGROUND_ROWS`` is not checked in the request that uploads it: the upload is
stored (as for a small file), a job of kind ``import.check`` is queued over its row positions (``job_item``
1..n, written by one INSERT … SELECT of a counting CTE), and the worker (``repertoire/jobs.py``) checks it a chunk
of rows at a time: validation, the actor each row updates and the fields it changes, or the published actors a new
row likely duplicates (``operations.row_outcomes``, the one detector). Each chunk's findings, one compact item a
row, are committed with the job's progress (``job_chunk``), so a worker killed half-way leaves a job the next one
resumes after its last committed chunk. ``finish`` then does what needs the whole file — a row repeating an earlier
one's name, town and département, links to networks or partners — and writes the report exactly as the immediate
check would (``report_document``): the report page reads it, paged, and the import choices are unchanged (the
import itself checks the file again and refuses a changed verdict).

The file is identified by its SHA-256, taken when it is queued: a file replaced or gone before the check ends
fails the job with a French message; the upload is never deleted by a failure.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from types import SimpleNamespace

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import literal, select

from . import operations
from .files import private_dir, private_open
from .importing import (ImportCheck, _carried, _drop_invalid, apply_import, check_import, existing_ids, link_errors,
                        partial_possible, predicted_slugs, refused_rows, repeated_row, report_rows)
from .interchange import ParsedFile, parse_file
from .operations.jobs import ChunkDone, JobKind, job_items, queue_job, register_kind
from .spreadsheets import csv_bytes
from .validation import Vocabulary, describe_errors, validate_actor

KIND = "import.check"
APPLY = "import.apply"
REPORT = ".rapport.json"  # a report beside the uploads: <name>.rapport.json
REFUSED = ".refusees.csv"  # the refused rows of an upload, with their motif: <token>.refusees.csv


def uploads_folder() -> str:
    return private_dir(os.path.join(current_app.instance_path, "uploads"))


def file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verdict(check: ImportCheck) -> str:
    """Which lines are valid and which refused: the partial import imports what the report showed."""
    lines = ",".join(str(line) for line, _data in check.valid) + "/" + ",".join(str(l) for l, _r in check.errors)
    return hashlib.sha256(lines.encode()).hexdigest()[:32]


def report_document(parsed: ParsedFile, check: ImportCheck, token: str | None, filename: str, user_id) -> dict:
    """The report as stored (every row, its counts), and the refused rows kept for download when the valid ones
    may be imported alone. ``check`` must hold every valid row's outcome."""
    partial = token is not None and partial_possible(parsed, check)
    if partial:
        columns, rows = refused_rows(parsed, check)
        with private_open(os.path.join(uploads_folder(), token + REFUSED), "wb") as f:
            f.write(csv_bytes(columns, rows))
    rows = report_rows(parsed, check)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[1]] = counts.get(row[1], 0) + 1
    return {"filename": filename, "detected": parsed.detected, "token": token, "partial": partial,
            "verdict": verdict(check), "ok": check.ok, "user": user_id, "counts": counts, "rows": rows}


STATES = ("create", "duplicate", "update", "unchanged", "refused")
PER_PAGE = 100  # rows of a report page
ROWS = ".lignes.jsonl"  # a report's rows, one JSON array a line: <name>.lignes.jsonl


def write_report(report: dict, name: str | None = None) -> str:
    """Store ``report`` under ``name`` (a new one if None) as two files: its rows, one a line, in line order then
    again state by state, and a small header (everything else) with the byte offset of each page of rows, all
    or of one state, so that showing a page reads that page only (a 20,000-row report is 3.5 MB of JSON: 0.5 s to
    load whole). Each is written aside then renamed, the header last: a report is there once complete."""
    name = name or secrets.token_urlsafe(16)
    folder = uploads_folder()
    rows = report["rows"]
    header = {key: value for key, value in report.items() if key != "rows"}
    header["pages"] = {}
    aside = os.path.join(folder, f"{name}{ROWS}.{secrets.token_hex(4)}.tmp")
    with private_open(aside, "wb") as f:
        for state in ("",) + STATES:
            starts = []
            for n, row in enumerate(rows if not state else (r for r in rows if r[1] == state)):
                if n % PER_PAGE == 0:
                    starts.append(f.tell())
                f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            header["pages"][state] = starts + [f.tell()]  # where each page starts, then where the last ends
    os.replace(aside, os.path.join(folder, name + ROWS))
    aside = os.path.join(folder, f"{name}{REPORT}.{secrets.token_hex(4)}.tmp")
    with private_open(aside, "w", encoding="utf-8") as f:
        f.write(json.dumps(header, ensure_ascii=False, separators=(",", ":")))
    os.replace(aside, os.path.join(folder, name + REPORT))
    return name


def read_report(name: str) -> dict | None:
    """A stored report's header (its counts, choices, owner, pages), or None."""
    try:
        with open(os.path.join(uploads_folder(), name + REPORT), encoding="utf-8") as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return None


def report_page(name: str, report: dict, state: str, number: int) -> list[list]:
    """The rows of page ``number`` (from 1) of a stored report, all or those of ``state``."""
    starts = report["pages"][state]
    if number >= len(starts):
        return []
    try:
        with open(os.path.join(uploads_folder(), name + ROWS), "rb") as f:
            f.seek(starts[number - 1])
            data = f.read(starts[number] - starts[number - 1])
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in data.splitlines()]


# -- the job -----------------------------------------------------------------

def queue_check(session, path: str, token: str, filename: str, rows: int, user):
    """Queue the check of the upload ``token`` (``rows`` rows read); the caller commits. Returns the job."""
    counting = select(literal(1).label("n")).cte("positions", recursive=True)
    counting = counting.union_all(select(counting.c.n + 1).where(counting.c.n < rows))
    params = {"token": token, "filename": filename, "report": secrets.token_urlsafe(16),
              "digest": file_digest(path), "rows": rows}
    return queue_job(session, KIND, params, select(counting.c.n), user, [], expected=rows)


def checked_uploads(session) -> set[str]:
    """The uploads whose check or import is waiting or running (never deleted as too old: the job may wait for
    other jobs; a check's end gives the coordinator ``UPLOAD_MAX_AGE`` again to confirm)."""
    from .models import Job
    from .operations.jobs import ACTIVE
    kept = set()
    for params in session.scalars(select(Job.params).where(Job.kind.in_((KIND, APPLY)), Job.status.in_(ACTIVE))):
        kept.add(params.get("claimed") or params.get("token"))
        if params.get("valid_only"):  # an import of the valid rows: its refused rows, for its page's link
            kept.add(params["token"] + REFUSED)
    return kept


def give_back(job):
    """A queued import cancelled: its upload may be confirmed again from its report, for UPLOAD_MAX_AGE."""
    folder = uploads_folder()
    claimed, path = os.path.join(folder, job.params["claimed"]), os.path.join(folder, job.params["token"])
    try:
        if not os.path.exists(path):
            os.rename(claimed, path)
            os.utime(path)
    except FileNotFoundError:
        pass


def refused_file_kept(job) -> bool:
    """Whether the refused rows of an import of the valid rows may still be downloaded."""
    name = (job.result or {}).get("refused_file")
    return bool(name) and os.path.exists(os.path.join(uploads_folder(), name + REFUSED))


_cache = threading.local()  # the parsed file of the job this thread works on (inline workers are threads)


def _parsed(job) -> ParsedFile:
    """The job's file, parsed once per worker thread, and refused if it is gone or no longer the one queued."""
    path = os.path.join(uploads_folder(), job.params["token"])
    try:
        digest = file_digest(path)
    except FileNotFoundError:
        raise operations.OperationError(_("Le fichier envoyé n'est plus disponible (déjà importé, ou trop ancien) : "
                                          "envoyez-le de nouveau.")) from None
    if digest != job.params["digest"]:
        raise operations.OperationError(_("Le fichier a été remplacé pendant sa vérification : rien n'a été "
                                          "importé ; envoyez-le de nouveau."))
    key = (job.id, digest)
    if getattr(_cache, "key", None) != key:
        _cache.key, _cache.parsed = None, None
        _cache.parsed, _cache.key = parse_file(path, drop=("motif",)), key
    parsed = _cache.parsed
    if len(parsed.rows) != job.total:
        raise operations.OperationError(_("Le fichier ne se lit plus de la même façon : envoyez-le de nouveau."))
    return parsed


def _in_french(step):
    """A failure other than a broken rule becomes a French message on the job's page (the log has the details)."""
    def run(session, job, *args):
        try:
            return step(session, job, *args)
        except operations.OperationError:
            raise
        except Exception as exc:
            current_app.logger.exception("%s %s", job.kind, job.id)
            if job.kind == APPLY and job.done:  # the import is committed: only what follows it failed
                raise operations.OperationError(_("Le fichier est importé, mais la fin de la tâche s'est arrêtée sur "
                                                  "une erreur imprévue : ne l'envoyez pas de nouveau ; signalez-le "
                                                  "si cela se reproduit.")) from exc
            if job.kind == APPLY:
                raise operations.OperationError(_("L'import s'est arrêté sur une erreur imprévue : rien n'a été "
                                                  "importé ; envoyez le fichier de nouveau, ou signalez-le si cela "
                                                  "se reproduit.")) from exc
            raise operations.OperationError(_("La vérification s'est arrêtée sur une erreur imprévue ; le fichier "
                                              "est gardé : envoyez-le de nouveau, ou signalez-le si cela se "
                                              "reproduit.")) from exc
    return run


def _chunk(session, job, ids: list[int], user) -> ChunkDone:
    """Check the rows at positions ``ids``; one item a row, in file order:
    [line, state, name, detail, key, town, slug, carries links]."""
    parsed = _parsed(job)
    vocab = Vocabulary(session)
    items, valid = {}, []
    for position in ids:
        line, raw = parsed.rows[position - 1]
        data, problems = validate_actor(raw, vocab)
        if problems:
            name = raw.get("name")
            items[line] = [line, "refused", name if isinstance(name, str) else "", describe_errors(problems)]
        else:
            valid.append((line, _carried(parsed, line, data)))
    existing = existing_ids(session, {d.key for _line, d in valid})
    outcomes = operations.row_outcomes(session, valid, existing)
    for line, data in valid:
        state, detail = outcomes[line]
        items[line] = [line, state, data.name, detail, list(data.key), data.town, data.slug,
                       bool(operations.linked_slugs(data))]
    return ChunkDone([items[line] for line in sorted(items)])


def _finish(session, job, user) -> dict | None:
    """Once every row is checked: what needs the whole file, then the report. None if the job stopped before."""
    if job.done < job.total:
        return None
    written = read_report(job.params["report"])
    if written is not None and not os.path.exists(os.path.join(uploads_folder(), job.params["token"])):
        # a worker killed after writing the report and deleting an upload nothing may be imported from, before
        # its commit: the report is there, complete (its header is written last), and is the job's result
        return {"report": job.params["report"], "rows": sum(written["counts"].values()), "ok": written["ok"]}
    parsed = _parsed(job)
    check = ImportCheck.of(parsed)
    first: dict[tuple, int] = {}
    light, linked = [], []
    for line, state, name, detail, *rest in job_items(session, job):
        if state == "refused":
            check.errors.append((line, detail))
            continue
        key, town, slug, links = rest
        key = tuple(key)
        if first.setdefault(key, line) != line:
            check.errors.append((line, repeated_row(first[key])))
            continue
        light.append((line, SimpleNamespace(name=name, key=key, town=town, slug=slug)))
        check.outcomes[line] = (state, detail)
        if links:
            linked.append(line)
    check.valid = light
    if linked:  # the links may name rows of the file: checked against the slugs every row will have
        vocab, raws = Vocabulary(session), dict(parsed.rows)
        rows = [(line, _carried(parsed, line, validate_actor(raws[line], vocab)[0])) for line in linked]
        _drop_invalid(check, link_errors(session, rows, predicted_slugs(session, light)))
    check.errors.sort()
    importable = check.ok or partial_possible(parsed, check)
    report = report_document(parsed, check, job.params["token"] if importable else None, job.params["filename"],
                             job.user_id)
    write_report(report, job.params["report"])
    if importable:  # the time to confirm it counts from its report
        try:
            os.utime(os.path.join(uploads_folder(), job.params["token"]))
        except FileNotFoundError:
            pass
    else:  # nothing may be imported: the upload goes, once the report is written
        try:
            os.remove(os.path.join(uploads_folder(), job.params["token"]))
        except FileNotFoundError:
            pass
    _cache.key, _cache.parsed = None, None
    return {"report": job.params["report"], "rows": len(report["rows"]), "ok": check.ok}


register_kind(KIND, JobKind(chunk=_in_french(_chunk), finish=_in_french(_finish), chunk_setting="IMPORT_CHECK_CHUNK"))


# -- the import of a large file, confirmed --------------------------------------------------------------------

def queue_import(session, claimed: str, token: str, rows: int, valid_only: bool, verdict_shown: str, user):
    """Queue the import of a large upload confirmed by ``user``: ``claimed``, the name the confirmation gave it
    (no other request can take it, see ``moderation.toolbox._claim``), ``rows`` rows read. The worker checks it
    again and imports it in one transaction, all or nothing, as the request did for a small file (a 20,000-row
    file takes minutes: more than a request may). The caller commits; returns the job."""
    counting = select(literal(1).label("n")).cte("positions", recursive=True)
    counting = counting.union_all(select(counting.c.n + 1).where(counting.c.n < rows))
    params = {"token": token, "claimed": claimed, "valid_only": valid_only, "verdict": verdict_shown}
    return queue_job(session, APPLY, params, select(counting.c.n), user, [], expected=rows)


def _import_refused(job, message: str):
    """Nothing is imported: the claimed upload goes (the coordinator sends the file again), with ``message``."""
    try:
        os.remove(os.path.join(uploads_folder(), job.params["claimed"]))
    except FileNotFoundError:
        pass
    return operations.OperationError(message)


def _apply(session, job, ids: list[int], user) -> ChunkDone:
    """The whole file (every row is in this one chunk): checked again, then imported, in the chunk's
    transaction; a worker killed before its commit leaves the file claimed, and the next one does it again."""
    path = os.path.join(uploads_folder(), job.params["claimed"])
    if not os.path.exists(path):
        raise operations.OperationError(_("Le fichier envoyé n'est plus disponible : rien n'a été importé ; "
                                          "envoyez-le de nouveau."))
    parsed = parse_file(path, drop=("motif",))
    check = check_import(session, parsed)  # the directory may have changed since the report
    valid_only = job.params["valid_only"]
    if valid_only and (not partial_possible(parsed, check) or job.params["verdict"] != verdict(check)):
        raise _import_refused(job, _("Le fichier ne donne plus le même résultat qu'au moment du rapport : rien "
                                     "n'a été importé ; envoyez-le de nouveau pour un nouveau rapport."))
    if not valid_only and not check.ok:
        raise _import_refused(job, _("Le fichier ne passe plus la vérification (l'annuaire a changé depuis le "
                                     "rapport) : rien n'a été importé ; envoyez-le de nouveau pour un nouveau "
                                     "rapport."))
    summary = apply_import(session, check, valid_only=valid_only, user=user, source=job.params["token"])
    return ChunkDone([[summary.created, summary.updated, summary.unchanged,
                       check.invalid_lines if valid_only else 0]])


def _apply_finish(session, job, user) -> dict | None:
    """What the import did (its counts), once committed; the claimed upload goes."""
    if job.done < job.total:
        return None
    try:
        os.remove(os.path.join(uploads_folder(), job.params["claimed"]))
    except FileNotFoundError:
        pass
    except OSError:  # imported all the same: the upload is left to the folder's age limit
        current_app.logger.warning("import %s: upload not removed", job.id, exc_info=True)
    (created, updated, unchanged, refused), = job_items(session, job)
    if refused:  # its refused rows may be downloaded for UPLOAD_MAX_AGE from the import's end
        try:
            os.utime(os.path.join(uploads_folder(), job.params["token"] + REFUSED))
        except OSError:
            pass
    return {"created": created, "updated": updated, "unchanged": unchanged, "refused": refused,
            "refused_file": job.params["token"] if refused else None}


register_kind(APPLY, JobKind(chunk=_in_french(_apply), finish=_in_french(_apply_finish), whole=True))
