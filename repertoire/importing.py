"""Importing a file of actors: check every row first, then import all or nothing.

Shared by ``repertoire import`` and the back-office upload.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from . import operations
from .interchange import ParsedFile
from .models import Actor
from .validation import ActorInput, Vocabulary, describe_errors, validate_actor


@dataclass
class ImportCheck:
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), in line order
    valid: list[tuple[int, ActorInput]] = field(default_factory=list)
    to_create: int = 0
    to_update: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def messages(self) -> list[str]:
        return [f"line {line}: {reason}" for line, reason in self.errors]

    @property
    def invalid_lines(self) -> int:
        return len({line for line, _ in self.errors})


class _Silent:
    def update(self, n):
        pass


def check_import(session, parsed: ParsedFile, progress=None) -> ImportCheck:
    """Validate every row and say what importing would do; changes nothing."""
    progress = progress or _Silent()
    vocab = Vocabulary(session)
    check = ImportCheck(rows=len(parsed.rows))
    for message in parsed.errors:
        head, _sep, reason = message.partition(": ")
        check.errors.append((int(head.split()[-1]), reason))
    for line, raw in parsed.rows:
        data, problems = validate_actor(raw, vocab)
        if problems:
            check.errors.append((line, describe_errors(problems)))
        else:
            check.valid.append((line, data))
        progress.update(1)
    for line, first in operations.duplicate_keys(check.valid).items():
        check.errors.append((line, _("même nom, même commune et même département qu'à la ligne %(n)d", n=first)))
    check.errors.sort()
    existing = {operations.actor_key(n, t, d) for n, t, d in
                session.execute(select(Actor.name, Actor.town, Actor.department))}
    check.to_update = sum(operations.actor_key(d.name, d.town, d.department) in existing for _, d in check.valid)
    check.to_create = len(check.valid) - check.to_update
    return check


def apply_import(session, check: ImportCheck, progress=None) -> operations.ImportSummary:
    """Import a check without errors (the caller commits)."""
    if not check.ok:
        raise operations.OperationError(_("Le fichier contient des lignes invalides : rien n'a été importé."))
    progress = progress or _Silent()
    return operations.import_actors(session, [d for _, d in check.valid], Vocabulary(session),
                                    progress=progress.update)
