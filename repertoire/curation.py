"""Coordinators' toolbox: taxonomy, duplicates, freshness, figures.

Part of the operations layer: functions change the session and flush; the
request or command commits, and the index follows after the commit.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from itertools import combinations

from flask_babel import gettext as _
from sqlalchemy import func, select

from .actor_fields import LIST_FIELDS, MERGEABLE
from .models import (Activity, Actor, ChangeRequest, Domain, DuplicateDismissal, Kind, User,
                     actor_activity, actor_domain, utcnow)
from .operations import (OperationError, actor_input, check_version, host_of, lock_actors, record_revision,
                         similar_names, update_actor)
from .search import mark_for_index
from .text import fold_words, slugify
from .validation import ActorInput, Vocabulary

TAXONOMIES = {"kind": Kind, "domain": Domain, "activity": Activity}


# -- taxonomy --------------------------------------------------------------

def _actor_ids_with(session, name: str, term) -> list[int]:
    if name == "kind":
        return list(session.scalars(select(Actor.id).where(Actor.kind_id == term.id)))
    table, column = (actor_domain, "domain_id") if name == "domain" else (actor_activity, "activity_id")
    return list(session.scalars(select(table.c.actor_id).where(table.c[column] == term.id)))


def term_counts(session, name: str) -> dict[int, tuple[int, int]]:
    """term id -> (published actors, all actors)."""
    model = TAXONOMIES[name]
    if name == "kind":
        rows = session.execute(select(Actor.kind_id, Actor.status, func.count()).group_by(Actor.kind_id, Actor.status))
    else:
        table, column = (actor_domain, "domain_id") if name == "domain" else (actor_activity, "activity_id")
        rows = session.execute(select(table.c[column], Actor.status, func.count())
                               .join(Actor, Actor.id == table.c.actor_id).group_by(table.c[column], Actor.status))
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for term_id, status, n in rows:
        counts[term_id][1] += n
        if status == "published":
            counts[term_id][0] += n
    return {term.id: tuple(counts[term.id]) for term in session.scalars(select(model))}


def add_term(session, name: str, label: str, slug: str = "", label_en: str = ""):
    model = TAXONOMIES[name]
    label = " ".join(label.split())
    label_en = " ".join((label_en or "").split()) or None
    if not label:
        raise OperationError(_("Indiquez un libellé."))
    slug = slugify(slug or label, max_length=60)
    if session.scalar(select(model.id).where(model.slug == slug)) is not None:
        raise OperationError(_("Le code « %(slug)s » existe déjà.", slug=slug))
    position = (session.scalar(select(func.max(model.position))) or 0) + 1
    term = model(slug=slug, label=label, label_en=label_en, position=position)
    session.add(term)
    session.flush()
    return term


def rename_term(session, name: str, term, label: str, label_en: str = ""):
    """New labels, same slug; the actors using it are reindexed (French labels are searchable)."""
    label = " ".join(label.split())
    if not label:
        raise OperationError(_("Indiquez un libellé."))
    term.label_en = " ".join((label_en or "").split()) or None
    if label != term.label:
        term.label = label
        mark_for_index(session, _actor_ids_with(session, name, term))


def move_term(session, name: str, term, offset: int):
    """Move a term up (-1) or down (+1) in the lists."""
    model = TAXONOMIES[name]
    terms = list(session.scalars(select(model).order_by(model.position, model.id)))
    index = terms.index(term)
    other = index + offset
    if 0 <= other < len(terms):
        terms[index], terms[other] = terms[other], terms[index]
    for position, item in enumerate(terms):
        item.position = position


def set_retired(session, name: str, term, retired: bool):
    """A retired term is no longer offered in forms; actors keep it until merged."""
    term.retired = retired


def merge_terms(session, name: str, source, target, user: User | None = None) -> int:
    """Move every actor from ``source`` to ``target`` and retire ``source``; return how many."""
    if source.id == target.id:
        raise OperationError(_("Choisissez deux valeurs différentes."))
    vocab = Vocabulary(session)
    moved = 0
    for actor_id in _actor_ids_with(session, name, source):
        actor = session.get(Actor, actor_id)
        data = actor_input(actor)
        if name == "kind":
            data.kind = target.slug
        else:
            field = "domains" if name == "domain" else "activities"
            values = [target.slug if v == source.slug else v for v in getattr(data, field)]
            order = list(vocab.terms[name])
            setattr(data, field, sorted(dict.fromkeys(values), key=order.index))
        moved += update_actor(session, actor, data, vocab, user, action="merge-term")
    source.retired = True
    session.flush()
    return moved


# -- duplicates ------------------------------------------------------------

_FILLER = {"association", "asso", "de", "du", "des", "la", "le", "les", "l", "d", "et", "en", "a", "au", "aux",
           "pour", "comite", "jumelage", "ville", "commune", "sur"}


def name_key(name: str) -> str:
    """The words that tell two names apart: accents, case and filler words removed."""
    return " ".join(w for w in fold_words(name).split() if w not in _FILLER)


def dismissed_pairs(session) -> set[tuple[int, int]]:
    return {tuple(row) for row in session.execute(select(DuplicateDismissal.actor_a_id, DuplicateDismissal.actor_b_id))}


def duplicate_pairs(session, statuses=("published", "pending")) -> list[tuple[Actor, Actor, list[str]]]:
    """Likely duplicate pairs, strongest first, leaving out those already dismissed."""
    actors = list(session.scalars(select(Actor).where(Actor.status.in_(statuses), Actor.merged_into_id.is_(None))))
    blocks: dict[tuple, list[Actor]] = defaultdict(list)
    for actor in actors:
        key = name_key(actor.name)
        if key:
            blocks[("name", actor.department, key.split()[0])].append(actor)
        if actor.email:
            blocks[("email", actor.email.lower())].append(actor)
        if actor.website:
            blocks[("web", host_of(actor.website))].append(actor)
    dismissed = dismissed_pairs(session)
    found: dict[tuple[int, int], tuple[Actor, Actor, list[str]]] = {}
    for members in blocks.values():
        if len(members) > 200:  # a shared webmail or portal address says nothing
            continue
        for a, b in combinations(sorted(members, key=lambda x: x.id), 2):
            pair = (a.id, b.id)
            if pair in found or pair in dismissed:
                continue
            reasons = []
            if a.department == b.department and similar_names(name_key(a.name) or a.name, name_key(b.name) or b.name):
                reasons.append(_("noms proches"))
            if a.email and a.email.lower() == b.email.lower():
                reasons.append(_("même adresse électronique"))
            if a.website and b.website and host_of(a.website) == host_of(b.website):
                reasons.append(_("même site web"))
            if reasons and fold_words(a.town) == fold_words(b.town):
                reasons.append(_("même commune"))
            if reasons and (len(reasons) > 1 or reasons[0] != _("même commune")):
                found[pair] = (a, b, reasons)
    return sorted(found.values(), key=lambda t: (-len(t[2]), t[0].name_sort))


def dismiss_pair(session, a: Actor, b: Actor, user: User | None):
    low, high = sorted((a.id, b.id))
    if (low, high) not in dismissed_pairs(session):
        session.add(DuplicateDismissal(actor_a_id=low, actor_b_id=high, user_id=user.id if user else None))




def merge_actors(session, keep: Actor, drop: Actor, choices: dict[str, str], user: User | None,
                 versions: tuple[int | None, int | None] | None = None) -> Actor:
    """Merge ``drop`` into ``keep``: for each field take "keep", "drop" or (lists) "both".

    ``drop`` is archived and remembers where it went, so its URL redirects and its
    history stays readable. Both actors are locked first, so an edit of either
    happens wholly before the merge (which then takes its values) or after it
    (and is sent to ``keep``). With ``versions`` (of keep, of drop, when the
    choices were shown), a change since then raises ``EditConflict``; a version
    left out (None) is not checked: a merge writes choices, not values, so it
    takes whatever is current.
    """
    if keep.id == drop.id:
        raise OperationError(_("Choisissez deux fiches différentes."))
    lock_actors(session, keep, drop)
    if drop.merged_into_id or keep.merged_into_id:
        raise OperationError(_("Cette fiche a déjà été fusionnée."))
    for actor, version in zip((keep, drop), versions or ()):
        if version is not None:
            check_version(session, actor, version)
    vocab = Vocabulary(session)
    mine, theirs = actor_input(keep).as_dict(), actor_input(drop).as_dict()
    values = {}
    for field in MERGEABLE:
        choice = choices.get(field, "keep")
        if choice == "both" and field in LIST_FIELDS:
            values[field] = list(dict.fromkeys(mine[field] + theirs[field]))
        else:
            values[field] = theirs[field] if choice == "drop" else mine[field]
    for field, name in (("domains", "domain"), ("activities", "activity")):
        order = list(vocab.terms[name])
        values[field] = sorted(values[field], key=order.index)
    update_actor(session, keep, ActorInput(**values), vocab, user, action="merge")
    if keep.owner_id is None and drop.owner_id is not None:
        keep.owner_id = drop.owner_id
    if drop.status == "published" and keep.status != "published":
        keep.status = "published"
    drop.merged_into_id = keep.id
    drop.status = "archived"
    drop.updated_at = utcnow()
    record_revision(session, drop, user, "merged-away")
    for request in session.scalars(select(ChangeRequest).where(ChangeRequest.actor_id == drop.id,
                                                               ChangeRequest.status == "open")):
        request.status = "withdrawn"
        request.reason = _("Fiche fusionnée avec « %(name)s ».", name=keep.name)
    session.flush()
    return keep


def merged_into(session, actor: Actor | None) -> Actor | None:
    """For an actor merged away, the published actor that stands for it now; else None."""
    if actor is None or not actor.merged_into_id:
        return None
    final = final_actor(session, actor)
    return final if final.is_published else None


def final_actor(session, actor: Actor) -> Actor:
    """Follow merges to the actor that now stands for ``actor``."""
    seen = set()
    while actor.merged_into_id and actor.id not in seen:
        seen.add(actor.id)
        actor = session.get(Actor, actor.merged_into_id)
    return actor


# -- freshness -------------------------------------------------------------

STALE_AFTER = timedelta(days=365)
REMIND_EVERY = timedelta(days=30)


def stale_actors(session, now=None):
    """Published actors not confirmed for twelve months, the oldest first."""
    limit = (now or utcnow()) - STALE_AFTER
    return session.scalars(select(Actor).where(Actor.status == "published",
                                               (Actor.confirmed_at < limit) | Actor.confirmed_at.is_(None))
                           .order_by(Actor.confirmed_at.is_not(None), Actor.confirmed_at, Actor.name_sort))


def confirm_still_accurate(session, actor: Actor, user: User | None = None):
    actor.confirmed_at = utcnow()
    record_revision(session, actor, user, "confirm")


def reminders_due(session, now=None) -> tuple[list[Actor], int]:
    """Stale actors whose owner should get a reminder now, and how many stale ones have no owner."""
    now = now or utcnow()
    due, orphans = [], 0
    for actor in stale_actors(session, now):
        if actor.owner is None or not actor.owner.active:
            orphans += 1
        elif actor.reminded_at is None or actor.reminded_at < now - REMIND_EVERY:
            due.append(actor)
    return due, orphans


# -- figures ---------------------------------------------------------------

def submissions_per_month(session, months: int = 12) -> list[tuple[str, int]]:
    """("2026-11", n) for the last ``months`` months, oldest first, zeros included."""
    now = utcnow()
    keys = []
    year, month = now.year, now.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    keys.reverse()
    counts = dict.fromkeys(keys, 0)
    for (created,) in session.execute(select(ChangeRequest.created_at).where(ChangeRequest.kind == "new")):
        key = f"{created.year:04d}-{created.month:02d}"
        if key in counts:
            counts[key] += 1
    return list(counts.items())
