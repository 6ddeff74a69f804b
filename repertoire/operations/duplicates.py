"""The one duplicate detector (at entry and on the duplicates page), dismissals and merges."""
from __future__ import annotations

from collections import defaultdict
from difflib import SequenceMatcher
from flask_babel import gettext as _, lazy_gettext as _l
from itertools import combinations
from sqlalchemy import func, or_, select

from ..actor_fields import LIST_FIELDS, MERGEABLE
from ..models import Actor, ChangeRequest, DuplicateDismissal, User, utcnow
from ..text import fold_words
from ..validation import ActorInput, Vocabulary

from . import OperationError
from .actors import actor_input, check_version, lock_actors, record_revision, set_status, update_actor


# -- the detector -----------------------------------------------------------
# One rule, ``reasons``, decides whether two actors look alike. Which actors are compared with which is the
# blocking (``block_keys``, ``candidates``): a later search-index-backed blocking changes only those two.

_FILLER = {"association", "asso", "de", "du", "des", "la", "le", "les", "l", "d", "et", "en", "a", "au", "aux",
           "pour", "comite", "jumelage", "ville", "commune", "sur"}
REASONS = {"name": _l("nom identique ou proche dans le même département"), "email": _l("même adresse électronique"),
           "website": _l("même site web"), "town": _l("même commune")}
MAX_BLOCK = 200  # a block this large (a shared webmail or portal address) says nothing


def similar_names(a: str, b: str) -> bool:
    a, b = fold_words(a), fold_words(b)
    return a == b or SequenceMatcher(None, a, b).ratio() >= 0.85


def host_of(url: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0].lower()
    return host[4:] if host.startswith("www.") else host


def name_key(name: str) -> str:
    """The words that tell two names apart: accents, case and filler words removed."""
    return " ".join(w for w in fold_words(name).split() if w not in _FILLER)


def reasons(a, b) -> list[str]:
    """Why ``a`` and ``b`` (actors or entries: name, department, email, website, town) look like one actor.

    Empty when they do not: the same town alone is not a reason, only a further sign.
    """
    found = []
    if a.department == b.department and (similar_names(a.name, b.name)
                                         or similar_names(name_key(a.name) or a.name, name_key(b.name) or b.name)):
        found.append("name")
    if a.email and b.email and a.email.lower() == b.email.lower():
        found.append("email")
    if a.website and b.website and host_of(a.website) == host_of(b.website):
        found.append("website")
    if found and fold_words(a.town or "") == fold_words(b.town or ""):
        found.append("town")
    return [str(REASONS[r]) for r in found]


def block_keys(record) -> set[tuple]:
    """The blocks ``record`` falls in: two actors are compared only if they share one."""
    key = name_key(record.name) or fold_words(record.name)
    keys = {("name", record.department, key.split()[0])} if key else set()
    if record.email:
        keys.add(("email", record.email.lower()))
    if record.website:
        keys.add(("web", host_of(record.website)))
    return keys


def candidates(session, record, statuses, exclude_id: int | None = None):
    """The actors sharing a block with ``record``: a query wide enough, then ``block_keys`` exactly."""
    conditions = [Actor.department == record.department]
    if record.email:
        conditions.append(func.lower(Actor.email) == record.email.lower())
    if record.website:
        conditions.append(Actor.website.contains(host_of(record.website)))
    query = select(Actor).where(Actor.status.in_(statuses), Actor.merged_into_id.is_(None), or_(*conditions))
    if exclude_id is not None:
        query = query.where(Actor.id != exclude_id)
    keys = block_keys(record)
    return [actor for actor in session.scalars(query.order_by(Actor.id)) if keys & block_keys(actor)]


def find_duplicates(session, data: ActorInput, exclude_id: int | None = None) -> list[tuple[Actor, list[str]]]:
    """Published actors that are likely the same as ``data`` (an entry being made), with the reasons why."""
    found = []
    for actor in candidates(session, data, ("published",), exclude_id):
        why = reasons(data, actor)
        if why:
            found.append((actor, why))
    return found


def dismissed_pairs(session) -> set[tuple[int, int]]:
    return {tuple(row) for row in session.execute(select(DuplicateDismissal.actor_a_id, DuplicateDismissal.actor_b_id))}


def duplicate_pairs(session, statuses=("published", "pending")) -> list[tuple[Actor, Actor, list[str]]]:
    """Likely duplicate pairs among the directory, strongest first, leaving out those already dismissed."""
    actors = list(session.scalars(select(Actor).where(Actor.status.in_(statuses), Actor.merged_into_id.is_(None))))
    blocks: dict[tuple, list[Actor]] = defaultdict(list)
    for actor in actors:
        for key in block_keys(actor):
            blocks[key].append(actor)
    dismissed = dismissed_pairs(session)
    found: dict[tuple[int, int], tuple[Actor, Actor, list[str]]] = {}
    for key, members in blocks.items():
        if len(members) > MAX_BLOCK:  # a page-wide guard; one entry is compared with its whole blocks
            continue
        for a, b in combinations(sorted(members, key=lambda x: x.id), 2):
            pair = (a.id, b.id)
            if pair in found or pair in dismissed:
                continue
            why = reasons(a, b)
            if why:
                found[pair] = (a, b, why)
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
    if drop.status == "published":
        set_status(session, keep, "published", user, "publish")
    drop.merged_into_id = keep.id
    if not set_status(session, drop, "archived", user, "merged-away"):
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
