"""Members' submissions and claims; coordinators' decisions on them."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from ..actor_fields import BY_NAME
from ..models import Actor, ChangeRequest, User, utcnow
from ..validation import ActorInput, Vocabulary, validate_actor

from . import OperationError
from .audit import record_action
from .partnerships import LinkProblem
from .networks import asked_networks, route_request
from .actors import (_lock_for_edit, set_status, actor_input, actor_snapshot, create_actor, lock_actors, publish_actor,
                     record_revision, update_actor)


# -- submissions by members ------------------------------------------------

def submit_actor(session, user: User, data: ActorInput, vocab: Vocabulary, message: str = "") -> Actor:
    """A member's new entry: pending, invisible to the public until approved."""
    actor = create_actor(session, data, vocab, status="pending", user=user, action="submit")
    actor.owner = user
    session.add(ChangeRequest(kind="new", actor=actor, user=user, message=message))
    return actor


def coordinator_entry(session, user: User, data: ActorInput, vocab: Vocabulary, message: str = "") -> Actor:
    """A coordinator's « Nouvelle fiche »: published at once, with no owner, when they curate it (recorded in
    the audit log); otherwise (outside their networks) a submission like a member's, for those who curate it."""
    from .audit import record_action
    from .networks import curates, networks_holding
    actor = create_actor(session, data, vocab, status="pending", user=user, action="create")
    session.flush()
    if not curates(session, user, actor.id):
        actor.owner = user
        session.add(ChangeRequest(kind="new", actor=actor, user=user, message=message))
        return actor
    publish_actor(session, actor, user)
    record_action(session, user, "publish-own", actor, None, actor_snapshot(actor),
                  networks_holding(session, actor))
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
        set_status(session, actor, "pending", user, "resubmit")
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
            request = ChangeRequest(kind="change", actor=actor, user=user, data=data.as_dict(), message=message)
            session.add(request)
        else:
            request.data = data.as_dict()
            request.message = message or request.message
            request.updated_at = utcnow()
        route_request(session, request, data.networks)  # joining a network: its queue too
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


def report_error(session, actor: Actor, message: str, email: str = "") -> ChangeRequest:
    """A visitor's report that a published entry is wrong: a request in the queue, read then closed."""
    if actor.status != "published":
        raise OperationError(_("Seule une fiche publiée peut faire l'objet d'un signalement."))
    request = ChangeRequest(kind="report", actor=actor, user=None, message=message.strip(),
                            email=email.strip().lower())
    session.add(request)
    return request


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


def close_report(session, request: ChangeRequest, moderator: User):
    """A coordinator has read an error report (and corrected the entry, or not)."""
    if request.kind != "report":
        raise OperationError(_("Seul un signalement se clôt ; une demande s'accepte ou se refuse."))
    _close_request(session, request, moderator, "closed")
    record_action(session, moderator, "report.close", request, {"status": "open"}, {"status": "closed"}, [])


def approve_request(session, request: ChangeRequest, moderator: User, vocab: Vocabulary):
    if request.kind == "report":
        raise OperationError(_("Un signalement ne s'accepte pas : corrigez la fiche si besoin, puis clôturez-le."))
    data = None
    if request.kind == "change":
        data, errors = validate_actor(request.data or {}, vocab)
        if errors:
            raise OperationError(_("La modification proposée n'est plus valide : %(why)s", why=errors[0][1]))
    _close_request(session, request, moderator, "approved")
    actor = request.actor
    before = actor_snapshot(actor)
    if request.kind == "new":
        publish_actor(session, actor, moderator)
    elif request.kind == "change":
        if actor.status != "published":
            raise OperationError(_("La fiche n'est plus publiée ; la modification ne peut pas être appliquée."))
        try:
            update_actor(session, actor, data, vocab, moderator, action="approve-change")
        except LinkProblem as problem:  # a network or partner withdrawn since the request: the caller rolls back
            raise OperationError(_("La modification proposée ne peut pas être appliquée : %(why)s. Rien n'a été "
                                   "modifié ; refusez-la en expliquant pourquoi, ou corrigez la fiche.",
                                   why=problem)) from None
    elif request.kind == "claim":
        actor.owner_id = request.user_id
        record_revision(session, actor, moderator, "owner")
    record_action(session, moderator, "request.approve", request, before,
                  {**actor_snapshot(actor), "request": request.kind}, asked_networks(session, request))


def reject_request(session, request: ChangeRequest, moderator: User, reason: str):
    if request.kind == "report":
        raise OperationError(_("Un signalement ne se refuse pas : clôturez-le."))
    reason = reason.strip()
    if not reason:
        raise OperationError(_("Indiquez la raison du refus : elle sera envoyée au demandeur."))
    _close_request(session, request, moderator, "rejected", reason=reason)
    before = {"status": request.actor.status}
    if request.kind == "new" and request.actor.status == "pending":
        set_status(session, request.actor, "rejected", moderator, "reject")
    record_action(session, moderator, "request.reject", request, before,
                  {"status": request.actor.status, "request": request.kind, "reason": reason},
                  asked_networks(session, request))


def changes_between(before: dict | None, after: dict) -> list[tuple[str, object, object]]:
    """(field, old, new) for every field that differs."""
    before = before or {}
    return [(key, before.get(key, _empty(key)), value) for key, value in after.items()
            if key != "owner_id" and before.get(key, _empty(key)) != value]


def _empty(key: str):
    field = BY_NAME.get(key)
    return field.empty() if field is not None else None
