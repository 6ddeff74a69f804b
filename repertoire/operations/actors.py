"""Actors: create, update, versions, the one way to change a status, revisions."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..actor_fields import BY_NAME, COLUMN_FIELDS, values_of
from ..models import Actor, ActorCountry, ActorTown, Revision, User, utcnow
from ..text import slugify, sort_key
from ..validation import ActorInput, Vocabulary, validate_actor

from . import OperationError
from .audit import record_action
from .partnerships import apply_links


# -- actors ----------------------------------------------------------------

def actor_input(actor: Actor) -> ActorInput:
    """The editable values of an actor, for comparison and forms."""
    return ActorInput(**values_of(actor))


class SlugAllocator:
    """Hands out unique slugs; preloads the taken ones so bulk imports stay fast."""

    def __init__(self, session=None, taken=(), only=None):
        """The slugs taken in ``session``'s database, or ``taken`` (to foresee a fresh directory's slugs).

        With ``only`` (the ``(name, town, slug)`` of the entries to be given one), only the slugs they may take
        are read: a file of a thousand rows need not read a directory's hundred thousand slugs.
        """
        self.session = None
        if session is not None and only is not None:
            self.session, self.read_prefixes = session, set()
            wanted = set()
            for name, town, slug in only:
                wanted.add(slug or slugify(name))
                wanted.add(slugify(f"{name} {town}"))
            wanted = sorted(wanted)
            self.taken = set()
            for start in range(0, len(wanted), 500):
                self.taken.update(session.scalars(select(Actor.slug).where(Actor.slug.in_(wanted[start:start + 500]))))
        else:
            self.taken = set(session.scalars(select(Actor.slug))) if session is not None else set(taken)

    def allocate(self, name: str, town: str, slug: str | None = None) -> str:
        """A free slug: ``slug`` (by default the name's), else with the town, else numbered."""
        slug = slug or slugify(name)
        if slug in self.taken:
            with_town = slug = slugify(f"{name} {town}")
            if slug in self.taken and self.session is not None and with_town not in self.read_prefixes:
                # numbered ones are needed (rare): those of this name and town, read now
                self.read_prefixes.add(with_town)
                self.taken.update(self.session.scalars(select(Actor.slug).where(
                    Actor.slug.startswith(f"{with_town}-", autoescape=True))))
            n = 2
            while slug in self.taken:
                slug = f"{with_town}-{n}"
                n += 1
        self.taken.add(slug)
        return slug


def _apply(session, actor: Actor, data: ActorInput, vocab: Vocabulary):
    actor.confirmed_at = utcnow()  # someone has just checked these values
    for f in COLUMN_FIELDS:
        setattr(actor, f.name, getattr(data, f.name))
    actor.name_sort = sort_key(data.name)
    actor.kind = vocab.terms["kind"][data.kind]
    if actor.countries != data.countries:
        actor.country_links = [ActorCountry(code=c, position=i) for i, c in enumerate(data.countries)]
    if actor.intervention_towns != data.intervention_towns:
        actor.town_links = [ActorTown(name=t, position=i) for i, t in enumerate(data.intervention_towns)]
    actor.domains = [vocab.terms["domain"][s] for s in data.domains]
    actor.activities = [vocab.terms["activity"][s] for s in data.activities]
    apply_links(session, actor, data)


def actor_snapshot(actor: Actor) -> dict:
    """Everything a revision keeps of an actor."""
    return {**actor_input(actor).as_dict(), "status": actor.status, "owner_id": actor.owner_id}


def record_revision(session, actor: Actor, user: User | None, action: str):
    session.add(Revision(actor=actor, user=user, action=action, data=actor_snapshot(actor),
                         created_at=utcnow()))


def create_actor(session, data: ActorInput, vocab: Vocabulary, *, status: str = "pending",
                 slugs: SlugAllocator | None = None, user: User | None = None,
                 action: str = "create") -> Actor:
    slugs = slugs or SlugAllocator(session)
    now = utcnow()
    actor = Actor(slug=slugs.allocate(data.name, data.town), status=status,
                  created_at=now, updated_at=now)
    _apply(session, actor, data, vocab)
    session.add(actor)
    record_revision(session, actor, user, action)
    return actor


def update_actor(session, actor: Actor, data: ActorInput, vocab: Vocabulary,
                 user: User | None = None, action: str = "update") -> bool:
    """Replace the actor's values by ``data``; return whether anything changed."""
    if actor_input(actor) == data:
        return False
    _apply(session, actor, data, vocab)
    actor.updated_at = utcnow()
    record_revision(session, actor, user, action)
    return True


# -- versions: no silent lost update ----------------------------------------

class EditConflict(OperationError):
    """The actor changed after the form was opened; ``changes`` says how: (field, then, now)."""

    def __init__(self, changes: list[tuple[str, object, object]], version: int):
        super().__init__(_("Cette fiche a été modifiée depuis l'ouverture du formulaire : rien n'a été "
                           "enregistré."))
        self.changes, self.version = changes, version


class ActorMerged(OperationError):
    """The actor was merged into ``kept``: that is the one to edit now."""

    def __init__(self, kept: Actor):
        super().__init__(_("Cette fiche a été fusionnée dans « %(name)s » : c'est désormais celle-ci qu'il faut "
                           "modifier ; rien n'a été enregistré.", name=kept.name))
        self.kept = kept


def actor_version(session, actor: Actor) -> int:
    """The version of an actor: its latest revision (every change of an actor records one)."""
    return session.scalar(select(func.max(Revision.id)).where(Revision.actor_id == actor.id)) or 0


def lock_actors(session, *actors: Actor):
    """Hold these actors' rows until the transaction ends (on SQLite, the database), then read them again.

    A write takes the lock, so that an edit and a merge of the same actor wait for
    each other instead of both reading the old values; ids in order, against deadlocks.
    """
    for actor_id in sorted({a.id for a in actors}):  # one at a time: one UPDATE may lock rows in any order
        session.execute(update(Actor).where(Actor.id == actor_id).values(status=Actor.status)
                        .execution_options(synchronize_session=False))
    for actor in actors:
        session.refresh(actor)


def check_version(session, actor: Actor, version: int | None):
    """Raise ``EditConflict`` if the actor's values changed since ``version`` (call under ``lock_actors``).

    A change that touched none of the form's fields (a status, a confirmation) is no conflict.
    An unknown version (forged, another actor's) is one, without details.
    """
    current = actor_version(session, actor)
    if version == current:
        return
    base = session.get(Revision, version) if version else None
    if base is None or base.actor_id != actor.id:
        raise EditConflict([], current)
    changes = [(name, base.data.get(name, BY_NAME[name].empty()), value)
               for name, value in actor_input(actor).as_dict().items()
               if base.data.get(name, BY_NAME[name].empty()) != value]
    if changes:
        raise EditConflict(changes, current)


def _lock_for_edit(session, actor: Actor, version: int | None):
    lock_actors(session, actor)
    if actor.merged_into_id:
        kept, seen = actor, set()
        while kept.merged_into_id and kept.id not in seen:  # merges of merges: follow them to the end
            seen.add(kept.id)
            kept = session.get(Actor, kept.merged_into_id)
        raise ActorMerged(kept)
    check_version(session, actor, version)


def edit_actor(session, actor: Actor, data: ActorInput, vocab: Vocabulary, user: User, version: int | None) -> bool:
    """A coordinator's edit of the form opened on ``version``; return whether anything changed."""
    _lock_for_edit(session, actor, version)
    before, was = actor_snapshot(actor), [m.network_id for m in actor.memberships]
    changed = update_actor(session, actor, data, vocab, user)
    if changed:  # the networks it left are concerned too
        record_action(session, user, "actor.edit", actor, before, actor_snapshot(actor), was)
    return changed


def set_status(session, actor: Actor, status: str, user: User | None, action: str) -> bool:
    """The one way an actor's status changes (publish, archive, restore, reject, merge): dated, in the history.

    Return whether it changed. A new actor gets its first status from ``create_actor``.
    """
    if actor.status == status:
        return False
    actor.status = status
    actor.updated_at = utcnow()
    if status == "published":
        actor.confirmed_at = actor.updated_at
    record_revision(session, actor, user, action)
    return True


def publish_actor(session, actor: Actor, user: User | None = None):
    set_status(session, actor, "published", user, "publish")


def archive_actor(session, actor: Actor, user: User | None = None):
    before = actor.status
    if set_status(session, actor, "archived", user, "archive"):
        record_action(session, user, "actor.archive", actor, {"status": before}, {"status": "archived"}, [])


def restore_actor(session, actor: Actor, user: User | None = None):
    """Bring an archived (or rejected) actor back to the public directory."""
    before = actor.status
    if set_status(session, actor, "published", user, "restore"):
        record_action(session, user, "actor.restore", actor, {"status": before}, {"status": "published"}, [])


def restore_revision(session, revision: Revision, vocab: Vocabulary, user: User) -> bool:
    """Put back the values an actor had at ``revision`` (its status is left as it is)."""
    # A revision made before a field existed leaves that field as it is now.
    data, errors = validate_actor({**actor_input(revision.actor).as_dict(), **revision.data}, vocab)
    if errors:
        raise OperationError(_("Cette version ne peut plus être restaurée : %(why)s",
                               why=errors[0][1]))
    actor = revision.actor
    before, was = actor_snapshot(actor), [m.network_id for m in actor.memberships]
    changed = update_actor(session, actor, data, vocab, user, action="revert")
    if changed:
        record_action(session, user, "actor.revert", actor, before, actor_snapshot(actor), was)
    return changed
