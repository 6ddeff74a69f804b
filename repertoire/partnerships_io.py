"""The partnerships file (contract §5): reading, checking, importing and exporting.

One partnership a row; the file's rows for a holder REPLACE that holder's
partnerships, through ``update_actor`` (revisions, index), so that an export
imported back changes nothing and keeps the ids. The CSV has no column for a
partner that is itself in the directory: a partner of the file equal (name,
country, locality) to one of the holder's current partners keeps its link (or
its absence of link); another is linked to the published actor of the same
folded name, seat country and town (when the file gives a locality) if there is
exactly one (``operations.directory_partners``, in bulk), so that an export
imported into an empty directory gets its links back; the JSON carries the link
(``actor``) and imports it. Shared by
``repertoire partnerships import|export`` and the back-office import page.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field, replace

from flask_babel import gettext as _, ngettext
from sqlalchemy import exists, select, update
from sqlalchemy.orm import selectinload

from . import operations
from .interchange import ParsedFile, _decode, parse_csv, read_json_list
from .models import Actor, Partnership
from .partnership_fields import CSV_COLUMNS, REQUIRED_COLUMNS, SLUG, check_partnership
from .spreadsheets import TableError, open_table
from .text import clean_line
from .validation import Vocabulary, describe_errors

CHUNK = 500
PARTNER_COLUMNS = ("partner_name", "partner_country", "partner_locality")
MAX_PARTNERS = 50  # a twinning has two or three; a cell of thousands of ";" is refused, not checked


class _Silent:
    def update(self, n):
        pass


# -- reading -----------------------------------------------------------------

def too_many(n: int) -> str:
    return ngettext("%(num)d partenaire : %(max)d au plus", "%(num)d partenaires : %(max)d au plus", n,
                    max=MAX_PARTNERS)


def split_partners(row: dict) -> tuple[list[dict], str | None]:
    """The partners of a CSV row: the ``partner_*`` cells split on ``;``, position by position.

    An empty ``partner_locality`` cell means no locality for any partner.
    """
    names, countries = row["partner_name"].split(";"), row["partner_country"].split(";")
    if max(len(names), len(countries)) > MAX_PARTNERS:
        return [], too_many(max(len(names), len(countries)))
    localities = row["partner_locality"].split(";") if row["partner_locality"].strip() else [""] * len(names)
    if not len(names) == len(countries) == len(localities):
        return [], _("noms de partenaires : %(names)d, pays : %(countries)d, localités : %(localities)d ; une "
                     "valeur par partenaire, dans le même ordre, séparées par « ; » (une localité inconnue "
                     "reste vide entre ses « ; »)", names=len(names), countries=len(countries),
                     localities=len(localities))
    return [{"name": n, "country": c, "locality": loc, "actor": None}
            for n, c, loc in zip(names, countries, localities)], None


def parse_partnerships(data: bytes, filename: str = "", drop: tuple[str, ...] = ()) -> ParsedFile:
    """Rows of a partnerships file (CSV, .xlsx or JSON) as raw partnerships, each with its ``actor``.

    CSV rows carry ``linked=False``: their partners' links to the directory are the holder's current ones.
    """
    if filename.lower().endswith(".json"):
        return _parse_json(data)
    parsed = parse_csv(data, filename, drop, columns=CSV_COLUMNS, required=REQUIRED_COLUMNS)
    rows = []
    for line, row in parsed.rows:
        partners, problem = split_partners(row)
        if problem:
            parsed.errors.append(f"line {line}: partner_name : {problem}")
            continue
        rows.append((line, {**{k: v for k, v in row.items() if k not in PARTNER_COLUMNS}, "partners": partners,
                            "linked": False}))
    parsed.rows = rows
    return parsed


def _parse_json(data: bytes) -> ParsedFile:
    """Partnerships from a JSON export: a list of objects, each with ``actor`` and ``partners``."""
    parsed = ParsedFile()
    items = read_json_list(data, parsed, _("une liste de partenariats est attendue"))
    if items is None:
        return parsed
    for n, item in enumerate(items, 1):
        scalars = ("actor", "kind", "status", "start", "end", "description", "source")
        if not isinstance(item, dict) or not isinstance(item.get("partners"), list) or any(
                not isinstance(item.get(key, ""), (str, type(None))) for key in scalars) or not isinstance(
                item.get("domains", []), (list, str)):
            parsed.errors.append(f"item {n}: " + _("un partenariat (objet avec actor, kind, partners…) est attendu"))
            continue
        if len(item["partners"]) > MAX_PARTNERS:
            parsed.errors.append(f"item {n}: partner_name : " + too_many(len(item["partners"])))
            continue
        parsed.rows.append((n, {**{key: item.get(key) or "" for key in scalars}, "domains": item.get("domains") or [],
                                "partners": item["partners"], "linked": True}))
    return parsed


# -- checking ----------------------------------------------------------------

@dataclass
class PartnershipCheck:
    rows: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), in line order
    holders: dict[str, tuple[Actor, list[tuple[int, dict]]]] = field(default_factory=dict)  # slug: rows
    to_update: int = 0  # holders whose partnerships change
    unchanged: int = 0
    linked: int = 0  # partners of the valid rows linked to an actor of the directory
    ambiguous: int = 0  # partners of CSV rows left unlinked because several actors have their name

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def valid(self) -> list:
        return [row for _actor, rows in self.holders.values() for row in rows]

    @property
    def invalid_lines(self) -> int:
        return len({line for line, _ in self.errors})

    def messages(self) -> list[str]:
        return [f"line {line}: {reason}" for line, reason in self.errors]


def load_holders(session, slugs) -> dict[str, Actor]:
    """The published actors of these slugs, with all that ``actor_input`` reads loaded in a few queries."""
    slugs, found = sorted(slugs), {}
    for start in range(0, len(slugs), CHUNK):
        query = select(Actor).where(Actor.slug.in_(slugs[start:start + CHUNK]), Actor.status == "published").options(
            selectinload(Actor.country_links), selectinload(Actor.town_links), selectinload(Actor.domains),
            selectinload(Actor.activities), selectinload(Actor.memberships), selectinload(Actor.partnerships))
        for actor in session.scalars(query):
            found[actor.slug] = actor
    return found


def lock_holders(session, parsed: ParsedFile):
    """Hold the rows of the file's holders until the transaction ends (on SQLite, the database): two
    imports at once then run one after the other, each checked on what the other wrote; ids in order."""
    slugs = sorted({clean_line(str(raw.get("actor") or "")) for _line, raw in parsed.rows} - {""})
    ids = []
    for start in range(0, len(slugs), CHUNK):
        ids += session.scalars(select(Actor.id).where(Actor.slug.in_(slugs[start:start + CHUNK])))
    ids.sort()
    if ids and session.get_bind().dialect.name == "sqlite":  # one write takes the database's write lock
        session.execute(update(Actor).where(Actor.id == ids[0]).values(status=Actor.status)
                        .execution_options(synchronize_session=False))
        return
    for start in range(0, len(ids), CHUNK):  # the rows are locked in the order they come: by id
        session.execute(select(Actor.id).where(Actor.id.in_(ids[start:start + CHUNK])).order_by(Actor.id)
                        .with_for_update()).all()


def check_partnerships(session, parsed: ParsedFile, progress=None, lock: bool = False) -> PartnershipCheck:
    """Validate every row, resolve holders and partners; say what importing would change. Writes nothing,
    but with ``lock`` (before importing) first takes the holders' rows (``lock_holders``)."""
    progress = progress or _Silent()
    if lock:
        lock_holders(session, parsed)
    vocab = Vocabulary(session)
    check = PartnershipCheck(rows=len(parsed.rows))
    for message in parsed.errors:
        head, _sep, reason = message.partition(": ")
        check.errors.append((int(head.split()[-1]), reason))
    good = []
    for line, raw in parsed.rows:
        holder = clean_line(str(raw.get("actor") or ""))
        value, problems = check_partnership(raw, vocab)
        if not holder:
            problems.insert(0, ("actor", _("l'identifiant de la fiche qui tient le partenariat est obligatoire")))
        if problems:
            check.errors.append((line, describe_errors(problems)))
        else:
            good.append((line, holder, value, raw["linked"]))
        progress.update(1)
    holders = load_holders(session, {holder for _l, holder, _v, _k in good if SLUG.match(holder)})
    partner_slugs = {p["actor"] for _l, _h, value, linked in good if linked for p in value["partners"] if p["actor"]}
    known = operations.find_linked(session, partner_slugs)
    current_links = {}  # the CSV: a partner the holder has now keeps its link (or its absence of link) ...
    for _line, holder, value, linked in good:
        if not linked and holder in holders and holder not in current_links:
            current_links[holder] = {(p["name"], p["country"], p["locality"]): p["actor"]
                                     for current in holders[holder].partnership_values for p in current["partners"]}
    matches = operations.directory_partners(session, [  # ... another is linked if it names one published actor
        p for _line, holder, value, linked in good if not linked and holder in current_links
        for p in value["partners"] if (p["name"], p["country"], p["locality"]) not in current_links[holder]])
    for line, holder, value, linked in good:
        actor = holders.get(holder)
        if actor is None:
            check.errors.append((line, "actor : " + _("aucune fiche publiée « %(slug)s » dans l'annuaire",
                                                      slug=holder[:100])))
            continue
        problems = []
        if linked:
            for n, partner in enumerate(value["partners"], 1):
                if partner["actor"] == holder:
                    problems.append(_("partenaire %(n)d : le partenaire ne peut pas être la fiche elle-même", n=n))
                elif partner["actor"] and partner["actor"] not in known:
                    problems.append(_("partenaire %(n)d : aucune fiche « %(slug)s » dans l'annuaire", n=n,
                                      slug=partner["actor"]))
        else:
            value = {**value, "partners": [{**p, "actor": _csv_link(check, p, holder, current_links[holder], matches)}
                                           for p in value["partners"]]}
        if problems:
            check.errors.append((line, "partners : " + " ; ".join(problems)))
            continue
        check.linked += sum(bool(p["actor"]) for p in value["partners"])
        check.holders.setdefault(holder, (actor, []))[1].append((line, value))
    check.errors.sort()
    for actor, rows in check.holders.values():
        if [value for _line, value in rows] == actor.partnership_values:
            check.unchanged += 1
        else:
            check.to_update += 1
    return check


def _csv_link(check: PartnershipCheck, partner: dict, holder: str, current: dict, matches: dict) -> str | None:
    """The directory actor a partner of a CSV row is: the holder's current link for that partner, else the
    one published actor of that name, country (and town), never the holder itself."""
    key = (partner["name"], partner["country"], partner["locality"])
    if key in current:
        return current[key]
    found = [slug for slug in matches.get(operations.partner_key(partner), ()) if slug != holder]
    if len(found) > 1:
        check.ambiguous += 1
    return found[0] if len(found) == 1 else None


@dataclass
class PartnershipSummary:
    partnerships: int = 0
    updated: int = 0
    unchanged: int = 0


def apply_partnerships(session, check: PartnershipCheck, progress=None) -> PartnershipSummary:
    """Give each holder of a check without errors the file's partnerships (the caller commits)."""
    if not check.ok:
        raise operations.OperationError(_("Le fichier contient des lignes invalides : rien n'a été importé."))
    progress = progress or _Silent()
    vocab = Vocabulary(session)
    summary = PartnershipSummary()
    with session.no_autoflush:  # a flush before each holder's look-up of its links would cost more than the rest
        for n, (actor, rows) in enumerate(check.holders.values(), 1):
            data = replace(operations.actor_input(actor), partnerships=[value for _line, value in rows])
            changed = operations.update_actor(session, actor, data, vocab, action="import")
            summary.updated += changed
            summary.unchanged += not changed
            summary.partnerships += len(rows)
            progress.update(len(rows))
            if n % CHUNK == 0:
                session.flush()
    session.flush()
    return summary


# -- exporting ---------------------------------------------------------------

def published_partnerships(session):
    """Every partnership of the published actors as the contract's dict (with ``id`` and ``actor``),
    holders in name order, each holder's in its order; read in chunks."""
    holders = session.execute(select(Actor.id, Actor.slug).where(
        Actor.status == "published", exists().where(Partnership.actor_id == Actor.id))
        .order_by(Actor.name_sort, Actor.id)).all()
    for start in range(0, len(holders), CHUNK):
        chunk = dict(holders[start:start + CHUNK])
        rows = session.scalars(select(Partnership).where(Partnership.actor_id.in_(chunk))
                               .order_by(Partnership.position, Partnership.id)).all()
        by_holder: dict[int, list[Partnership]] = {}
        for row in rows:
            by_holder.setdefault(row.actor_id, []).append(row)
        for actor_id, slug in chunk.items():
            for row in by_holder.get(actor_id, []):
                yield {"id": row.id, "actor": slug, **row.as_value()}
        session.expunge_all()


def csv_row(partnership: dict) -> dict:
    """The CSV row of a partnership: ``;`` between partners, in the same order in each ``partner_*`` column."""
    partners = partnership["partners"]
    return {"actor": partnership["actor"], "kind": partnership["kind"], "status": partnership["status"],
            "start": partnership["start"], "end": partnership["end"],
            "partner_name": ";".join(p["name"] for p in partners),
            "partner_country": ";".join(p["country"] for p in partners),
            "partner_locality": ";".join(p["locality"] for p in partners),
            "domains": ";".join(partnership["domains"]), "description": partnership["description"],
            "source": partnership["source"]}


def write_csv(stream, partnerships) -> int:
    """Write partnerships in the CSV of §5 (RFC 4180, CRLF); return how many."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    n = 0
    for n, partnership in enumerate(partnerships, 1):
        writer.writerow(csv_row(partnership))
        if n % 200 == 0:
            stream.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    stream.write(buffer.getvalue())
    return n


def write_json(stream, partnerships) -> int:
    """Write partnerships as a JSON array, one a line; return how many."""
    n = 0
    stream.write("[")
    for n, partnership in enumerate(partnerships, 1):
        stream.write((",\n" if n > 1 else "\n") + json.dumps(partnership, ensure_ascii=False))
    stream.write("\n]\n")
    return n


def is_partnerships_file(data: bytes, filename: str = "") -> bool:
    """Whether an uploaded file is a partnerships file (§5) rather than an actors file (§2), by its header
    (CSV, .xlsx) or its first object (JSON)."""
    if filename.lower().endswith(".json"):
        text, _error = _decode(data)
        try:
            items = json.loads(text or "")
        except (ValueError, RecursionError):
            return False
        return isinstance(items, list) and bool(items) and isinstance(items[0], dict) and "partners" in items[0]
    try:
        reader, _detected = open_table(data, filename, known=tuple(CSV_COLUMNS))
        header = next(reader, None) or []
    except (TableError, csv.Error):
        return False
    return "partner_name" in {h.strip() for h in header}
