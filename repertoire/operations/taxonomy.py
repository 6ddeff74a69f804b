"""The taxonomies (kinds, domains, activities): defaults, add, rename, move, retire, merge."""
from __future__ import annotations

from collections import defaultdict
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import taxonomy
from ..models import STATUSES, Activity, Actor, Domain, Kind, Membership, User, actor_activity, actor_domain
from ..search import mark_for_index
from ..text import slugify
from ..validation import Vocabulary

from . import OperationError
from .actors import actor_input, update_actor
from .audit import record_action


# -- taxonomy --------------------------------------------------------------

def ensure_default_taxonomy(session) -> int:
    """Insert the contract's default kinds, domains and activities that are missing.

    Existing terms are left alone: coordinators may have renamed them.
    """
    added = 0
    for model, defaults in ((Kind, taxonomy.KINDS), (Domain, taxonomy.DOMAINS),
                            (Activity, taxonomy.ACTIVITIES)):
        existing = set(session.scalars(select(model.slug)))
        for position, (slug, label, label_en) in enumerate(defaults):
            if slug not in existing:
                session.add(model(slug=slug, label=label, label_en=label_en, position=position))
                added += 1
    session.flush()
    return added


TAXONOMIES = {"kind": Kind, "domain": Domain, "activity": Activity}


# -- taxonomy --------------------------------------------------------------

def _actor_ids_with(session, name: str, term) -> list[int]:
    if name == "kind":
        return list(session.scalars(select(Actor.id).where(Actor.kind_id == term.id)))
    table, column = (actor_domain, "domain_id") if name == "domain" else (actor_activity, "activity_id")
    return list(session.scalars(select(table.c.actor_id).where(table.c[column] == term.id)))


def _published_by_slug(name: str) -> dict[str, int] | None:
    """slug -> published actors of each term, as the public search counts them (its facets over every published
    actor, computed once per index snapshot), or None if the index cannot be read."""
    from ..search import Criteria, IndexUnavailable, get_index
    try:
        return get_index().search(Criteria(), 0, 0).facets.get(name)
    except IndexUnavailable:
        return None


def term_counts(session, name: str) -> dict[int, tuple[int, int]]:
    """term id -> (published actors, all actors).

    The published are counted by the search index (the figure the public search shows when the count's link is
    followed; the index follows each commit within a fraction of a second), the others in SQL over the few actors
    not published (the status index): neither walks every actor nor every link of the directory (1,000,000 actors:
    ~370 ms a page that way). Without a readable index, both in SQL as before."""
    model = TAXONOMIES[name]
    terms = dict(session.execute(select(model.id, model.slug)).all())
    published = _published_by_slug(name)
    unpublished = [status for status in STATUSES if status != "published"]
    if published is None:
        return _term_counts_sql(session, name, terms)
    if name == "kind":  # over the index on (status, …) : the actors not published only
        others = session.execute(select(Actor.kind_id, func.count()).where(Actor.status.in_(unpublished))
                                 .group_by(Actor.kind_id))
    else:
        table, column = (actor_domain, "domain_id") if name == "domain" else (actor_activity, "activity_id")
        others = session.execute(select(table.c[column], func.count()).join(Actor, Actor.id == table.c.actor_id)
                                 .where(Actor.status.in_(unpublished)).group_by(table.c[column]))
    others = dict(others.all())
    return {term_id: (published.get(slug, 0), published.get(slug, 0) + others.get(term_id, 0))
            for term_id, slug in terms.items()}


def _term_counts_sql(session, name: str, terms) -> dict[int, tuple[int, int]]:
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    if name == "kind":  # over the index on (kind_id, status)
        for term_id, status, n in session.execute(select(Actor.kind_id, Actor.status, func.count())
                                                  .group_by(Actor.kind_id, Actor.status)):
            counts[term_id][1] += n
            if status == "published":
                counts[term_id][0] += n
    else:
        # all links, counted over the index on (term, actor); the published ones are the rest once the
        # links of the few actors not published are taken away (a join on those actors only)
        table, column = (actor_domain, "domain_id") if name == "domain" else (actor_activity, "activity_id")
        term = table.c[column]
        for term_id, n in session.execute(select(term, func.count()).group_by(term)):
            counts[term_id] = [n, n]
        unpublished = [status for status in STATUSES if status != "published"]
        for term_id, n in session.execute(select(term, func.count()).join(Actor, Actor.id == table.c.actor_id)
                                          .where(Actor.status.in_(unpublished)).group_by(term)):
            counts[term_id][0] -= n
    return {term_id: tuple(counts[term_id]) for term_id in terms}


def add_term(session, name: str, label: str, slug: str = "", label_en: str = "", user: User | None = None):
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
    record_action(session, user, "term.add", term, None, _term_values(name, term), [])
    return term


def _term_values(name: str, term) -> dict:
    return {"taxonomy": name, "slug": term.slug, "label": term.label, "label_en": term.label_en,
            "position": term.position, "retired": term.retired}


def rename_term(session, name: str, term, label: str, label_en: str = "", user: User | None = None):
    """New labels, same slug; the actors using it are reindexed (French labels are searchable)."""
    label = " ".join(label.split())
    if not label:
        raise OperationError(_("Indiquez un libellé."))
    before = _term_values(name, term)
    term.label_en = " ".join((label_en or "").split()) or None
    if label != term.label:
        term.label = label
        mark_for_index(session, _actor_ids_with(session, name, term))
    if _term_values(name, term) != before:
        record_action(session, user, "term.rename", term, before, _term_values(name, term), [])


def move_term(session, name: str, term, offset: int, user: User | None = None):
    """Move a term up (-1) or down (+1) in the lists."""
    model = TAXONOMIES[name]
    terms = list(session.scalars(select(model).order_by(model.position, model.id)))
    index = terms.index(term)
    before = [t.slug for t in terms]
    other = index + offset
    if 0 <= other < len(terms):
        terms[index], terms[other] = terms[other], terms[index]
    for position, item in enumerate(terms):
        item.position = position
    if [t.slug for t in terms] != before:
        record_action(session, user, "term.move", term, {"taxonomy": name, "order": before},
                      {"taxonomy": name, "order": [t.slug for t in terms]}, [])


def set_retired(session, name: str, term, retired: bool, user: User | None = None):
    """A retired term is no longer offered in forms; actors keep it until merged."""
    if term.retired == retired:
        return
    record_action(session, user, "term.retire" if retired else "term.unretire", term,
                  {"taxonomy": name, "retired": term.retired}, {"taxonomy": name, "retired": retired},
                  term_impact(session, name, term)["network_ids"])
    term.retired = retired


def term_impact(session, name: str, term) -> dict:
    """What merging or retiring ``term`` touches: how many actors (all, published), in which networks
    (network actor ids, and (name, members concerned) by count)."""
    ids = _actor_ids_with(session, name, term)
    published = 0
    counts: dict[int, int] = defaultdict(int)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        published += session.scalar(select(func.count()).select_from(Actor)
                                    .where(Actor.id.in_(part), Actor.status == "published"))
        for network_id, n in session.execute(select(Membership.network_id, func.count())
                                             .where(Membership.actor_id.in_(part))
                                             .group_by(Membership.network_id)):
            counts[network_id] += n
    names = dict(session.execute(select(Actor.id, Actor.name).where(Actor.id.in_(list(counts)))).all()) \
        if counts else {}
    networks = sorted(((names.get(i, str(i)), n) for i, n in counts.items()), key=lambda x: (-x[1], x[0]))
    return {"actors": len(ids), "published": published, "networks": networks,
            "network_ids": sorted(counts), "actor_ids": ids}


def merge_terms(session, name: str, source, target, user: User | None = None) -> int:
    """Move every actor from ``source`` to ``target`` and retire ``source``; return how many."""
    if source.id == target.id:
        raise OperationError(_("Choisissez deux valeurs différentes."))
    vocab = Vocabulary(session)
    moved = 0
    impact = term_impact(session, name, source)
    before = {"taxonomy": name, "source": source.slug, "target": target.slug, "source_retired": source.retired,
              "actors": impact["actor_ids"], "had_target": []}
    if name != "kind":
        had = set(_actor_ids_with(session, name, target))
        before["had_target"] = [i for i in impact["actor_ids"] if i in had]
    for actor_id in impact["actor_ids"]:
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
    record_action(session, user, "term.merge", source, before, {"moved": moved, "target": target.slug},
                  impact["network_ids"])
    return moved
