"""Business operations shared by the HTML views, the API and the command line.

Operations change the session and flush; the caller (a request or a command)
commits once. The index follows after the commit (``search.outbox``).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from flask_babel import gettext as _
from sqlalchemy import func, insert, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from . import taxonomy
from .actor_fields import COLUMN_FIELDS, values_of
from .search import mark_for_index
from .database import insert_rows
from .models import (ROLES, Activity, Actor, ActorCountry, ActorTown, ChangeRequest, Domain, Kind,
                     Revision, User, actor_activity, actor_domain, utcnow)
from .text import fold_words, slugify, sort_key
from .validation import ActorInput, Vocabulary, actor_key, validate_actor


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
        for position, (slug, label, label_en) in enumerate(defaults):
            if slug not in existing:
                session.add(model(slug=slug, label=label, label_en=label_en, position=position))
                added += 1
    session.flush()
    return added


# -- actors ----------------------------------------------------------------

def actor_input(actor: Actor) -> ActorInput:
    """The editable values of an actor, for comparison and forms."""
    return ActorInput(**values_of(actor))


class SlugAllocator:
    """Hands out unique slugs; preloads the taken ones so bulk imports stay fast."""

    def __init__(self, session):
        self.taken = set(session.scalars(select(Actor.slug)))

    def allocate(self, name: str, town: str, slug: str | None = None) -> str:
        """A free slug: ``slug`` (by default the name's), else with the town, else numbered."""
        slug = slug or slugify(name)
        if slug in self.taken:
            with_town = slug = slugify(f"{name} {town}")
            n = 2
            while slug in self.taken:
                slug = f"{with_town}-{n}"
                n += 1
        self.taken.add(slug)
        return slug


def _apply(actor: Actor, data: ActorInput, vocab: Vocabulary):
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
    _apply(actor, data, vocab)
    session.add(actor)
    record_revision(session, actor, user, action)
    return actor


def update_actor(session, actor: Actor, data: ActorInput, vocab: Vocabulary,
                 user: User | None = None, action: str = "update") -> bool:
    """Replace the actor's values by ``data``; return whether anything changed."""
    if actor_input(actor) == data:
        return False
    _apply(actor, data, vocab)
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
    changes = [(name, base.data.get(name), value) for name, value in actor_input(actor).as_dict().items()
               if base.data.get(name) != value]
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
    return update_actor(session, actor, data, vocab, user)


def _set_status(session, actor: Actor, status: str, user: User | None, action: str):
    if actor.status != status:
        actor.status = status
        actor.updated_at = utcnow()
        if status == "published":
            actor.confirmed_at = actor.updated_at
        record_revision(session, actor, user, action)


def publish_actor(session, actor: Actor, user: User | None = None):
    _set_status(session, actor, "published", user, "publish")


def archive_actor(session, actor: Actor, user: User | None = None):
    _set_status(session, actor, "archived", user, "archive")


def restore_actor(session, actor: Actor, user: User | None = None):
    """Bring an archived (or rejected) actor back to the public directory."""
    _set_status(session, actor, "published", user, "restore")


def restore_revision(session, revision: Revision, vocab: Vocabulary, user: User) -> bool:
    """Put back the values an actor had at ``revision`` (its status is left as it is)."""
    data, errors = validate_actor(revision.data, vocab)
    if errors:
        raise OperationError(_("Cette version ne peut plus être restaurée : %(why)s",
                               why=errors[0][1]))
    return update_actor(session, revision.actor, data, vocab, user, action="revert")


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
                  batch_size: int = 1000) -> ImportSummary:
    """Create or update (matched on name, town and département) and publish each row."""
    importer = ActorImporter(session, vocab, batch_size)
    importer.add(rows, progress)
    return importer.summary


class ActorImporter:
    """Imports rows given in several goes within one transaction (the caller commits or rolls back).

    New actors are written with bulk inserts (an import may hold 100,000 rows);
    existing ones go through ``update_actor`` so that only real changes count.
    """

    def __init__(self, session, vocab: Vocabulary, batch_size: int = 1000):
        self.session, self.vocab, self.batch_size = session, vocab, batch_size
        self.summary = ImportSummary()
        self.existing = {actor_key(name, town, dept): actor_id for actor_id, name, town, dept in
                         session.execute(select(Actor.id, Actor.name, Actor.town, Actor.department))}
        self.slugs = SlugAllocator(session)
        self.inserted = False  # once this transaction has inserted, the database's write lock is ours

    def add(self, rows: list[ActorInput], progress=None):
        session, vocab = self.session, self.vocab
        fresh: list[ActorInput] = []
        for data in rows:
            actor_id = self.existing.get(data.key)
            if actor_id is None:
                fresh.append(data)
                continue
            actor = session.get(Actor, actor_id)
            changed = update_actor(session, actor, data, vocab, action="import")
            if actor.status != "published":
                publish_actor(session, actor)
                changed = True
            self.summary.updated += changed
            self.summary.unchanged += not changed
            if progress:
                progress(1)
        session.flush()
        for start in range(0, len(fresh), self.batch_size):
            batch = fresh[start:start + self.batch_size]
            ids = _insert_published(session, batch, vocab, self.slugs, holds_write_lock=self.inserted)
            self.inserted = True
            mark_for_index(session, ids, new=True)
            self.summary.created += len(ids)
            if progress:
                progress(len(batch))


def _insert_published(session, batch: list[ActorInput], vocab: Vocabulary, slugs: SlugAllocator,
                      holds_write_lock: bool = False) -> list[int]:
    """Insert new published actors, their lists and their first revision; return their ids."""
    now = utcnow()
    own = tuple(f.name for f in COLUMN_FIELDS)
    columns = ("slug", "name_sort", "kind_id", "status", "created_at", "updated_at", "confirmed_at") + own
    kind_ids = {slug: term.id for slug, term in vocab.terms["kind"].items()}
    values = [(slugs.allocate(d.name, d.town, d.slug), d.name_sort, kind_ids[d.kind], "published", now, now, now,
               *(getattr(d, name) for name in own)) for d in batch]
    connection = session.connection()  # Core: the ORM's per-row bookkeeping doubles the time of large imports
    table = Actor.__table__
    if holds_write_lock and connection.dialect.name == "sqlite":
        # This transaction has written already, so no other can insert until it ends: the next ids are ours.
        first = (connection.scalar(select(func.max(table.c.id))) or 0) + 1
        ids = list(range(first, first + len(values)))
        insert_rows(connection, table, ("id",) + columns, [(i,) + row for i, row in zip(ids, values)])
    else:
        ids = list(connection.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                      [dict(zip(columns, row)) for row in values]))
    countries, towns, domains, activities, revisions = [], [], [], [], []
    domain_ids = {slug: term.id for slug, term in vocab.terms["domain"].items()}
    activity_ids = {slug: term.id for slug, term in vocab.terms["activity"].items()}
    for actor_id, d in zip(ids, batch):
        countries += [(actor_id, c, i) for i, c in enumerate(d.countries)]
        towns += [(actor_id, t, i) for i, t in enumerate(d.intervention_towns)]
        domains += [(actor_id, domain_ids[s]) for s in d.domains]
        activities += [(actor_id, activity_ids[s]) for s in d.activities]
        revisions.append((actor_id, None, "import", now, {**d.as_dict(), "status": "published", "owner_id": None}))
    insert_rows(connection, ActorCountry.__table__, ("actor_id", "code", "position"), countries)
    insert_rows(connection, ActorTown.__table__, ("actor_id", "name", "position"), towns)
    insert_rows(connection, actor_domain, ("actor_id", "domain_id"), domains)
    insert_rows(connection, actor_activity, ("actor_id", "activity_id"), activities)
    insert_rows(connection, Revision.__table__, ("actor_id", "user_id", "action", "created_at", "data"), revisions)
    return ids


# -- accounts --------------------------------------------------------------

PASSWORD_MIN = 10


def check_new_password(password: str):
    if len(password) < PASSWORD_MIN:
        raise OperationError(_("Le mot de passe doit compter au moins %(n)d caractères.", n=PASSWORD_MIN))


def create_user(session, email: str, password: str, role: str = "member",
                confirmed: bool = True, locale: str = "fr") -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise OperationError(f"rôle inconnu « {role} » (member, coordinator ou admin)")
    check_new_password(password)
    if find_user(session, email) is not None:
        raise OperationError(f"un compte existe déjà pour {email}")
    user = User(email=email, password_hash=generate_password_hash(password), role=role,
                confirmed_at=utcnow() if confirmed else None, locale=locale)
    session.add(user)
    session.flush()
    return user


def find_user(session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


_dummy_hash: str | None = None


def dummy_password_check(password: str):
    """The cost of checking a password, spent when there is no account to check it against."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_hex(16))
    check_password_hash(_dummy_hash, password)


def authenticate(session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same answer, and one password check,
    for any mistake: unknown, closed or wrong)."""
    user = find_user(session, email)
    if user is None:
        dummy_password_check(password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(session, user: User, password: str):
    """Change the password and end every session of the account."""
    check_new_password(password)
    user.password_hash = generate_password_hash(password)
    end_sessions(session, user)


def end_sessions(session, user: User):
    """Void every session and remember-me cookie of ``user`` (their id carries the old version)."""
    user.session_version = User.session_version + 1
    session.flush()
    session.refresh(user, ["session_version"])


def confirm_user(session, user: User):
    if user.confirmed_at is None:
        user.confirmed_at = utcnow()


def set_role(session, user: User, role: str, acting: User):
    if role not in ROLES:
        raise OperationError(_("Rôle inconnu."))
    if user.id == acting.id and role != "admin":
        raise OperationError(_("Vous ne pouvez pas retirer vos propres droits d'administration."))
    user.role = role


def set_active(session, user: User, active: bool, acting: User):
    """Close or reopen an account (a closed one cannot log in; its entries stay)."""
    if user.id == acting.id and not active:
        raise OperationError(_("Vous ne pouvez pas fermer votre propre compte."))
    user.active = active


# -- submissions by members ------------------------------------------------

def submit_actor(session, user: User, data: ActorInput, vocab: Vocabulary, message: str = "") -> Actor:
    """A member's new entry: pending, invisible to the public until approved."""
    actor = create_actor(session, data, vocab, status="pending", user=user, action="submit")
    actor.owner = user
    session.add(ChangeRequest(kind="new", actor=actor, user=user, message=message))
    return actor


def open_request(session, actor: Actor, kind: str, user: User | None = None) -> ChangeRequest | None:
    query = select(ChangeRequest).where(ChangeRequest.actor_id == actor.id, ChangeRequest.kind == kind,
                                        ChangeRequest.status == "open")
    if user is not None:
        query = query.where(ChangeRequest.user_id == user.id)
    return session.scalars(query.order_by(ChangeRequest.id.desc())).first()


def proposed_input(session, actor: Actor, user: User) -> ActorInput:
    """What the owner sees in the edit form: their open proposal, else the current values."""
    request = open_request(session, actor, "change", user)
    if request is not None and request.data:
        return ActorInput(**request.data)
    return actor_input(actor)


def edit_own_actor(session, user: User, actor: Actor, data: ActorInput, vocab: Vocabulary,
                   message: str = "", version: int | None = None) -> str:
    """An owner's edit of the form opened on ``version``. Returns what happened: "updated",
    "resubmitted", "proposed" or "unchanged".

    A pending entry is edited in place; a rejected one is edited and sent back to
    moderation; a published one gets a proposed change, and the published
    version stays visible until a coordinator approves it.
    """
    _lock_for_edit(session, actor, version)
    if actor.owner_id != user.id:
        raise OperationError(_("Cette fiche ne vous est pas rattachée."))
    if actor.status == "pending":
        changed = update_actor(session, actor, data, vocab, user, action="edit")
        request = open_request(session, actor, "new")
        if request is not None and message:
            request.message = message
        return "updated" if changed else "unchanged"
    if actor.status == "rejected":
        update_actor(session, actor, data, vocab, user, action="edit")
        _set_status(session, actor, "pending", user, "resubmit")
        session.add(ChangeRequest(kind="new", actor=actor, user=user, message=message))
        return "resubmitted"
    if actor.status == "published":
        request = open_request(session, actor, "change", user)
        if actor_input(actor) == data:
            if request is not None:
                request.status = "withdrawn"
                request.decided_at = utcnow()
            return "unchanged"
        if request is None:
            session.add(ChangeRequest(kind="change", actor=actor, user=user, data=data.as_dict(),
                                      message=message))
        else:
            request.data = data.as_dict()
            request.message = message or request.message
            request.updated_at = utcnow()
        return "proposed"
    raise OperationError(_("Cette fiche est archivée ; contactez les coordinateurs du réseau."))


def claim_actor(session, user: User, actor: Actor, message: str) -> ChangeRequest:
    """Ask to manage an existing published entry."""
    if actor.status != "published":
        raise OperationError(_("Seule une fiche publiée peut être revendiquée."))
    if actor.owner_id == user.id:
        raise OperationError(_("Cette fiche vous est déjà rattachée."))
    if open_request(session, actor, "claim", user) is not None:
        raise OperationError(_("Votre demande pour cette fiche est déjà en attente de modération."))
    request = ChangeRequest(kind="claim", actor=actor, user=user, message=message.strip())
    session.add(request)
    return request


def similar_names(a: str, b: str) -> bool:
    a, b = fold_words(a), fold_words(b)
    return a == b or SequenceMatcher(None, a, b).ratio() >= 0.85


def host_of(url: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0].lower()
    return host[4:] if host.startswith("www.") else host


def find_duplicates(session, data: ActorInput, exclude_id: int | None = None) -> list[tuple[Actor, list[str]]]:
    """Published actors that are likely the same as ``data``, with the reasons why."""
    conditions = [Actor.department == data.department]
    if data.email:
        conditions.append(Actor.email == data.email)
    if data.website:
        conditions.append(Actor.website.contains(host_of(data.website)))
    query = select(Actor).where(Actor.status == "published", or_(*conditions))
    if exclude_id is not None:
        query = query.where(Actor.id != exclude_id)
    found = []
    for actor in session.scalars(query):
        reasons = []
        if actor.department == data.department and similar_names(actor.name, data.name):
            reasons.append(_("nom identique ou proche dans le même département"))
        if data.email and actor.email == data.email:
            reasons.append(_("même adresse électronique"))
        if data.website and actor.website and host_of(actor.website) == host_of(data.website):
            reasons.append(_("même site web"))
        if reasons:
            found.append((actor, reasons))
    return found


# -- moderation ------------------------------------------------------------

def _close_request(session, request: ChangeRequest, moderator: User, status: str, **values):
    """Mark ``request`` decided, once: an UPDATE conditional on it being open.

    The UPDATE holds the request's row (the database, on SQLite) until the commit,
    so of two decisions at once the second finds it decided and changes nothing.
    The actor is locked first, as edits and merges do (a merge withdraws its requests).
    """
    lock_actors(session, request.actor)
    result = session.execute(
        update(ChangeRequest).where(ChangeRequest.id == request.id, ChangeRequest.status == "open")
        .values(status=status, decided_at=utcnow(), decided_by_id=moderator.id, **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.expire(request)
        raise OperationError(_("Cette demande a déjà été traitée."))
    session.refresh(request)


def approve_request(session, request: ChangeRequest, moderator: User, vocab: Vocabulary):
    data = None
    if request.kind == "change":
        data, errors = validate_actor(request.data or {}, vocab)
        if errors:
            raise OperationError(_("La modification proposée n'est plus valide : %(why)s", why=errors[0][1]))
    _close_request(session, request, moderator, "approved")
    actor = request.actor
    if request.kind == "new":
        publish_actor(session, actor, moderator)
    elif request.kind == "change":
        if actor.status != "published":
            raise OperationError(_("La fiche n'est plus publiée ; la modification ne peut pas être appliquée."))
        update_actor(session, actor, data, vocab, moderator, action="approve-change")
    elif request.kind == "claim":
        actor.owner_id = request.user_id
        record_revision(session, actor, moderator, "owner")


def reject_request(session, request: ChangeRequest, moderator: User, reason: str):
    reason = reason.strip()
    if not reason:
        raise OperationError(_("Indiquez la raison du refus : elle sera envoyée au demandeur."))
    _close_request(session, request, moderator, "rejected", reason=reason)
    if request.kind == "new" and request.actor.status == "pending":
        _set_status(session, request.actor, "rejected", moderator, "reject")


def changes_between(before: dict | None, after: dict) -> list[tuple[str, object, object]]:
    """(field, old, new) for every field that differs."""
    before = before or {}
    return [(key, before.get(key), value) for key, value in after.items()
            if key != "owner_id" and before.get(key) != value]
