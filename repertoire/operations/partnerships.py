"""Partnerships and memberships of an actor: written with its entry (``actors._apply``), repointed by merges."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import lazyload

from ..database import rows_in
from ..models import Actor, Membership, Partnership, PartnershipPartner
from ..partnership_fields import year_of
from ..search import mark_for_index
from ..text import fold_words

from . import OperationError


class LinkProblem(OperationError):
    """A network or partner of an entry is not (or no longer) a published actor, or is the holder itself.

    Raised by ``apply_links`` when a linked actor was withdrawn, archived or merged after the form's check;
    ``problems`` are ``(field, message)`` pairs (``link_problems``). Entry views show the form again with the
    message beside the field (``ActorForm.link_errors``); the transaction is rolled back, nothing is half-saved.
    """

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(problems[0][1])
        self.problems = problems


def linked_slugs(data) -> set[str]:
    """The slugs of the actors an entry links to: its networks and its partners in the directory."""
    slugs = {n["network"] for n in data.networks}
    slugs.update(p["actor"] for item in data.partnerships for p in item["partners"] if p["actor"])
    return slugs


def find_linked(session, slugs) -> dict[str, Actor]:
    """The published actors named by these slugs: those an entry may link to."""
    if not slugs:
        return {}
    found = {}
    slugs = sorted(slugs)
    for start in range(0, len(slugs), 500):
        # the status is checked here, not in SQL: given both, SQLite may walk the status index (every published
        # actor, 80 ms at 100,000) rather than look each slug up in its own; the status read afresh, not the one
        # an actor already in the session had when it was loaded (withdrawn since: not linkable)
        for actor in session.scalars(select(Actor).where(Actor.slug.in_(slugs[start:start + 500]))
                                     .execution_options(populate_existing=True)):
            if actor.status == "published":
                found[actor.slug] = actor
    return found


def published_slugs(session, slugs) -> set[str]:
    """Those of these slugs that published actors bear: what checking links needs, without loading the actors."""
    session.flush()  # as a query through the session would: an actor written in this transaction counts
    return {slug for slug, status in rows_in(session.connection(), "SELECT slug, status FROM actor WHERE slug",
                                             sorted(slugs))
            if status == "published"}  # the status checked here: see find_linked


def network_problem(slug: str, holder_slug: str | None, known: dict[str, Actor]) -> str | None:
    """Why this network cannot be one of the holder's, in French; None if it can."""
    if slug == holder_slug:
        return _("une fiche ne peut pas être membre d'elle-même")
    if slug not in known:
        return _("réseau inconnu « %(slug)s » : aucune fiche publiée ne porte cet identifiant", slug=slug)
    return None


def partner_problem(slug: str, holder_slug: str | None, known: dict[str, Actor]) -> str | None:
    """Why the actor ``slug`` cannot be a partner of the holder, in French; None if it can."""
    if slug == holder_slug:
        return _("le partenaire ne peut pas être la fiche elle-même")
    if slug not in known:
        return _("aucune fiche « %(slug)s » dans l'annuaire", slug=slug)
    return None


def link_problems(session, data, holder_slug: str | None = None,
                  known: dict[str, Actor] | None = None) -> list[tuple[str, str]]:
    """``(field, message)`` for each network or partner that is unknown, or is the holder itself."""
    known = find_linked(session, linked_slugs(data)) if known is None else known
    problems = []
    for n in data.networks:
        message = network_problem(n["network"], holder_slug, known)
        if message:
            problems.append(("networks", message))
    for i, item in enumerate(data.partnerships, 1):
        for partner in item["partners"]:
            message = partner["actor"] and partner_problem(partner["actor"], holder_slug, known)
            if message:
                problems.append(("partnerships", _("partenariat %(n)d : %(message)s", n=i, message=message)))
    return problems


def apply_links(session, actor: Actor, data, known: dict[str, Actor] | None = None):
    """Write the entry's partnerships and memberships on ``actor``; raise if a link is wrong.

    Unchanged partnerships keep their rows (and so their ids).
    """
    if actor.partnership_values == data.partnerships and actor.network_values == data.networks:
        return
    known = find_linked(session, linked_slugs(data)) if known is None else known
    problems = link_problems(session, data, actor.slug, known)
    if problems:
        raise LinkProblem(problems)
    if actor.network_values != data.networks:
        current = {m.network_id: m for m in actor.memberships}
        memberships = []
        for position, item in enumerate(data.networks):
            network = known[item["network"]]
            membership = current.pop(network.id, None) or Membership(network=network)
            membership.since, membership.position = item["since"], position
            memberships.append(membership)
        actor.memberships = memberships
    if actor.partnership_values != data.partnerships:
        unused = list(actor.partnerships)
        rows: list[tuple[Partnership | None, dict]] = []
        for value in data.partnerships:
            same = next((p for p in unused if p.as_value() == value), None)
            if same is not None:
                unused.remove(same)
            rows.append((same, value))
        partnerships = []
        for position, (row, value) in enumerate(rows):
            if row is None:
                row = unused.pop(0) if unused else Partnership()
                _fill(row, value, known)
            row.position = position
            partnerships.append(row)
        actor.partnerships = partnerships


def _fill(row: Partnership, value: dict, known: dict[str, Actor]):
    row.kind, row.status, row.start, row.end = value["kind"], value["status"], value["start"], value["end"]
    row.start_year = year_of(value["start"])
    row.domains = list(value["domains"])
    row.description, row.source = value["description"], value["source"]
    row.partners = [PartnershipPartner(position=i, name=p["name"], country=p["country"], locality=p["locality"],
                                       actor=known[p["actor"]] if p["actor"] else None)
                    for i, p in enumerate(value["partners"])]


# The country of a seat: France, or for an overseas département the ISO code a partner may be given with.
OVERSEAS = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT"}
SEAT_COUNTRIES = {"FR", *OVERSEAS.values()}
NAMES_A_QUERY = 5000
_RANGES_QUERY = ("WITH wanted(low, high) AS (VALUES {ranges}) "
                 "SELECT actor.slug, actor.name, actor.town, actor.department FROM actor "
                 "JOIN wanted ON actor.name_sort >= wanted.low AND actor.name_sort < wanted.high "
                 "WHERE actor.status = 'published'")


def partner_key(partner: dict) -> tuple[str, str, str]:
    """What names a partner in the directory: its name and locality folded (accents, case and punctuation
    ignored, as the duplicate detector and the search do) and its country."""
    return fold_words(partner["name"]), partner["country"], fold_words(partner["locality"] or "")


def directory_partners(session, partners) -> dict[tuple[str, str, str], list[str]]:
    """For each partner (a dict with name, country, locality) that could be in the directory, the slugs of the
    published actors it names, by ``partner_key``: the same name, a seat in that country (France, or its
    overseas département) and, when the partner has a locality, in that town. Exactly one slug: the partner is
    that actor; none or several: it is not linked.

    In bulk: one query per 5,000 distinct names (a file of 30,000 rows reads a few), each name a range of the
    index of ``name_sort``, whose start is the folded name.
    """
    wanted = {partner_key(p) for p in partners if p["country"] in SEAT_COUNTRIES}
    wanted = {key for key in wanted if key[0]}
    names = sorted({name for name, _country, _locality in wanted})
    by_name: dict[str, list[tuple[str, set[str], str]]] = {}
    for start in range(0, len(names), NAMES_A_QUERY):
        # name_sort is « folded name \x01 spelling »: each name is a range of its index, the ranges a VALUES list
        # joined to it (written out: SQLAlchemy takes seconds to compile thousands of values; a CTE, as SQLite
        # names no columns of a VALUES subquery)
        chunk = names[start:start + NAMES_A_QUERY]
        query = text(_RANGES_QUERY.format(ranges=", ".join(f"(:low{i}, :high{i})" for i in range(len(chunk)))))
        bounds = {}
        for i, name in enumerate(chunk):
            bounds[f"low{i}"], bounds[f"high{i}"] = f"{name}\x01", f"{name}\x02"
        for slug, name, town, department in session.execute(query, bounds):
            countries = {"FR", OVERSEAS[department]} if department in OVERSEAS else {"FR"}
            by_name.setdefault(fold_words(name), []).append((slug, countries, fold_words(town or "")))
    found = {}
    for key in wanted:
        name, country, locality = key
        found[key] = sorted(slug for slug, countries, town in by_name.get(name, ())
                            if country in countries and (not locality or locality == town))
    return found


def repoint_links(session, drop: Actor, keep: Actor):
    """After ``drop`` is merged into ``keep``: its members and the partnerships naming it follow ``keep``."""
    members_of_keep = set(session.scalars(select(Membership.actor_id).where(Membership.network_id == keep.id)))
    moving = session.scalars(select(Membership).where(Membership.network_id == drop.id)).all()
    for membership in moving:
        if membership.actor_id in members_of_keep or membership.actor_id == keep.id:
            session.delete(membership)  # already a member of keep, or keep itself
        else:
            membership.network_id = keep.id
    holders = set(session.scalars(select(Partnership.actor_id).join(PartnershipPartner).where(
        PartnershipPartner.actor_id == drop.id)))
    session.execute(update(PartnershipPartner).where(PartnershipPartner.actor_id == drop.id)
                    .values(actor_id=keep.id).execution_options(synchronize_session=False))
    session.execute(update(PartnershipPartner).where(
        PartnershipPartner.actor_id == keep.id,
        PartnershipPartner.partnership_id.in_(select(Partnership.id).where(Partnership.actor_id == keep.id)))
        .values(actor_id=None).execution_options(synchronize_session=False))  # keep is not its own partner
    mark_for_index(session, holders | {m.actor_id for m in moving})


def published_by_key():
    """``actor.status = 'published'`` that no index serves (``status || ''``): a query that reaches a few
    actors through another table (a network's members, a partner's holders) then reads each by its key, where
    SQLite would otherwise walk the status index — every published actor, 20 ms at 100,000, 10× that at
    1,000,000 — and probe the other table for each."""
    return (Actor.status + "") == "published"


MEMBERS_BY_NAME = 5_000  # members: more, and the first by name are read along the name index instead


def network_members(session, network: Actor, limit: int) -> tuple[int, list[tuple[Actor, int | None]]]:
    """How many published actors are members of ``network`` (one COUNT), and the first ``limit`` by name.

    Both read the network's memberships (its index) then each member by key; a network of many members has
    its first ones by name read along the published actors' name index, which soon finds ``limit`` of them.
    """
    count = session.scalar(select(func.count()).select_from(Membership)
                           .join(Actor, Membership.actor_id == Actor.id)
                           .where(Membership.network_id == network.id, published_by_key()))
    if not count:
        return 0, []
    status = published_by_key() if count <= MEMBERS_BY_NAME else Actor.status == "published"
    rows = session.execute(select(Actor, Membership.since).join(Membership, Membership.actor_id == Actor.id)
                           .where(Membership.network_id == network.id, status)
                           .order_by(Actor.name_sort, Actor.id).limit(limit)
                           .options(lazyload("*"))).all()
    return count, rows


def partner_of(session, actor: Actor, limit: int) -> tuple[int, list[tuple[Partnership, Actor]]]:
    """The partnerships of other published actors that name ``actor`` as a partner: how many, the first ones."""
    naming = (select(PartnershipPartner.partnership_id).where(PartnershipPartner.actor_id == actor.id))
    where = (Partnership.id.in_(naming), published_by_key(), Actor.id != actor.id)
    count = session.scalar(select(func.count()).select_from(Partnership)
                           .join(Actor, Partnership.actor_id == Actor.id).where(*where))
    rows = session.execute(select(Partnership, Actor).join(Actor, Partnership.actor_id == Actor.id).where(*where)
                           .order_by(Partnership.start_year.is_(None), Partnership.start_year, Actor.name_sort)
                           .limit(limit).options(lazyload(Actor.kind))).all() if count else []
    return count, rows
