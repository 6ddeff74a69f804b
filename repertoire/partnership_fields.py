"""Partnerships and network memberships as the contract (§5) names them: kinds, statuses, dates, checks.

A partnership is held by an actor and is part of its entry: it travels in
``ActorInput.partnerships`` (a list of the dicts below, without ids), so that
forms, change requests, revisions, diffs and merges treat it as any other field.
Memberships travel in ``ActorInput.networks``: ``{"network": slug, "since": year}``.
"""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _, lazy_gettext as _l

from . import geo
from .text import clean_line, fold_words

KINDS = {
    "jumelage": _l("Jumelage"),
    "cooperation": _l("Coopération décentralisée (convention)"),
    "partenariat": _l("Partenariat"),
    "amitie": _l("Pacte d'amitié ou de coopération"),
}
STATUSES = {
    "active": _l("Active"),
    "suspendue": _l("Suspendue"),
    "terminee": _l("Terminée"),
}
# The partnerships CSV (contract §5), in its order.
CSV_COLUMNS = ["actor", "kind", "status", "start", "end", "partner_name", "partner_country", "partner_locality",
               "domains", "description", "source"]
REQUIRED_COLUMNS = ["actor", "kind", "partner_name", "partner_country"]
PARTNER_KEYS = ("name", "country", "locality", "actor")
DESCRIPTION_MAX = 2000
PARTNER_NAME_MAX = 200
LOCALITY_MAX = 120
FIRST_YEAR = 1800
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def empty_partnership() -> dict:
    return {"kind": "", "status": "active", "start": "", "end": "", "partners": [], "domains": [],
            "description": "", "source": ""}


def parse_date(value: str) -> tuple[int, ...] | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as a tuple of 1 to 3 numbers; None if it is not one."""
    match = _DATE.match(value)
    if not match:
        return None
    parts = tuple(int(p) for p in match.groups() if p is not None)
    try:
        date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        return None
    return parts


def year_of(value: str) -> int | None:
    """The year of a stored start or end (valid by construction), None when empty."""
    return int(value[:4]) if value else None


def decade_of(value: str) -> str | None:
    year = year_of(value)
    return None if year is None else str(year - year % 10)


def _lookup(table: dict, value: str) -> str | None:
    folded = fold_words(value)
    for slug, label in table.items():
        if folded in (slug, fold_words(str(label))):
            return slug
    return None


def resolve_kind(value: str) -> str | None:
    """A kind from its slug or its French label, case- and accent-insensitive."""
    return _lookup(KINDS, value)


def resolve_status(value: str) -> str | None:
    return _lookup(STATUSES, value)


def kind_label(slug: str) -> str:
    return str(KINDS.get(slug, slug))


def status_label(slug: str) -> str:
    return str(STATUSES.get(slug, slug))


def check_partner(item) -> tuple[dict | None, list[tuple[str, str]]]:
    """One partner as typed: clean values (None for an empty row), or ``(key, message)`` in French,
    ``key`` one of ``PARTNER_KEYS`` (so that a form shows the message beside its field)."""
    if not isinstance(item, dict):
        return None, [("name", _("valeur invalide"))]
    name = clean_line(str(item.get("name") or ""))
    locality = clean_line(str(item.get("locality") or ""))
    country_raw = clean_line(str(item.get("country") or ""))
    partner_actor = clean_line(str(item.get("actor") or "")) or None
    if not (name or locality or country_raw or partner_actor):
        return None, []  # an empty row of the form
    errors = []
    if not name:
        errors.append(("name", _("le nom est obligatoire")))
    elif len(name) > PARTNER_NAME_MAX:
        errors.append(("name", _("le nom dépasse %(max)d caractères", max=PARTNER_NAME_MAX)))
    if len(locality) > LOCALITY_MAX:
        errors.append(("locality", _("la localité dépasse %(max)d caractères", max=LOCALITY_MAX)))
    country = geo.resolve_country(country_raw) if country_raw else None
    if not country_raw:
        errors.append(("country", _("le pays est obligatoire")))
    elif country is None:
        errors.append(("country", _("pays inconnu « %(value)s »", value=country_raw[:60])))
    if partner_actor is not None and not SLUG.match(partner_actor):
        errors.append(("actor", _("identifiant de fiche invalide « %(value)s »", value=partner_actor[:60])))
    return {"name": name, "country": country or "", "locality": locality, "actor": partner_actor}, errors


def check_partnership(raw: dict, vocab) -> tuple[dict | None, list[tuple[str, str]]]:
    """One partnership as typed (form, CSV row, JSON): clean values, or ``(key, message)`` in French.

    Keys are the partnership's (``kind``, ``start``…) or ``partners`` for its partners. Whether a
    partner named by slug exists, and is not the holder, is for ``operations.partnerships``.
    """
    errors: list[tuple[str, str]] = []

    def text(key) -> str:
        value = raw.get(key)
        return "" if value is None else clean_line(str(value))

    kind_raw = text("kind")
    kind = resolve_kind(kind_raw) if kind_raw else None
    if not kind_raw:
        errors.append(("kind", _("le type de partenariat est obligatoire")))
    elif kind is None:
        errors.append(("kind", _("type de partenariat inconnu « %(value)s » (jumelage, cooperation, partenariat "
                                 "ou amitie)", value=kind_raw[:60])))
    status_raw = text("status")
    status = resolve_status(status_raw) if status_raw else "active"
    if status is None:
        errors.append(("status", _("statut inconnu « %(value)s » (active, suspendue ou terminee)",
                                   value=status_raw[:60])))

    dates = {}
    today = date.today()
    for key in ("start", "end"):
        value = text(key)
        dates[key] = value
        if not value:
            continue
        parts = parse_date(value)
        if parts is None or parts[0] < FIRST_YEAR:
            errors.append((key, _("date invalide « %(value)s » (AAAA, AAAA-MM ou AAAA-MM-JJ)", value=value[:20])))
            dates[key] = None
        elif key == "start" and parts > (today.year, today.month, today.day)[:len(parts)]:
            errors.append(("start", _("le début « %(value)s » est dans le futur", value=value)))
    start, end = dates["start"], dates["end"]
    if start and end:
        a, b = parse_date(start), parse_date(end)
        n = min(len(a), len(b))  # compared at the coarser precision: 1990 does not end before 1990-05
        if b[:n] < a[:n]:
            errors.append(("end", _("la fin (%(end)s) précède le début (%(start)s)", end=end, start=start)))

    partners = []
    given = raw.get("partners") or []
    if not isinstance(given, list):
        given = []
    for n, item in enumerate(given, 1):
        partner, problems = check_partner(item)
        errors.extend(("partners", _("partenaire %(n)d : %(message)s", n=n, message=message))
                      for _key, message in problems)
        if partner is not None:
            partners.append(partner)
    if not partners and not any(key == "partners" for key, _m in errors):
        errors.append(("partners", _("indiquez au moins un partenaire (nom et pays)")))

    domains = []
    given_domains = raw.get("domains") or []
    if isinstance(given_domains, str):
        given_domains = given_domains.split(";")
    for value in given_domains:
        value = clean_line(str(value))
        if not value:
            continue
        slug = vocab.resolve("domain", value)
        if slug is None:
            errors.append(("domains", _("domaine inconnu « %(value)s »", value=value[:60])))
        elif slug not in domains:
            domains.append(slug)
    order = list(vocab.terms["domain"])
    domains.sort(key=order.index)

    description = str(raw.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors.append(("description", _("%(n)d caractères, %(max)d au plus", n=len(description),
                                        max=DESCRIPTION_MAX)))
    from .validation import normalize_website  # validation imports this module
    source_raw = text("source")
    source = normalize_website(source_raw)
    if source is None or len(source) > 300:
        errors.append(("source", _("adresse de la source invalide « %(value)s »", value=source_raw[:60])))
    for key, value in raw.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and "\x00" in v for v in values) or any(
                isinstance(v, dict) and any(isinstance(x, str) and "\x00" in x for x in v.values()) for v in values):
            errors.append((key if key in empty_partnership() else "description", _("caractère nul refusé")))
            break
    if errors:
        return None, errors
    return {"kind": kind, "status": status, "start": start, "end": end, "partners": partners, "domains": domains,
            "description": description, "source": source}, []


def check_networks(value) -> tuple[list[dict], list[str]]:
    """Memberships from the CSV cell (``slug[:YYYY];…``) or the JSON list (``{"network", "since"}``).

    Returns clean values (first mention of a network wins) and French messages.
    """
    errors, out, seen = [], [], set()
    if isinstance(value, str) or value is None:
        items = []
        for part in (value or "").split(";"):
            part = part.strip()
            if part:
                slug, _sep, year = part.partition(":")
                items.append({"network": slug.strip(), "since": year.strip()})
    elif isinstance(value, list):
        items = value
    else:
        return [], [_("valeur invalide pour les réseaux")]
    this_year = date.today().year
    for item in items:
        if isinstance(item, str):  # "slug:YYYY" in a JSON list
            slug, _sep, year = item.partition(":")
            item = {"network": slug.strip(), "since": year.strip()}
        if not isinstance(item, dict):
            errors.append(_("valeur invalide pour les réseaux"))
            continue
        slug = str(item.get("network") or "").strip()
        since_raw = item.get("since")
        since_raw = "" if since_raw is None else str(since_raw).strip()
        if not SLUG.match(slug) or len(slug) > 100:
            errors.append(_("réseau invalide « %(value)s » (identifiant de la fiche du réseau attendu)",
                            value=slug[:60]))
            continue
        since = None
        if since_raw:
            if not (len(since_raw) == 4 and since_raw.isascii() and since_raw.isdigit()
                    and FIRST_YEAR <= int(since_raw) <= this_year):
                errors.append(_("année d'adhésion invalide « %(value)s » pour %(network)s (4 chiffres, au plus "
                                "cette année)", value=since_raw[:20], network=slug))
                continue
            since = int(since_raw)
        if slug not in seen:
            seen.add(slug)
            out.append({"network": slug, "since": since})
    return out, errors


def networks_to_text(networks: list[dict]) -> str:
    """The CSV cell of ``networks``."""
    return ";".join(n["network"] + (f":{n['since']}" if n.get("since") else "") for n in networks)
