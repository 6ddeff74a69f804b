"""Database model. The database is the source of truth; the index is derived from it."""
from datetime import datetime, timezone

from flask_login import UserMixin
from sqlalchemy import (JSON, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .extensions import db

STATUSES = ("pending", "published", "rejected", "archived")
ROLES = ("member", "coordinator", "admin")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class TaxonomyTerm:
    """A kind, domain or activity: a stable slug and labels (French, English) coordinators may rename."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(160))
    label_en: Mapped[str | None] = mapped_column(String(160), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(default=False)

    def label_in(self, language: str) -> str:
        return self.label_en if language == "en" and self.label_en else self.label

    def __repr__(self):
        return f"<{type(self).__name__} {self.slug}>"


class Kind(TaxonomyTerm, db.Model):
    __tablename__ = "kind"


class Domain(TaxonomyTerm, db.Model):
    __tablename__ = "domain"


class Activity(TaxonomyTerm, db.Model):
    __tablename__ = "activity"


actor_domain = Table(
    "actor_domain", db.metadata,
    Column("actor_id", ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True),
    Column("domain_id", ForeignKey("domain.id"), primary_key=True),
)
actor_activity = Table(
    "actor_activity", db.metadata,
    Column("actor_id", ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True),
    Column("activity_id", ForeignKey("activity.id"), primary_key=True),
)


class ActorCountry(db.Model):
    """A country of intervention, in the order the actor gave them."""

    __tablename__ = "actor_country"
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ActorTown(db.Model):
    """A town or locality of intervention, or a partner town."""

    __tablename__ = "actor_town"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)


class PartnershipPartner(db.Model):
    """One partner of a partnership: a place abroad or in France, possibly an actor of the directory."""

    __tablename__ = "partnership_partner"
    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    locality: Mapped[str] = mapped_column(String(120), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actor.id", ondelete="SET NULL"), nullable=True,
                                                 index=True)
    actor: Mapped["Actor | None"] = relationship(foreign_keys=[actor_id], lazy="joined")

    def as_value(self) -> dict:
        return {"name": self.name, "country": self.country, "locality": self.locality,
                "actor": self.actor.slug if self.actor is not None else None}


class Partnership(db.Model):
    """A twinning, a cooperation agreement, a partnership held by an actor (contract §5)."""

    __tablename__ = "partnership"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(12), default="active")
    start: Mapped[str] = mapped_column(String(10), default="")  # YYYY, YYYY-MM or YYYY-MM-DD; "" unknown
    end: Mapped[str] = mapped_column(String(10), default="")  # "" while it lasts
    start_year: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # for ranges and decades
    domains: Mapped[list] = mapped_column(JSON, default=list)  # slugs, in taxonomy order
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(300), default="")

    partners: Mapped[list[PartnershipPartner]] = relationship(
        order_by=PartnershipPartner.position, cascade="all, delete-orphan", lazy="selectin")

    def as_value(self) -> dict:
        """The partnership as ``ActorInput.partnerships`` holds it (no id, no holder)."""
        return {"kind": self.kind, "status": self.status, "start": self.start, "end": self.end,
                "partners": [p.as_value() for p in self.partners], "domains": list(self.domains or []),
                "description": self.description, "source": self.source}


class Membership(db.Model):
    """An actor's membership of a network, itself an actor of the directory."""

    __tablename__ = "membership"
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    since: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the year it joined
    position: Mapped[int] = mapped_column(Integer, default=0)

    network: Mapped["Actor"] = relationship(foreign_keys=[network_id], lazy="joined")


class Actor(db.Model):
    __tablename__ = "actor"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_sort: Mapped[str] = mapped_column(String(420), index=True)
    acronym: Mapped[str] = mapped_column(String(40), default="")
    kind_id: Mapped[int] = mapped_column(ForeignKey("kind.id"))
    town: Mapped[str] = mapped_column(String(120))
    postcode: Mapped[str] = mapped_column(String(5), default="")
    department: Mapped[str] = mapped_column(String(3), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    founded: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # year
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # last said accurate
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("actor.id"), nullable=True)

    kind: Mapped[Kind] = relationship(lazy="joined")
    owner: Mapped["User | None"] = relationship(foreign_keys=[owner_id])
    country_links: Mapped[list[ActorCountry]] = relationship(
        order_by=ActorCountry.position, cascade="all, delete-orphan", lazy="selectin")
    town_links: Mapped[list[ActorTown]] = relationship(
        order_by=ActorTown.position, cascade="all, delete-orphan", lazy="selectin")
    domains: Mapped[list[Domain]] = relationship(
        secondary=actor_domain, order_by=Domain.position, lazy="selectin")
    activities: Mapped[list[Activity]] = relationship(
        secondary=actor_activity, order_by=Activity.position, lazy="selectin")
    partnerships: Mapped[list[Partnership]] = relationship(
        order_by=Partnership.position, cascade="all, delete-orphan", lazy="selectin",
        foreign_keys=[Partnership.actor_id])
    memberships: Mapped[list[Membership]] = relationship(
        order_by=Membership.position, cascade="all, delete-orphan", lazy="selectin",
        foreign_keys=[Membership.actor_id])

    @property
    def countries(self) -> list[str]:
        return [link.code for link in self.country_links]

    @property
    def intervention_towns(self) -> list[str]:
        return [link.name for link in self.town_links]

    @property
    def kind_slug(self) -> str:
        return self.kind.slug

    @property
    def domain_slugs(self) -> list[str]:
        return [d.slug for d in self.domains]

    @property
    def activity_slugs(self) -> list[str]:
        return [a.slug for a in self.activities]

    @property
    def partnership_values(self) -> list[dict]:
        return [p.as_value() for p in self.partnerships]

    @property
    def partnership_ids(self) -> list[int]:
        return [p.id for p in self.partnerships]

    @property
    def network_values(self) -> list[dict]:
        return [{"network": m.network.slug, "since": m.since} for m in self.memberships]

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def __repr__(self):
        return f"<Actor {self.id} {self.slug}>"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(12), default="member")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locale: Mapped[str] = mapped_column(String(5), default="fr", server_default="fr")  # language of the mails
    # Part of the id sessions and remember-me cookies carry: raising it ends them all.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_active(self):
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ChangeRequest(db.Model):
    """Something a member asks coordinators to approve (a new entry, a change, a claim), or a visitor's
    error report ("report": no account needed, an optional e-mail; closed once read)."""

    __tablename__ = "change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True, index=True)
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")  # a report's reporter
    data: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # proposed values ("change")
    message: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    actor: Mapped[Actor] = relationship()
    user: Mapped["User | None"] = relationship(foreign_keys=[user_id])
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id])


class Revision(db.Model):
    """The state of an actor after one change: who, when, what (diffed with the previous one)."""

    __tablename__ = "revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[Actor] = relationship()
    user: Mapped["User | None"] = relationship()


class DuplicateDismissal(db.Model):
    """A pair a coordinator said is not a duplicate (smaller id first)."""

    __tablename__ = "duplicate_dismissal"
    __table_args__ = (UniqueConstraint("actor_a_id", "actor_b_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_a_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"))
    actor_b_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DuplicateKey(db.Model):
    """A block an active actor falls in (a word of its name in its commune, its e-mail, site or phone)."""

    __tablename__ = "duplicate_key"
    # (key, actor_id): a block's holders are read from the index alone, never from the table's rows scattered
    # over a directory-sized table (at 1,000,000 actors, the difference between 50 and 1,000 actors compared a second)
    __table_args__ = (Index("ix_duplicate_key_key_actor", "key", "actor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(300))


class DuplicatePair(db.Model):
    """A likely duplicate pair (smaller id first), found when either actor was written."""

    __tablename__ = "duplicate_pair"
    __table_args__ = (UniqueConstraint("actor_a_id", "actor_b_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_a_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"))
    actor_b_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), index=True)
    reasons: Mapped[str] = mapped_column(String(100))  # reason codes, comma-separated
    score: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DuplicatePending(db.Model):
    """An actor whose blocks and pairs a big write left to compute after its commit (``drain_pending``).

    An actor may be listed more than once (written by two big writes): it is compared once.
    """

    __tablename__ = "duplicate_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), index=True)


class IndexLog(db.Model):
    """The ordered log of actor changes, written in the changing transaction; each index follows it.

    Ids follow commit order (see ``search.outbox``): an index that has applied
    every row up to an id has applied every change committed before it.
    """

    __tablename__ = "index_log"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused once pruned

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(6))  # "add" (inserted by that transaction), "upsert" or "delete"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndexPosition(db.Model):
    """How far each server's index has followed the log, with a heartbeat: pruning keeps what live ones need."""

    __tablename__ = "index_position"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)  # host and index directory
    position: Mapped[int] = mapped_column(Integer)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)



class AuditEvent(db.Model):
    """One coordinator's or admin's action: who, when, what, before/after. Append-only: the database
    refuses UPDATE and DELETE on it (triggers of migration 0014). No foreign keys, so that deleting an
    account or an actor never has to touch it; ``user_id`` None is the command line."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20), default="")
    target_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_label: Mapped[str] = mapped_column(String(300), default="")
    before: Mapped[dict | list | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | list | None] = mapped_column(JSON, nullable=True)
    networks: Mapped[list] = mapped_column(JSON, default=list)  # network actor ids
    undo_of_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)  # one undo per event


class AuditEventNetwork(db.Model):
    """The networks an event concerns, one row each, for the journal's network filter."""

    __tablename__ = "audit_event_network"

    network_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True)


# Indexes the back-office lists and counts read through (migration 0010).
Index("ix_actor_status_name_sort", Actor.status, Actor.name_sort)
# on PostgreSQL (status, confirmed_at NULLS FIRST, id): migration 0023
Index("ix_actor_status_confirmed_at", Actor.status, Actor.confirmed_at)
Index("ix_actor_kind_id_status", Actor.kind_id, Actor.status)
# The actors list by founding year, undated last, then by name (migration 0022): its ORDER BY walks this index;
# status last so that a list filtered by status or name is read from the index alone.
Index("ix_actor_founded_order", Actor.founded.is_(None), Actor.founded, Actor.name_sort, Actor.id, Actor.status)
# The actors list by town, then by name (migration 0024).
Index("ix_actor_town_order", Actor.town, Actor.name_sort, Actor.id, Actor.status)
Index("ix_actor_domain_domain_id", actor_domain.c.domain_id, actor_domain.c.actor_id)
Index("ix_actor_activity_activity_id", actor_activity.c.activity_id, actor_activity.c.actor_id)
Index("ix_change_request_status_created_at", ChangeRequest.status, ChangeRequest.created_at, ChangeRequest.id)
Index("ix_change_request_kind_created_at", ChangeRequest.kind, ChangeRequest.created_at)
# The statistics page's flows from départements to partners' countries (migration 0013).
Index("ix_partnership_partner_partnership_country", PartnershipPartner.partnership_id, PartnershipPartner.country)


class CuratingNetwork(db.Model):
    """A network actor (kind ``reseau``) that curates its own entries: coordinators and a territory."""

    __tablename__ = "curating_network"
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[Actor] = relationship(lazy="joined")
    departments: Mapped[list["NetworkDepartment"]] = relationship(
        order_by="NetworkDepartment.department", cascade="all, delete-orphan", lazy="selectin")
    coordinators: Mapped[list["NetworkCoordinator"]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class NetworkDepartment(db.Model):
    """A département of a curating network's territory."""

    __tablename__ = "network_department"
    network_id: Mapped[int] = mapped_column(ForeignKey("curating_network.actor_id", ondelete="CASCADE"),
                                            primary_key=True)
    department: Mapped[str] = mapped_column(String(3), primary_key=True, index=True)


class NetworkActor(db.Model):
    """One actor of a curating network's scope (the network itself, the actors of its territory, its members),
    kept by ``operations.networks`` in the transaction that changes any of these (migration 0020)."""

    __tablename__ = "network_actor"
    __table_args__ = (Index("ix_network_actor_name", "network_id", "name_sort", "actor_id"),
                      Index("ix_network_actor_status_name", "network_id", "status", "name_sort", "actor_id"),
                      # on PostgreSQL (…, confirmed_at NULLS FIRST, actor_id): migration 0023
                      Index("ix_network_actor_stale", "network_id", "status", "confirmed_at"),
                      Index("ix_network_actor_town", "network_id", "town", "name_sort", "actor_id"),
                      {"sqlite_with_rowid": False})
    network_id: Mapped[int] = mapped_column(ForeignKey("curating_network.actor_id", ondelete="CASCADE"),
                                            primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)
    # copies of the actor's, so that a scope's lists and counts read this table alone (the sortable columns too)
    status: Mapped[str] = mapped_column(String(12))
    name_sort: Mapped[str] = mapped_column(String(420))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    town: Mapped[str] = mapped_column(String(120))
    founded: Mapped[int | None] = mapped_column(Integer, nullable=True)


class NetworkCoordinator(db.Model):
    """An account that curates a network's entries."""

    __tablename__ = "network_coordinator"
    network_id: Mapped[int] = mapped_column(ForeignKey("curating_network.actor_id", ondelete="CASCADE"),
                                            primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)

    user: Mapped[User] = relationship(lazy="joined")


class NoticeSetting(db.Model):
    """How a network coordinator is told of new submissions: a mail each ("each"), a daily digest ("daily")
    or not at all ("none"); the digest has mailed every request up to ``digest_through``."""

    __tablename__ = "notice_setting"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), default="each")
    digest_through: Mapped[int] = mapped_column(Integer, default=0)


Index("ix_audit_event_user_id_id", AuditEvent.user_id, AuditEvent.id)
Index("ix_audit_event_kind_id", AuditEvent.kind, AuditEvent.id)
Index("ix_audit_event_target", AuditEvent.target_type, AuditEvent.target_id)


JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


class Job(db.Model):
    """Work done outside the request, in committed chunks (``operations/jobs.py``): a bulk action on many actors.

    ``params`` fix what to do when it is queued (the selection's filters, the target), the confirmed selection's
    ids being rows of ``job_item``; ``done``/``total`` the progress and ``cursor`` the last actor id done,
    committed with each chunk's effects; ``state`` a small running state (an export's bytes and rows
    written), the chunks' findings being rows of ``job_chunk``; ``result`` the summary once done. A worker claims
    it by writing its token in ``worker``; a "running" job whose ``heartbeat_at`` is stale is claimed again and
    continues from ``done``. ``networks``: the network scope of who queued it (empty: everything)."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    networks: Mapped[list] = mapped_column(JSON, default=list)  # network actor ids; empty: global
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    worker: Mapped[str] = mapped_column(String(40), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[int] = mapped_column(Integer, default=0)  # the last job_item actor id done
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")


class JobChunk(db.Model):
    """What one committed chunk of a job gathered (e.g. the archived actors and their previous statuses),
    written with the chunk's progress; the job's ``finish`` reads them all, in order. One row per chunk, so a
    chunk costs the same at the end of 1,000,000 actors as at the start."""

    __tablename__ = "job_chunk"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # the job's progress before the chunk
    items: Mapped[list] = mapped_column(JSON, default=list)


class JobItem(db.Model):
    """One actor of a job's confirmed selection, written with the others by one INSERT … SELECT when the job is
    queued: the worker reads them in id order after the job's ``cursor``, whatever changed in the directory since
    (an actor added after the confirmation is not in it)."""

    __tablename__ = "job_item"
    __table_args__ = {"sqlite_with_rowid": False}  # one b-tree, in (job, actor) order: a bulk INSERT appends

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class JobNetwork(db.Model):
    """The networks of a job's scope, one row each, so that a network's coordinators list its jobs in SQL."""

    __tablename__ = "job_network"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    network_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


Index("ix_job_status_id", Job.status, Job.id)


class RequestNetwork(db.Model):
    """A curating network a member's change request asks to join: the request is in its queue too."""

    __tablename__ = "request_network"
    request_id: Mapped[int] = mapped_column(ForeignKey("change_request.id", ondelete="CASCADE"), primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("curating_network.actor_id", ondelete="CASCADE"),
                                            primary_key=True)


Index("ix_request_network_network_id", RequestNetwork.network_id, RequestNetwork.request_id)


class NetworkLabel(db.Model):
    """A curating network's own label for a taxonomy term (``taxonomy``: kind, domain or activity), shown on
    its own pages (``/reseaux/<slug>/``) instead of the shared one."""

    __tablename__ = "network_label"
    network_id: Mapped[int] = mapped_column(ForeignKey("curating_network.actor_id", ondelete="CASCADE"),
                                            primary_key=True)
    taxonomy: Mapped[str] = mapped_column(String(10), primary_key=True)
    term_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(160))
    label_en: Mapped[str] = mapped_column(String(160), default="", server_default="")  # "": the shared one
