"""A member's personal data: what they can download, and the deletion of their account."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from ..models import (Actor, ChangeRequest, DuplicateDismissal, NetworkCoordinator, NoticeSetting, Revision, User,
                      utcnow)
from ..serialize import actor_to_dict

from . import OperationError


def _when(value):
    return value.isoformat() if value is not None else None


def account_data(session, user: User) -> dict:
    """Everything stored about ``user``: the account, their entries, their requests, the revisions they made."""
    actors = session.scalars(select(Actor).where(Actor.owner_id == user.id).order_by(Actor.id)).all()
    requests = session.scalars(select(ChangeRequest).where(
        or_(ChangeRequest.user_id == user.id, ChangeRequest.email == user.email)).order_by(ChangeRequest.id)).all()
    revisions = session.scalars(select(Revision).where(Revision.user_id == user.id).order_by(Revision.id)).all()
    return {
        "account": {"email": user.email, "role": user.role, "active": user.active, "locale": user.locale,
                    "created_at": _when(user.created_at), "confirmed_at": _when(user.confirmed_at)},
        "entries": [{**actor_to_dict(actor), "status": actor.status} for actor in actors],
        "requests": [{"id": r.id, "kind": r.kind, "status": r.status, "actor": r.actor.slug,
                      "actor_name": r.actor.name, "message": r.message, "email": r.email, "data": r.data,
                      "reason": r.reason, "created_at": _when(r.created_at), "updated_at": _when(r.updated_at),
                      "decided_at": _when(r.decided_at)} for r in requests],
        "revisions": [{"id": r.id, "actor": r.actor.slug, "action": r.action, "created_at": _when(r.created_at),
                       "data": r.data} for r in revisions],
    }


def _lock_accounts(session, user: User) -> bool:
    """Hold the rows of the admins and of ``user`` (ids in order, against deadlocks); False if ``user`` is gone.

    Two admins deleting themselves at once wait for each other, so the second one
    counts the admins once the first is gone.
    """
    ids = set(session.scalars(select(User.id).where(User.role == "admin"))) | {user.id}
    found = True
    for user_id in sorted(ids):
        result = session.execute(update(User).where(User.id == user_id).values(role=User.role)
                                 .execution_options(synchronize_session=False))
        if user_id == user.id:
            found = result.rowcount == 1
    return found


def delete_account(session, user: User):
    """Delete ``user``'s account; what they wrote for the directory stays, without a link to them.

    Their entries lose their owner, their open requests are withdrawn, requests and revisions
    keep no link to the account (nor do revisions name them as owner), and every session ends.
    The last active admin cannot leave: the site would have no one to manage accounts.
    """
    if not _lock_accounts(session, user):
        raise OperationError(_("Ce compte a déjà été supprimé."))
    session.refresh(user)
    if user.role == "admin" and not session.scalar(
            select(func.count()).select_from(User)
            .where(User.role == "admin", User.active.is_(True), User.id != user.id)):
        raise OperationError(_("Vous êtes le dernier administrateur : nommez-en un autre avant de supprimer "
                               "votre compte."))
    now = utcnow()
    quiet = {"synchronize_session": False}
    session.execute(update(Actor).where(Actor.owner_id == user.id).values(owner_id=None).execution_options(**quiet))
    session.execute(update(ChangeRequest).where(ChangeRequest.user_id == user.id, ChangeRequest.status == "open")
                    .values(status="withdrawn", decided_at=now, updated_at=now).execution_options(**quiet))
    session.execute(update(ChangeRequest).where(ChangeRequest.user_id == user.id).values(user_id=None)
                    .execution_options(**quiet))
    session.execute(update(ChangeRequest).where(ChangeRequest.decided_by_id == user.id)
                    .values(decided_by_id=None).execution_options(**quiet))
    session.execute(update(ChangeRequest).where(ChangeRequest.email == user.email).values(email="")
                    .execution_options(**quiet))
    session.execute(update(Revision).where(Revision.user_id == user.id).values(user_id=None)
                    .execution_options(**quiet))
    for revision in session.scalars(select(Revision).where(Revision.data["owner_id"].as_integer() == user.id)):
        revision.data = {**revision.data, "owner_id": None}
    session.execute(update(DuplicateDismissal).where(DuplicateDismissal.user_id == user.id)
                    .values(user_id=None).execution_options(**quiet))
    session.execute(delete(NetworkCoordinator).where(NetworkCoordinator.user_id == user.id))
    session.execute(delete(NoticeSetting).where(NoticeSetting.user_id == user.id))
    session.delete(user)
    session.flush()
    session.expire_all()
