"""Validation of actor data typed by people or read from files.

Produces clean values or French messages; used by the CSV/JSON importer and
the forms.
"""
from __future__ import annotations

import re
from dataclasses import field, make_dataclass
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from flask_babel import gettext as _
from sqlalchemy import select

from . import geo
from .actor_fields import FIELDS
from .i18n import current_language
from .partnership_fields import check_networks, check_partnership
from .models import Activity, Domain, Kind
from .text import clean_line, fold_words, slugify, sort_key

NAME_MIN, NAME_MAX = 2, 200
DESCRIPTION_MAX = 5000
POSTCODE = re.compile(r"^\d{5}$")


class _ActorInputBase:
    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in FIELDS}

    # Computed once, and by the processes checking a large import rather than the one writing it.
    @cached_property
    def key(self) -> tuple[str, str, str]:
        """See ``actor_key``."""
        return actor_key(self.name, self.town, self.department)

    @cached_property
    def name_sort(self) -> str:
        return sort_key(self.name)

    @cached_property
    def slug(self) -> str:
        """The slug this actor gets unless another has it already."""
        return slugify(self.name)


# Clean, validated values of one actor: one attribute per field of the table.
ActorInput = make_dataclass(
    "ActorInput", [(f.name, object, field(default_factory=f.empty)) for f in FIELDS], bases=(_ActorInputBase,))
ActorInput.__module__ = __name__  # picklable: checking processes send them back


def actor_key(name: str, town: str, department: str) -> tuple[str, str, str]:
    """What makes two entries the same actor: name, town and département, folded."""
    return fold_words(name), fold_words(town), department


class Vocabulary:
    """The taxonomy as it stands in the database: labels in the current language, and
    a lookup that resolves slugs, French labels and English labels."""

    def __init__(self, session, language: str | None = None):
        language = language or current_language()
        self.terms = {}
        self.labels = {}
        for name, model in (("kind", Kind), ("domain", Domain), ("activity", Activity)):
            rows = session.scalars(select(model).order_by(model.position, model.id)).all()
            self.terms[name] = {row.slug: row for row in rows}
            self.labels[name] = {row.slug: row.label_in(language) for row in rows}
        self._lookup = None  # built on the first resolve(): most requests only need slugs and labels

    def _build_lookup(self):
        self._lookup = {}
        for name, terms in self.terms.items():
            table = {}
            for slug, term in terms.items():
                if term.label_en:
                    table[fold_words(term.label_en)] = slug
            for slug, term in terms.items():
                table[fold_words(term.label)] = slug
            for slug in terms:
                table[fold_words(slug)] = slug
                table[slug] = slug
            self._lookup[name] = table

    def resolve(self, name: str, value: str) -> str | None:
        if self._lookup is None:
            self._build_lookup()
        value = value.strip()
        return self._lookup[name].get(value) or self._lookup[name].get(fold_words(value))

    def slugs(self) -> dict[str, set[str]]:
        return {name: set(terms) for name, terms in self.terms.items()}

    def active(self, name: str) -> list:
        return [t for t in self.terms[name].values() if not t.retired]


def split_multi(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = (value or "").split(";")
    seen, out = set(), []
    for item in items:
        item = clean_line(str(item))
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def normalize_website(value: str) -> str | None:
    value = value.strip()
    if not value:
        return ""
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or "." not in host or any(c.isspace() for c in value):
        return None
    return value


def normalize_email(value: str) -> str | None:
    """The address as email-validator normalises it (the domain in lower case), or None if it is not one.

    email-validator checks the domain character by character against the IDNA tables: three quarters of the
    time of checking an address, and a file's addresses share few domains. A plain address (ASCII, a simple
    local part, no IDNA label) has its domain checked once per domain (the same call on ``a@domain``); any
    other goes to email-validator whole. ``tests/test_import_report_rows.py`` holds both to the same answers.
    """
    value = value.strip()
    if not value:
        return ""
    local, at, domain = value.rpartition("@")
    if at and value.isascii() and len(value) <= 200 and len(local) <= 64 and _PLAIN_LOCAL.fullmatch(local) \
            and local.lower() not in CASE_INSENSITIVE_MAILBOX_NAMES and "xn--" not in domain.lower():
        domain = _email_domain(domain)
        return None if domain is None else f"{local}@{domain}"
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*")


@lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str | None:
    """The normalised form of the part after the @, or None if email-validator refuses it (whatever the
    local part: it checks the domain on its own)."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


# France and the overseas departments and collectivities that share its national prefix 0 (0262, 0590…).
FRENCH_REGIONS = ("FR", "RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF")


def normalize_phone(value: str, strict: bool = False) -> str | None:
    """The number as typed if it is possible (``strict``: valid) in France, overseas or abroad."""
    value = clean_line(value)
    if not value:
        return ""
    check = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    for region in FRENCH_REGIONS:
        try:
            number = phonenumbers.parse(value, region, keep_raw_input=True)
        except phonenumbers.NumberParseException:
            return None
        if check(number):
            return value
        if number.country_code_source != phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY:
            return None  # written with +NN: the region it was parsed in does not matter
    return None


def validate_actor(raw: dict, vocab: Vocabulary, strict: bool = False
                   ) -> tuple[ActorInput | None, list[tuple[str, str]]]:
    """Check one actor given as strings (CSV row, form) or lists.

    Returns clean data, or ``(field, message)`` pairs in French. ``strict`` adds
    the checks of the registration form (postcode consistent with the
    département, French phone numbers).
    """
    errors: list[tuple[str, str]] = []

    def error(fieldname, message):
        errors.append((fieldname, message))

    def items(key):
        """The values of a list field; an item given alone (a form's box, a JSON item) may not hold the
        separator of the CSV files, or it would come back from an export as two values."""
        values = split_multi(raw.get(key))
        if isinstance(raw.get(key), (list, tuple)):
            for value in [v for v in values if ";" in v]:
                error(key, _("« %(value)s » contient « ; », qui sépare les valeurs dans les fichiers exportés : "
                             "une seule valeur par case (ajoutez une case pour la suivante)", value=value[:60]))
                values.remove(value)
        return values

    def text(key):
        value = raw.get(key)
        return "" if value is None else str(value)

    name = clean_line(text("name"))
    if not name:
        error("name", _("le nom est obligatoire"))
    elif not NAME_MIN <= len(name) <= NAME_MAX:
        error("name", _("le nom doit compter de %(min)d à %(max)d caractères (ici %(n)d)",
                        min=NAME_MIN, max=NAME_MAX, n=len(name)))
    acronym = clean_line(text("acronym"))
    if len(acronym) > 40:
        error("acronym", _("le sigle ne doit pas dépasser 40 caractères"))

    kind = ""
    kind_raw = clean_line(text("kind"))
    if not kind_raw:
        error("kind", _("le type d'acteur est obligatoire"))
    else:
        kind = vocab.resolve("kind", kind_raw) or ""
        if not kind:
            error("kind", _("type d'acteur inconnu « %(value)s »", value=kind_raw))

    town = clean_line(text("town"))
    if not town:
        error("town", _("la commune du siège est obligatoire"))
    elif len(town) > 120:
        error("town", _("le nom de commune ne doit pas dépasser 120 caractères"))

    department = ""
    dept_raw = clean_line(text("department"))
    if not dept_raw:
        error("department", _("le département est obligatoire"))
    else:
        department = geo.resolve_department(dept_raw) or ""
        if not department:
            error("department", _("département inconnu « %(value)s » (code INSEE attendu, "
                                  "par exemple 14, 2A ou 974)", value=dept_raw))

    postcode = clean_line(text("postcode"))
    if len(postcode) == 4 and postcode.isdigit() and department.startswith("0"):
        postcode = "0" + postcode  # spreadsheets drop the leading zero of 01000..09999
    if postcode and not POSTCODE.match(postcode):
        error("postcode", _("code postal invalide « %(value)s » (5 chiffres attendus)", value=postcode))
    elif strict and postcode and department and geo.department_of_postcode(postcode) != department:
        error("postcode", _("le code postal %(postcode)s ne correspond pas au département %(name)s (%(code)s)",
                            postcode=postcode, name=geo.department_name(department), code=department))

    countries = []
    for value in items("countries"):
        code = geo.resolve_country(value)
        if code is None:
            error("countries", _("pays inconnu « %(value)s »", value=value))
        elif code not in countries:
            countries.append(code)

    towns = items("intervention_towns")
    for value in towns:
        if len(value) > 120:
            error("intervention_towns", _("« %(value)s… » dépasse 120 caractères", value=value[:30]))

    def terms(key, vocab_name, message):
        slugs = []
        for value in items(key):
            slug = vocab.resolve(vocab_name, value)
            if slug is None:
                error(key, message(value))
            elif slug not in slugs:
                slugs.append(slug)
        order = list(vocab.terms[vocab_name])  # taxonomy order, as the database returns them
        return sorted(slugs, key=order.index)

    domains = terms("domains", "domain", lambda value: _("domaine inconnu « %(value)s »", value=value))
    activities = terms("activities", "activity", lambda value: _("activité inconnue « %(value)s »", value=value))

    description = text("description").strip()
    if len(description) > DESCRIPTION_MAX:
        error("description", _("%(n)d caractères, %(max)d au plus", n=len(description), max=DESCRIPTION_MAX))

    website = normalize_website(text("website"))
    if website is None or len(website or "") > 300:
        error("website", _("adresse de site invalide « %(value)s »", value=text("website").strip()))
    email = normalize_email(text("email"))
    if email is None:
        error("email", _("adresse électronique invalide « %(value)s »", value=text("email").strip()))
    phone = normalize_phone(text("phone"), strict)
    if phone is None or len(phone or "") > 40:
        error("phone", _("numéro de téléphone invalide « %(value)s »", value=text("phone").strip()))

    networks, messages = check_networks(raw.get("networks"))
    for message in messages:
        error("networks", message)
    partnerships = []
    given = raw.get("partnerships") or []
    if not isinstance(given, list):
        error("partnerships", _("une liste de partenariats est attendue"))
        given = []
    for n, item in enumerate(given, 1):
        if not isinstance(item, dict):
            error("partnerships", _("partenariat %(n)d : un objet est attendu", n=n))
            continue
        clean, problems = check_partnership(item, vocab)
        for _key, message in problems:
            error("partnerships", _("partenariat %(n)d : %(message)s", n=n, message=message))
        if clean is not None:
            partnerships.append(clean)

    values = dict(name=name, acronym=acronym, kind=kind, town=town, postcode=postcode,
                  department=department, countries=countries, intervention_towns=towns,
                  domains=domains, activities=activities, description=description,
                  website=website, email=email, phone=phone, networks=networks, partnerships=partnerships)
    for f in FIELDS:  # the fields checked by the table's own rule
        if f.clean is not None:
            values[f.name], message = f.clean(text(f.name))
            if message:
                error(f.name, message)
    known = {f.name for f in FIELDS}
    for key, value in raw.items():  # a NUL byte in any value, of any field
        if key == "partnerships":
            continue  # checked by check_partnership
        if any(isinstance(v, str) and "\x00" in v for v in (value if isinstance(value, list) else [value])):
            error(key if key in known else "name", _("caractère nul refusé"))
            break
    if errors:
        return None, errors
    return ActorInput(**values), []


def describe_errors(errors: list[tuple[str, str]]) -> str:
    """One line for a report: "name : le nom est obligatoire ; kind : …"."""
    return " ; ".join(f"{fieldname} : {message}" for fieldname, message in errors)
