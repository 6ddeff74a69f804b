"""Curating networks: who curates which actors (a scope, always one SQL filter), and who is told of what.

A network's scope is the network itself, the actors whose seat is in its territory, and its members (a
submission that asks to join a network is one of its members while pending). Admins, and coordinators
attached to no network, curate everything.
"""
from __future__ import annotations

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from ..models import (Actor, ChangeRequest, CuratingNetwork, Membership, NetworkCoordinator, NetworkDepartment,
                      NoticeSetting, User)
from . import OperationError
from .accounts import find_user

NOTICE_MODES = ("each", "daily", "none")


def network_ids_of(session, user) -> list[int]:
    """The curating networks ``user`` coordinates (none for admins: they see everything)."""
    if user is None or not user.is_authenticated or user.role != "coordinator":
        return []
    cache = g.setdefault("repertoire_networks", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = list(session.scalars(select(NetworkCoordinator.network_id)
                                              .where(NetworkCoordinator.user_id == user.id)
                                              .order_by(NetworkCoordinator.network_id)))
    return cache[user.id]


def scope_of_networks(network_ids):
    """The SQL condition on ``Actor`` of the actors these networks curate."""
    return or_(Actor.id.in_(network_ids),
               Actor.department.in_(select(NetworkDepartment.department)
                                    .where(NetworkDepartment.network_id.in_(network_ids))),
               Actor.id.in_(select(Membership.actor_id).where(Membership.network_id.in_(network_ids))))


def actor_scope(session, user):
    """The SQL condition on ``Actor`` of what ``user`` curates, or None when it is everything."""
    ids = network_ids_of(session, user)
    return scope_of_networks(ids) if ids else None


def scoped_actor_ids(session, user):
    """A select of the ids of the actors ``user`` curates, or None when it is everything."""
    scope = actor_scope(session, user)
    return None if scope is None else select(Actor.id).where(scope)


def curates(session, user, actor_id: int) -> bool:
    """Whether ``user`` (a coordinator or an admin) may curate the actor ``actor_id``."""
    scope = actor_scope(session, user)
    if scope is None:
        return True
    return session.scalar(select(func.count()).select_from(Actor).where(Actor.id == actor_id, scope)) > 0


def networks_holding(session, actor: Actor) -> list[int]:
    """The curating networks whose scope holds ``actor``."""
    member_of = select(Membership.network_id).where(Membership.actor_id == actor.id)
    in_territory = select(NetworkDepartment.network_id).where(NetworkDepartment.department == actor.department)
    return list(session.scalars(select(CuratingNetwork.actor_id).where(or_(
        CuratingNetwork.actor_id == actor.id, CuratingNetwork.actor_id.in_(member_of),
        CuratingNetwork.actor_id.in_(in_territory))).order_by(CuratingNetwork.actor_id)))


def coordinators_of(session, network_ids, mode: str | None = None) -> list[User]:
    """The active coordinators of these networks (with that notice mode: "each" when never chosen)."""
    if not network_ids:
        return []
    query = (select(User).join(NetworkCoordinator, NetworkCoordinator.user_id == User.id)
             .outerjoin(NoticeSetting, NoticeSetting.user_id == User.id)
             .where(NetworkCoordinator.network_id.in_(network_ids), User.active.is_(True),
                    User.role == "coordinator").distinct().order_by(User.id))
    if mode is not None:
        query = query.where(func.coalesce(NoticeSetting.mode, "each") == mode)
    return list(session.scalars(query))


# -- the admins' page ------------------------------------------------------

def make_curating(session, network: Actor) -> CuratingNetwork:
    if network.kind_slug != "reseau" or network.status != "published":
        raise OperationError(_("Seul un réseau publié peut devenir un réseau qui modère ses fiches."))
    existing = session.get(CuratingNetwork, network.id)
    if existing is not None:
        raise OperationError(_("Ce réseau modère déjà ses fiches."))
    curating = CuratingNetwork(actor=network)
    session.add(curating)
    session.flush()
    return curating


def set_territory(session, curating: CuratingNetwork, departments: list[str]):
    session.execute(delete(NetworkDepartment).where(NetworkDepartment.network_id == curating.actor_id))
    for code in sorted(set(departments)):
        session.add(NetworkDepartment(network_id=curating.actor_id, department=code))
    session.flush()
    session.expire(curating, ["departments"])


def add_coordinator(session, curating: CuratingNetwork, email: str) -> User:
    """Attach an account to the network; a member becomes a coordinator, an admin stays one."""
    user = find_user(session, email)
    if user is None:
        raise OperationError(_("Aucun compte n'a cette adresse : la personne doit d'abord s'inscrire."))
    if user.role == "admin":
        raise OperationError(_("Un administrateur voit déjà tous les réseaux."))
    if session.get(NetworkCoordinator, (curating.actor_id, user.id)) is None:
        user.role = "coordinator"
        session.add(NetworkCoordinator(network_id=curating.actor_id, user_id=user.id))
        if session.get(NoticeSetting, user.id) is None:
            session.add(NoticeSetting(user_id=user.id, mode="each", digest_through=last_request_id(session)))
        session.flush()
        session.expire(curating, ["coordinators"])
    return user


def remove_coordinator(session, curating: CuratingNetwork, user_id: int):
    session.execute(delete(NetworkCoordinator).where(NetworkCoordinator.network_id == curating.actor_id,
                                                     NetworkCoordinator.user_id == user_id))
    session.flush()
    session.expire(curating, ["coordinators"])


# -- being told ------------------------------------------------------------

def last_request_id(session) -> int:
    return session.scalar(select(func.max(ChangeRequest.id))) or 0


def notice_mode(session, user) -> str:
    setting = session.get(NoticeSetting, user.id)
    return setting.mode if setting is not None else "each"


def set_notice_mode(session, user, mode: str):
    if mode not in NOTICE_MODES:
        raise OperationError(_("Choix inconnu."))
    setting = session.get(NoticeSetting, user.id)
    if setting is None:
        setting = NoticeSetting(user_id=user.id, digest_through=last_request_id(session))
        session.add(setting)
    elif setting.mode != "daily" and mode == "daily":  # a digest starts from now, not from the beginning
        setting.digest_through = last_request_id(session)
    setting.mode = mode
    session.flush()


def digest_due(session, user) -> tuple[int, int, list[ChangeRequest]]:
    """(the digest's watermark, the newest request id, the new submissions in ``user``'s scope since it)."""
    setting = session.get(NoticeSetting, user.id)
    through = setting.digest_through if setting is not None else 0
    newest = last_request_id(session)
    ids = network_ids_of(session, user)
    if not ids or newest <= through:
        return through, newest, []
    requests = list(session.scalars(
        select(ChangeRequest).join(Actor, Actor.id == ChangeRequest.actor_id)
        .where(ChangeRequest.id > through, ChangeRequest.id <= newest, ChangeRequest.kind == "new",
               ChangeRequest.status == "open", scope_of_networks(ids))
        .order_by(ChangeRequest.id)))
    return through, newest, requests


def advance_digest(session, user, through: int, newest: int) -> bool:
    """Move the watermark from ``through`` to ``newest``, once: of two digests at once, one wins."""
    result = session.execute(update(NoticeSetting).where(NoticeSetting.user_id == user.id,
                                                         NoticeSetting.digest_through == through)
                             .values(digest_through=newest).execution_options(synchronize_session=False))
    return result.rowcount == 1
