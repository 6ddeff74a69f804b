"""Business operations shared by the HTML views, the API and the command line.

Operations change the session and flush; the caller (a request or a command)
commits once. The index follows after the commit (``search.sync``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from . import taxonomy
from .models import (ROLES, Activity, Actor, ActorCountry, ActorTown, Domain, Kind, User,
                     utcnow)
from .text import fold_words, slugify, sort_key
from .validation import ActorInput, Vocabulary


class OperationError(ValueError):
    """A rule was broken; the message is meant for the person who asked."""


# -- taxonomy --------------------------------------------------------------

def ensure_default_taxonomy(session) -> int:
    """Insert the contract's default kinds, domains and activities that are missing.

    Existing terms are left alone: coordinators may have renamed them.
    """
    added = 0
    for model, defaults in ((Kind, taxonomy.KINDS), (Domain, taxonomy.DOMAINS),
                            (Activity, taxonomy.ACTIVITIES)):
        existing = set(session.scalars(select(model.slug)))
        for position, (slug, label) in enumerate(defaults):
            if slug not in existing:
                session.add(model(slug=slug, label=label, position=position))
                added += 1
    session.flush()
    return added


# -- actors ----------------------------------------------------------------

def actor_key(name: str, town: str, department: str) -> tuple[str, str, str]:
    """What makes two entries the same actor: name, town and département, folded."""
    return fold_words(name), fold_words(town), department


def actor_input(actor: Actor) -> ActorInput:
    """The editable values of an actor, for comparison and forms."""
    return ActorInput(
        name=actor.name, acronym=actor.acronym or "", kind=actor.kind.slug, town=actor.town,
        postcode=actor.postcode or "", department=actor.department,
        countries=actor.countries, intervention_towns=actor.intervention_towns,
        domains=[d.slug for d in actor.domains], activities=[a.slug for a in actor.activities],
        description=actor.description or "", website=actor.website or "",
        email=actor.email or "", phone=actor.phone or "")


class SlugAllocator:
    """Hands out unique slugs; preloads the taken ones so bulk imports stay fast."""

    def __init__(self, session):
        self.taken = set(session.scalars(select(Actor.slug)))

    def allocate(self, name: str, town: str) -> str:
        base = slugify(name)
        candidates = [base, slugify(f"{name} {town}")]
        for candidate in candidates:
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate
        n = 2
        while f"{candidates[-1]}-{n}" in self.taken:
            n += 1
        slug = f"{candidates[-1]}-{n}"
        self.taken.add(slug)
        return slug


def _apply(actor: Actor, data: ActorInput, vocab: Vocabulary):
    actor.name = data.name
    actor.name_sort = sort_key(data.name)
    actor.acronym = data.acronym
    actor.kind = vocab.terms["kind"][data.kind]
    actor.town = data.town
    actor.postcode = data.postcode
    actor.department = data.department
    actor.description = data.description
    actor.website = data.website
    actor.email = data.email
    actor.phone = data.phone
    if actor.countries != data.countries:
        actor.country_links = [ActorCountry(code=c, position=i) for i, c in enumerate(data.countries)]
    if actor.intervention_towns != data.intervention_towns:
        actor.town_links = [ActorTown(name=t, position=i) for i, t in enumerate(data.intervention_towns)]
    actor.domains = [vocab.terms["domain"][s] for s in data.domains]
    actor.activities = [vocab.terms["activity"][s] for s in data.activities]


def create_actor(session, data: ActorInput, vocab: Vocabulary, *, status: str = "pending",
                 slugs: SlugAllocator | None = None) -> Actor:
    slugs = slugs or SlugAllocator(session)
    now = utcnow()
    actor = Actor(slug=slugs.allocate(data.name, data.town), status=status,
                  created_at=now, updated_at=now)
    _apply(actor, data, vocab)
    session.add(actor)
    return actor


def update_actor(session, actor: Actor, data: ActorInput, vocab: Vocabulary) -> bool:
    """Replace the actor's values by ``data``; return whether anything changed."""
    if actor_input(actor) == data:
        return False
    _apply(actor, data, vocab)
    actor.updated_at = utcnow()
    return True


def publish_actor(session, actor: Actor):
    if actor.status != "published":
        actor.status = "published"
        actor.updated_at = utcnow()


def archive_actor(session, actor: Actor):
    actor.status = "archived"
    actor.updated_at = utcnow()


# -- import ----------------------------------------------------------------

@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    actor_ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def import_actors(session, rows: list[ActorInput], vocab: Vocabulary, progress=None,
                  batch_size: int = 500) -> ImportSummary:
    """Create or update (matched on name, town and département) and publish each row."""
    summary = ImportSummary()
    existing = {actor_key(name, town, dept): actor_id for actor_id, name, town, dept in
                session.execute(select(Actor.id, Actor.name, Actor.town, Actor.department))}
    slugs = SlugAllocator(session)
    for i, data in enumerate(rows, 1):
        actor_id = existing.get(actor_key(data.name, data.town, data.department))
        if actor_id is None:
            actor = create_actor(session, data, vocab, status="published", slugs=slugs)
            summary.created += 1
        else:
            actor = session.get(Actor, actor_id)
            changed = update_actor(session, actor, data, vocab)
            if actor.status != "published":
                publish_actor(session, actor)
                changed = True
            summary.updated += changed
            summary.unchanged += not changed
        if i % batch_size == 0:
            session.flush()
        if progress:
            progress(1)
    session.flush()
    return summary


def duplicate_keys(rows: list[tuple[int, ActorInput]]) -> dict[int, int]:
    """Line -> earlier line, for rows naming the same actor twice in one file."""
    seen, dupes = {}, {}
    for line, data in rows:
        key = actor_key(data.name, data.town, data.department)
        if key in seen:
            dupes[line] = seen[key]
        else:
            seen[key] = line
    return dupes


# -- accounts --------------------------------------------------------------

def create_user(session, email: str, password: str, role: str = "member") -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise OperationError(f"rôle inconnu « {role} » (member, coordinator ou admin)")
    if len(password) < 10:
        raise OperationError("le mot de passe doit compter au moins 10 caractères")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise OperationError(f"un compte existe déjà pour {email}")
    user = User(email=email, password_hash=generate_password_hash(password), role=role,
                confirmed_at=utcnow())
    session.add(user)
    session.flush()
    return user
