"""Search parameters shared by the HTML search page, the JSON API and /export.csv."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from .. import geo
from ..partnership_fields import KINDS, STATUSES
from .engine import FACETS, PARTNERSHIP_FACETS, Alternative, Criteria, PartnershipCriteria

SORTS = ("relevance", "name", "updated")
TEXT_PARAMS = ("q", "name", "place", "intervention")
MAX_TEXT = 5000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


class ParamError(ValueError):
    """A search parameter is wrong; the message (French) says which and why."""

    status = 400


class UnknownHolder(ParamError):
    """The partnerships search names a holder (``actor``) that no published actor is: not found."""

    status = 404


@dataclass
class SearchParams:
    q: str = ""
    name: str = ""
    place: str = ""
    intervention: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "name"
    sort_given: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def has_text(self) -> bool:
        return any(getattr(self, p).strip() for p in TEXT_PARAMS)

    @property
    def is_empty(self) -> bool:
        return not self.has_text and not any(self.filters.values())

    def criteria(self, facets: tuple[str, ...] = FACETS) -> Criteria:
        """The engine's criteria; ``facets``: those to count (none for a total or a list of ids)."""
        return Criteria(q=self.q, name=self.name, place=self.place, intervention=self.intervention,
                        places=[Alternative(v, *geo.place_codes(v)) for v in self.values("place")],
                        interventions=[Alternative(v, *geo.intervention_codes(v))
                                       for v in self.values("intervention")],
                        filters=self.filters, sort=self.sort, facets=tuple(facets))

    def text_chips(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """Each text criterion value, with the query-string pairs of this search without it:
        (criterion, value, pairs). Place and intervention give one per value."""
        chips = []
        for param in TEXT_PARAMS:
            values = self.values(param)
            for value in values:
                rest = ", ".join(v for v in values if v != value)
                chips.append((param, value, self.args(page=None, text=(param, rest))))
        return chips

    def values(self, param: str) -> list[str]:
        """The values of a text criterion: « Mali, Sénégal » is two places or countries (either will do)."""
        return split_values(param, getattr(self, param))

    def args(self, *, page: int | None = None, per_page: bool = True, sort: bool = True,
             drop: tuple[str, str] | None = None, add: tuple[str, str] | None = None,
             without: str | None = None, text: tuple[str, str] | None = None) -> list[tuple[str, str]]:
        """Query-string pairs for this search, with one change (for links): ``text`` gives a criterion
        another value, ``without`` removes one."""
        texts = {p: getattr(self, p) for p in TEXT_PARAMS if p != without}
        if text:
            texts[text[0]] = text[1]
        pairs = [(p, texts[p]) for p in TEXT_PARAMS if texts.get(p)]
        for name in FACETS:
            for value in self.filters.get(name, []):
                if (name, value) != drop:
                    pairs.append((name, value))
        if add and add not in pairs:
            pairs.append(add)
        if sort and self.sort_given:
            pairs.append(("sort", self.sort))
        if per_page and self.per_page != DEFAULT_PER_PAGE:
            pairs.append(("per_page", str(self.per_page)))
        if page and page > 1:
            pairs.append(("page", str(page)))
        return pairs


LISTS = ("place", "intervention")  # the criteria that take several values, separated by commas
MAX_VALUES = 20


def split_values(param: str, text: str) -> list[str]:
    """« Mali, Sénégal » -> ["Mali", "Sénégal"]; a name that holds a comma (« Corée, République de ») stays whole."""
    text = text.strip()
    if not text:
        return []
    if param not in LISTS or "," not in text:
        return [text]
    if param == "place" and geo.place_codes(text)[1] or param == "intervention" and geo.resolve_country(text):
        return [text]
    values = []
    for value in (v.strip() for v in text.split(",")):
        if value and value not in values:
            values.append(value)
    return values


def _positive_int(args, key, default, maximum=None) -> int:
    raw = args.get(key)
    if raw is None:  # absent; an empty value is a bad number, as the OpenAPI description's integer says
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        if maximum:
            raise ParamError(_("Le paramètre %(key)s doit être un nombre entier de 1 à %(max)d "
                               "(reçu : « %(value)s »).", key=key, max=maximum, value=raw[:50]))
        raise ParamError(_("Le paramètre %(key)s doit être un nombre entier positif "
                           "(reçu : « %(value)s »).", key=key, value=raw[:50]))
    return value


def parse_search_params(args, known: dict[str, set[str]]) -> SearchParams:
    """Validate query-string ``args`` (a MultiDict); ``known`` holds the taxonomy slugs.

    Raises ParamError with a French message for anything wrong.
    """
    params = SearchParams()
    for key in TEXT_PARAMS:
        values = [v for v in args.getlist(key) if v.strip()]
        value = " ".join(values)
        if len(value) > MAX_TEXT:
            raise ParamError(_("Le texte du paramètre %(key)s est trop long (%(n)d caractères, "
                               "%(max)d au plus).", key=key, n=len(value), max=MAX_TEXT))
        setattr(params, key, value.strip())
        if key in LISTS and len(params.values(key)) > MAX_VALUES:
            raise ParamError(_("Trop de valeurs pour le paramètre %(key)s (%(max)d au plus, séparées par "
                               "des virgules).", key=key, max=MAX_VALUES))

    labels = {"country": _("pays"), "department": _("département"), "domain": _("domaine"),
              "activity": _("type d'activité"), "kind": _("type d'acteur"),
              "partnership": _("type de partenariat"), "network": _("réseau")}
    for name in FACETS:
        chosen = []
        for raw in args.getlist(name):
            if raw == "":  # an unticked form field
                continue
            value = raw.strip()
            if name == "country":
                value = value.upper()
                valid = value in geo.countries()
            elif name == "department":
                value = value.upper()
                valid = value in geo.departments()
            elif name == "partnership":
                valid = value in KINDS
            elif name == "network":
                valid = value in known["network"] if "network" in known else is_published_slug(value)
            else:
                valid = value in known[name]
            if not valid:
                raise ParamError(_("Valeur inconnue pour le filtre %(key)s (%(label)s) : "
                                   "« %(value)s ».", key=name, label=labels[name], value=raw[:50]))
            if value not in chosen:
                chosen.append(value)
        if chosen:
            params.filters[name] = chosen

    sort = (args.get("sort") or "").strip()
    if sort and sort not in SORTS:
        raise ParamError(_("Tri inconnu : « %(value)s » (valeurs possibles : relevance, name, "
                           "updated).", value=sort[:50]))
    params.sort_given = bool(sort)
    if not sort or (sort == "relevance" and not params.has_text):
        sort = "relevance" if params.has_text else "name"
    params.sort = sort
    params.page = _positive_int(args, "page", 1)
    params.per_page = _positive_int(args, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    return params


def network_slugs(session) -> list[str]:
    """The slugs of the published networks: actors of kind ``reseau`` and actors with members (for OpenAPI)."""
    from ..models import Actor, Kind, Membership

    members = select(Membership.network_id)
    return sorted(session.scalars(select(Actor.slug).join(Kind).where(
        Actor.status == "published", (Kind.slug == "reseau") | Actor.id.in_(members))))


def is_published_slug(slug: str) -> bool:
    """Whether a published actor has this slug (a network, a holder)."""
    from ..extensions import db
    from ..models import Actor

    if not slug or len(slug) > 100:
        return False
    return db.session.scalar(select(Actor.id).where(Actor.slug == slug, Actor.status == "published")) is not None


PARTNERSHIP_FILTER_LABELS = {"kind": _l("type de partenariat"), "status": _l("statut"),
                             "country": _l("pays du partenaire"), "department": _l("département du porteur"),
                             "decade": _l("décennie")}
FIRST_YEAR, LAST_YEAR = 1000, 9999


@dataclass
class PartnershipParams:
    """The parameters of the partnerships search (``GET /api/partnerships``, ``/partenariats``)."""

    q: str = ""
    actor: str = ""
    since: int | None = None
    until: int | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def is_empty(self) -> bool:
        return not (self.q or self.actor or self.since is not None or self.until is not None
                    or any(self.filters.values()))

    def criteria(self) -> PartnershipCriteria:
        return PartnershipCriteria(q=self.q, actor=self.actor or None, since=self.since, until=self.until,
                                   filters=self.filters)

    def args(self, *, page: int | None = None, drop: tuple[str, str] | None = None,
             without: str | None = None) -> list[tuple[str, str]]:
        """Query-string pairs for this search, with one change (for links)."""
        pairs = [(key, str(value)) for key, value in (("q", self.q), ("actor", self.actor), ("since", self.since),
                                                     ("until", self.until))
                 if value not in ("", None) and key != without]
        for name in PARTNERSHIP_FACETS:
            pairs += [(name, value) for value in self.filters.get(name, []) if (name, value) != drop]
        if self.per_page != DEFAULT_PER_PAGE:
            pairs.append(("per_page", str(self.per_page)))
        if page and page > 1:
            pairs.append(("page", str(page)))
        return pairs


def _year(args, key) -> int | None:
    raw = args.get(key)
    if raw is None or raw.strip() == "":  # an empty form field
        return None
    value = raw.strip()
    if not (value.isascii() and value.isdigit() and len(value) == 4 and FIRST_YEAR <= int(value) <= LAST_YEAR):
        raise ParamError(_("Le paramètre %(key)s doit être une année sur 4 chiffres (reçu : « %(value)s »).",
                           key=key, value=raw[:50]))
    return int(value)


def parse_partnership_params(args) -> PartnershipParams:
    """Validate the query-string ``args`` of a partnerships search; ParamError (French) for anything wrong."""
    params = PartnershipParams()
    q = " ".join(v for v in args.getlist("q") if v.strip()).strip()
    if len(q) > MAX_TEXT:
        raise ParamError(_("Le texte du paramètre %(key)s est trop long (%(n)d caractères, %(max)d au plus).",
                           key="q", n=len(q), max=MAX_TEXT))
    params.q = q
    actor = (args.get("actor") or "").strip()
    if actor and not is_published_slug(actor):
        raise UnknownHolder(_("Acteur inconnu pour le paramètre actor : « %(value)s ».", value=actor[:50]))
    params.actor = actor
    params.since, params.until = _year(args, "since"), _year(args, "until")
    for name in PARTNERSHIP_FACETS:
        chosen = []
        for raw in args.getlist(name):
            if raw == "":
                continue
            value = raw.strip()
            if name in ("country", "department"):
                value = value.upper()
                valid = value in (geo.countries() if name == "country" else geo.departments())
            elif name == "decade":
                valid = value.isascii() and value.isdigit() and len(value) == 4 and value.endswith("0")
            else:
                valid = value in (KINDS if name == "kind" else STATUSES)
            if not valid:
                raise ParamError(_("Valeur inconnue pour le filtre %(key)s (%(label)s) : « %(value)s ».",
                                   key=name, label=PARTNERSHIP_FILTER_LABELS[name], value=raw[:50]))
            if value not in chosen:
                chosen.append(value)
        if chosen:
            params.filters[name] = chosen
    params.page = _positive_int(args, "page", 1)
    params.per_page = _positive_int(args, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    return params
