"""Curating networks: who curates which actors (a scope, always one SQL filter), and who is told of what.

A network's scope is the network itself, the actors whose seat is in its territory, and its members (a
submission that asks to join a network is one of its members while pending). Admins, and coordinators
attached to no network, curate everything.

The scope is kept as rows (``network_actor``, one per network and actor in its scope): every SQL use of it reads
that table's index, whatever its size. The rows follow the sources (an actor's department, memberships, a
network's territory, a network becoming curating) at once, in the transaction that changes them: what the ORM writes,
at each flush (``_follow_scope``); what an operation writes in bulk (the import's inserts, a territory
replaced), when it calls ``mark_scope``. ``rebuild_scopes`` recomputes all (``repertoire networks rebuild``, a
restore).
"""
from __future__ import annotations

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import and_, delete, event, exists, func, insert, inspect, or_, select, text, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import (Actor, ChangeRequest, CuratingNetwork, Membership, NetworkActor, NetworkCoordinator,
                      NetworkDepartment, NoticeSetting, RequestNetwork, User, utcnow)
from . import OperationError
from .accounts import find_user
from .audit import record_action

NOTICE_MODES = ("each", "daily", "none")
CHUNK = 500  # ids per statement when the scope is computed again
SCOPE_LOCK = 0x5245504E  # PostgreSQL advisory lock key: actors' writes share it, a network's change takes it alone


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


def _scope_ids(network_ids):
    """A select of the ids of the actors these networks curate (read from ``network_actor``'s key)."""
    network_ids = list(network_ids)
    if len(network_ids) == 1:
        return select(NetworkActor.actor_id).where(NetworkActor.network_id == network_ids[0])
    return select(NetworkActor.actor_id).where(NetworkActor.network_id.in_(network_ids)).distinct()


def scope_of_networks(network_ids):
    """The SQL condition on ``Actor`` of the actors these networks curate."""
    return Actor.id.in_(_scope_ids(network_ids))


def _rows_of(network_ids):
    network_ids = list(network_ids)
    if len(network_ids) == 1:
        return NetworkActor.network_id == network_ids[0]
    return NetworkActor.network_id.in_(network_ids)


SCOPE_SORTS = ("name", "town", "founded")  # the actors list's sorts the scope's rows can serve (copied columns)


def scope_keys(network_ids, status: str | None = None, words: str | None = None, sort: str = "name"):
    """The select of the ids (first column) of the actors these networks curate, in the actors list's order
    (``sort``: name, town or founded, empty values last, then by name), read from the scope's rows alone
    (``status``: only those; ``words``: folded words their sort name holds)."""
    if sort == "name":
        order = [NetworkActor.name_sort, NetworkActor.actor_id]
    elif sort == "town":  # never empty (NOT NULL): its index serves the order
        order = [NetworkActor.town, NetworkActor.name_sort, NetworkActor.actor_id]
    else:
        column = getattr(NetworkActor, sort)
        order = [column.is_(None), column, NetworkActor.name_sort, NetworkActor.actor_id]
    query = select(NetworkActor.actor_id, *order[:-1]).where(_rows_of(network_ids))
    if status:
        query = query.where(NetworkActor.status == status)
    if words:
        query = query.where(NetworkActor.name_sort.contains(words))
    if len(list(network_ids)) > 1:  # an actor in two of the networks is listed once
        query = query.distinct()
    return query.order_by(*order)


def scope_status_counts(session, network_ids) -> dict[str, int]:
    """How many actors these networks curate, by status (one grouped count over the scope's rows)."""
    many = len(list(network_ids)) > 1
    count = func.count(NetworkActor.actor_id.distinct()) if many else func.count()
    return dict(session.execute(select(NetworkActor.status, count).where(_rows_of(network_ids))
                                .group_by(NetworkActor.status)).all())


def _stale(network_ids, now=None):
    from .freshness import STALE_AFTER
    limit = (now or utcnow()) - STALE_AFTER
    return and_(_rows_of(network_ids), NetworkActor.status == "published",
                or_(NetworkActor.confirmed_at < limit, NetworkActor.confirmed_at.is_(None)))


def scope_stale_keys(network_ids, now=None):
    """The select of the ids (first column) of the stale actors these networks curate, in the order of
    ``freshness.stale_actors_query`` (oldest confirmation first, then by id), from the scope's rows alone."""
    query = select(NetworkActor.actor_id, NetworkActor.confirmed_at).where(_stale(network_ids, now))
    if len(list(network_ids)) > 1:
        query = query.distinct()
    # the (network, status, confirmed_at) index's order on both databases (migration 0023 for PostgreSQL)
    return query.order_by(NetworkActor.confirmed_at.asc().nulls_first(), NetworkActor.actor_id)


def scope_stale_count(session, network_ids, now=None, cap: int | None = None) -> int:
    """How many stale actors these networks curate; with ``cap``, counted no further than ``cap`` + 1."""
    many = len(list(network_ids)) > 1
    if cap is not None:
        query = select(NetworkActor.actor_id).where(_stale(network_ids, now))
        query = query.distinct() if many else query
        return session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery()))
    count = func.count(NetworkActor.actor_id.distinct()) if many else func.count()
    return session.scalar(select(count).where(_stale(network_ids, now)))


# -- the scope's rows ----------------------------------------------------------

def scope_rows(networks=None, actors=None):
    """The select of the rows of the scopes (network_id, actor_id and the actor's status, name_sort,
    confirmed_at), from their sources: the network itself, the actors whose seat is in its territory, its
    members; only ``networks`` or only ``actors`` if given."""
    c, nd, a, m = (CuratingNetwork.__table__.c, NetworkDepartment.__table__.c, Actor.__table__.c,
                   Membership.__table__.c)
    itself = select(c.actor_id.label("network_id"), c.actor_id.label("actor_id"))
    territory = select(nd.network_id, a.id.label("actor_id")).join_from(
        NetworkDepartment.__table__, Actor.__table__, a.department == nd.department)
    members = select(m.network_id, m.actor_id).join_from(Membership.__table__, CuratingNetwork.__table__,
                                                         c.actor_id == m.network_id)
    if networks is not None:
        itself = itself.where(c.actor_id.in_(networks))
        territory = territory.where(nd.network_id.in_(networks))
        members = members.where(m.network_id.in_(networks))
    if actors is not None:
        itself = itself.where(c.actor_id.in_(actors))
        territory = territory.where(a.id.in_(actors))
        members = members.where(m.actor_id.in_(actors))
    pairs = union(itself, territory, members).subquery()
    return select(pairs.c.network_id, pairs.c.actor_id, a.status, a.name_sort, a.confirmed_at, a.town,
                  a.founded).join_from(pairs, Actor.__table__, a.id == pairs.c.actor_id)


ROW_COLUMNS = ["network_id", "actor_id", "status", "name_sort", "confirmed_at", "town", "founded"]


def _write_scope(connection, networks=None, actors=None):
    table = NetworkActor.__table__
    where = []
    if networks is not None:
        where.append(table.c.network_id.in_(networks))
    if actors is not None:
        where.append(table.c.actor_id.in_(actors))
    connection.execute(delete(table).where(*where))
    connection.execute(insert(table).from_select(ROW_COLUMNS, scope_rows(networks, actors)))


def mark_scope(session, actors=(), networks=()):
    """Compute again, now, the scope rows of these actors and these networks (the flush hook does it for what
    the ORM writes; an operation that writes in bulk calls it after its statements)."""
    actors, networks = sorted({i for i in actors if i is not None}), sorted({i for i in networks if i is not None})
    if not actors and not networks:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Two transactions at once, one adding an actor of a department, the other adding that department to a
        # territory, would each miss the other's write. Held until the commit: writes of actors share the lock
        # (they do not wait for each other), a network's change takes it alone, so it waits for the actors'
        # writes in progress to commit and they for it, and the second reads what the first wrote.
        shared = "" if networks else "_shared"
        connection.execute(text(f"SELECT pg_advisory_xact_lock{shared}(:key)"), {"key": SCOPE_LOCK})
        # The actors' own rows too (in id order): a write that changes an actor's scope without locking it (a
        # merge moving a network's members) waits for a save of that actor in progress, then reads what it
        # wrote — else its rows, computed from what it saw before, would replace the save's.
        for start in range(0, len(actors), CHUNK):
            connection.execute(select(Actor.id).where(Actor.id.in_(actors[start:start + CHUNK]))
                               .order_by(Actor.id).with_for_update(key_share=True))  # as an UPDATE of it
    for start in range(0, len(networks), CHUNK):
        _write_scope(connection, networks=networks[start:start + CHUNK])
    for start in range(0, len(actors), CHUNK):
        _write_scope(connection, actors=actors[start:start + CHUNK])


def rebuild_scopes(connection) -> int:
    """Compute every scope's rows again from their sources; return how many there are. On PostgreSQL it takes
    the scope's lock alone, as a network's change does: an actor saved meanwhile waits, then reads the rows
    written here (else its own would collide with them, or the rows read before its save be kept)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCOPE_LOCK})
    connection.execute(delete(NetworkActor.__table__))
    connection.execute(insert(NetworkActor.__table__).from_select(ROW_COLUMNS, scope_rows()))
    return connection.scalar(select(func.count()).select_from(NetworkActor.__table__))


# what a scope's rows depend on or copy (a membership dropped from the list is an orphan deleted by the flush,
# not in ``session.deleted``: the list's history tells)
FOLLOWED = ("department", "memberships", "status", "name_sort", "confirmed_at", "town", "founded")


@event.listens_for(Session, "after_flush")
def _follow_scope(session, flush_context):
    """The scope rows follow what this flush wrote: new or deleted actors, a department changed, memberships,
    a territory's departments, a network becoming curating."""
    actors, networks = set(), set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Actor):
            attrs = inspect(obj).attrs
            if obj in session.new or obj in session.deleted \
                    or any(attrs[name].history.has_changes() for name in FOLLOWED):
                actors.add(obj.id)
        elif isinstance(obj, Membership):
            actors.add(obj.actor_id)
        elif isinstance(obj, NetworkDepartment):
            networks.add(obj.network_id)
        elif isinstance(obj, CuratingNetwork):
            networks.add(obj.actor_id)
    mark_scope(session, actors, networks)


def curating_networks_of(session, selected) -> list[int]:
    """The curating networks whose scope holds one of ``selected`` (a select of actor ids, or a list of ids), read
    from the scope's rows: a bulk action's event is filed under them (as one about an actor is)."""
    if isinstance(selected, (list, tuple, set)):
        ids, found = sorted(set(selected)), set()
        for start in range(0, len(ids), CHUNK):
            found.update(session.scalars(select(NetworkActor.network_id).distinct()
                                         .where(NetworkActor.actor_id.in_(ids[start:start + CHUNK]))))
        return sorted(found)
    chosen = selected.order_by(None).subquery()
    return sorted(session.scalars(select(NetworkActor.network_id).distinct()
                                  .where(NetworkActor.actor_id.in_(select(list(chosen.c)[0])))))


def actor_scope(session, user):
    """The SQL condition on ``Actor`` of what ``user`` curates, or None when it is everything."""
    ids = network_ids_of(session, user)
    return scope_of_networks(ids) if ids else None


def scoped_actor_ids(session, user):
    """A select of the ids of the actors ``user`` curates, or None when it is everything."""
    ids = network_ids_of(session, user)
    return _scope_ids(ids) if ids else None


def curates(session, user, actor_id: int) -> bool:
    """Whether ``user`` (a coordinator or an admin) may curate the actor ``actor_id``."""
    ids = network_ids_of(session, user)
    if not ids:
        return True
    return bool(session.scalar(select(exists().where(NetworkActor.network_id.in_(ids),
                                                     NetworkActor.actor_id == actor_id))))


def request_scope(network_ids):
    """The SQL condition on ``ChangeRequest`` of the requests these networks decide: those about the actors
    they curate, and the change requests asking to join one of them."""
    scope = _scope_ids(network_ids)  # probed per request (EXISTS): an IN would list the whole scope first
    return or_(scope.where(NetworkActor.actor_id == ChangeRequest.actor_id).exists(),
               ChangeRequest.id.in_(select(RequestNetwork.request_id)
                                    .where(RequestNetwork.network_id.in_(network_ids))))


def decides(session, user, request: ChangeRequest) -> bool:
    """Whether ``user`` may see and decide ``request``."""
    ids = network_ids_of(session, user)
    return not ids or session.scalar(select(func.count()).select_from(ChangeRequest).where(
        ChangeRequest.id == request.id, request_scope(ids))) > 0


def asked_networks(session, request: ChangeRequest | None) -> list[int]:
    """The curating networks a change request asks to join."""
    if request is None or request.id is None:
        return []
    return list(session.scalars(select(RequestNetwork.network_id).where(RequestNetwork.request_id == request.id)
                                .order_by(RequestNetwork.network_id)))


def route_request(session, request: ChangeRequest, networks: list[dict]) -> list[int]:
    """Put the change request in the queue of each curating network its proposed ``networks`` (memberships:
    ``{network, since}``) adds to the entry; return those it was not in yet."""
    slugs = sorted({m["network"] for m in networks} - {m.network.slug for m in request.actor.memberships})
    wanted = set(session.scalars(select(CuratingNetwork.actor_id).join(CuratingNetwork.actor)
                                 .where(Actor.slug.in_(slugs)))) if slugs else set()
    session.flush()  # the request's id
    had = set(asked_networks(session, request))
    if had - wanted:
        session.execute(delete(RequestNetwork).where(RequestNetwork.request_id == request.id,
                                                     RequestNetwork.network_id.in_(sorted(had - wanted))))
    session.add_all(RequestNetwork(request_id=request.id, network_id=n) for n in sorted(wanted - had))
    session.flush()
    return sorted(wanted - had)


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

def make_curating(session, network: Actor, user=None) -> CuratingNetwork:
    if network.kind_slug != "reseau" or network.status != "published":
        raise OperationError(_("Seul un réseau publié peut devenir un réseau qui modère ses fiches."))
    existing = session.get(CuratingNetwork, network.id)
    if existing is not None:
        raise OperationError(_("Ce réseau modère déjà ses fiches."))
    curating = CuratingNetwork(actor=network)
    session.add(curating)
    session.flush()
    record_action(session, user, "network.curate", network, None, {"curating": True}, [network.id])
    return curating


def set_territory(session, curating: CuratingNetwork, departments: list[str], user=None):
    before = [d.department for d in curating.departments]
    session.execute(delete(NetworkDepartment).where(NetworkDepartment.network_id == curating.actor_id))
    for code in sorted(set(departments)):
        session.add(NetworkDepartment(network_id=curating.actor_id, department=code))
    session.flush()
    mark_scope(session, networks=[curating.actor_id])  # the departments removed: a bulk delete, unseen by the ORM
    session.expire(curating, ["departments"])
    after = sorted(set(departments))
    if after != before:
        record_action(session, user, "network.territory", curating.actor, {"departments": before},
                      {"departments": after}, [curating.actor_id])


def _lock_account(session, user_id: int):
    """Hold the account's row until the transaction ends (on SQLite, the database): two admins changing the
    same person's networks at once take turns, the second reading what the first committed."""
    session.execute(update(User).where(User.id == user_id).values(role=User.role)
                    .execution_options(synchronize_session=False))


def add_coordinator(session, curating: CuratingNetwork, email: str, acting=None) -> User:
    """Attach an account to the network; a member becomes a coordinator, an admin stays one.

    Two admins adding the same person at once: one adds, the other is told it is done already (the account's
    row is locked first; the primary key of ``network_coordinator`` stays the last guard: the caller rolls
    back on the ``OperationError``)."""
    user = find_user(session, email)
    if user is None:
        raise OperationError(_("Aucun compte n'a cette adresse : la personne doit d'abord s'inscrire."))
    _lock_account(session, user.id)
    session.refresh(user)
    if user.role == "admin":
        raise OperationError(_("Un administrateur voit déjà tous les réseaux."))
    already = _("%(email)s coordonne déjà ce réseau.", email=user.email)
    if session.scalar(select(func.count()).select_from(NetworkCoordinator).where(
            NetworkCoordinator.network_id == curating.actor_id, NetworkCoordinator.user_id == user.id)):
        raise OperationError(already)
    before = user.role
    user.role = "coordinator"
    session.add(NetworkCoordinator(network_id=curating.actor_id, user_id=user.id))
    with session.no_autoflush:  # the flush below is the one that may meet the other admin's row
        if session.get(NoticeSetting, user.id) is None:
            session.add(NoticeSetting(user_id=user.id, mode="each", digest_through=last_request_id(session)))
    try:
        session.flush()
    except IntegrityError:  # added by another request meanwhile
        raise OperationError(already) from None
    session.expire(curating, ["coordinators"])
    record_action(session, acting, "network.coordinator.add", user, {"role": before},
                  {"role": user.role, "network": curating.actor_id}, [curating.actor_id])
    return user


def remove_coordinator(session, curating: CuratingNetwork, user_id: int, acting=None) -> User:
    """Detach an account from the network. Removed from the last of its networks, a coordinator becomes a
    member again: a coordinator bound to no network would curate everything. Twice at once: the second is
    told it is done already."""
    _lock_account(session, user_id)
    removed = session.execute(delete(NetworkCoordinator).where(NetworkCoordinator.network_id == curating.actor_id,
                                                               NetworkCoordinator.user_id == user_id)
                              .execution_options(synchronize_session=False)).rowcount
    if not removed:
        raise OperationError(_("Ce compte ne coordonne déjà plus ce réseau."))
    user = session.get(User, user_id)
    session.refresh(user)
    before = user.role
    left = session.scalar(select(func.count()).select_from(NetworkCoordinator)
                          .where(NetworkCoordinator.user_id == user_id))
    if not left and user.role == "coordinator":
        user.role = "member"
    session.flush()
    session.expire(curating, ["coordinators"])
    record_action(session, acting, "network.coordinator.remove", user, {"role": before, "network": curating.actor_id},
                  {"role": user.role}, [curating.actor_id])
    g.pop("repertoire_networks", None) if has_request_context() else None
    return user


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
    requests = list(session.scalars(  # new entries of their scope, and changes asking to join their networks
        select(ChangeRequest).join(Actor, Actor.id == ChangeRequest.actor_id)
        .where(ChangeRequest.id > through, ChangeRequest.id <= newest, ChangeRequest.status == "open",
               or_(and_(ChangeRequest.kind == "new", scope_of_networks(ids)),
                   ChangeRequest.id.in_(select(RequestNetwork.request_id)
                                        .where(RequestNetwork.network_id.in_(ids)))))
        .order_by(ChangeRequest.id)))
    return through, newest, requests


def advance_digest(session, user, through: int, newest: int) -> bool:
    """Move the watermark from ``through`` to ``newest``, once: of two digests at once, one wins."""
    result = session.execute(update(NoticeSetting).where(NoticeSetting.user_id == user.id,
                                                         NoticeSetting.digest_through == through)
                             .values(digest_through=newest).execution_options(synchronize_session=False))
    return result.rowcount == 1
