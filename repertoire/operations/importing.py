"""Bulk import of checked rows: created, updated or unchanged actors, in batches."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from sqlalchemy import func, insert, select, update

from ..actor_fields import COLUMN_FIELDS, values_of
from ..database import insert_rows
from ..records import published_records
from ..models import Actor, ActorCountry, ActorTown, Membership, Revision, actor_activity, actor_domain, utcnow
from ..search import mark_for_index
from .duplicates import likely_duplicates, mark_for_duplicates
from ..validation import ActorInput, Vocabulary, actor_key

from . import OperationError
from .actors import SlugAllocator, actor_input, publish_actor, update_actor
from .networks import mark_scope
from .partnerships import apply_links, find_linked, linked_slugs
from .audit import record_action


# -- what an import would do, row by row -------------------------------------

def row_outcomes(session, valid: list[tuple[int, ActorInput]], existing: dict[tuple, int]
                 ) -> dict[int, tuple[str, object]]:
    """What importing would do with each valid row, by line (changes nothing): ("update", the names of the
    fields it changes), ("unchanged", None), ("duplicate", [(actor id, reason codes)]: a new actor that looks
    like published ones) or ("create", None). ``existing``: the id of the actor each known key names."""
    outcomes: dict[int, tuple[str, object]] = {}
    known = [(line, existing[data.key], data) for line, data in valid if data.key in existing]
    # read as plain records, a few queries for the whole file (ORM actors with their collections cost ten times
    # more: 0.3 s for 700 rows)
    actors = {r.id: r for r in published_records(session.connection(), {i for _l, i, _d in known}, published=False)}
    for line, actor_id, data in known:
        actor = actors[actor_id]
        before, after = values_of(actor), data.as_dict()
        absent = set(getattr(data, "absent", ()))  # not in the file: kept as they are
        changed = [name for name in after if name not in absent and before[name] != after[name]]
        if actor.status != "published":
            changed.append("status")  # the import publishes it
        outcomes[line] = ("update", changed) if changed else ("unchanged", None)
    fresh = [(line, data) for line, data in valid if data.key not in existing]
    for (line, _data), found in zip(fresh, likely_duplicates(session, [data for _line, data in fresh])):
        outcomes[line] = ("duplicate", found) if found else ("create", None)
    return outcomes


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
                  batch_size: int = 1000, user=None, source: str = "") -> ImportSummary:
    """Create or update (matched on name, town and département) and publish each row."""
    importer = ActorImporter(session, vocab, batch_size)
    importer.add(rows, progress)
    importer.finish()
    record_import(session, user, importer.summary, source)
    return importer.summary


def record_import(session, user, summary: ImportSummary, source: str = ""):
    """The import in the audit log: counts, the file's name; ``user`` None is the command line."""
    record_action(session, user, "import", ("import", None, source),
                  None, {"created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged,
                         "file": source}, [])


class ActorImporter:
    """Imports rows given in several goes within one transaction (the caller commits or rolls back).

    New actors are written with bulk inserts (an import may hold 100,000 rows);
    existing ones go through ``update_actor`` so that only real changes count.
    Links to other actors (networks, partners) may name actors later in the
    file: they are written by ``finish``, once every actor of the file exists.
    On an update, the fields a row does not carry (``data.absent``) keep their values.
    """

    def __init__(self, session, vocab: Vocabulary, batch_size: int = 1000):
        self.session, self.vocab, self.batch_size = session, vocab, batch_size
        self.summary = ImportSummary()
        self.existing = {actor_key(name, town, dept): actor_id for actor_id, name, town, dept in
                         session.execute(select(Actor.id, Actor.name, Actor.town, Actor.department))}
        self.slugs = SlugAllocator(session)
        self.inserted = False  # once this transaction has inserted, the database's write lock is ours
        self.slug_of: dict[tuple, str] = {}  # each row's actor: its key, its slug
        self.deferred: list[tuple[int, ActorInput, bool]] = []  # updates with links, for finish()
        self.new_links: list[tuple[int, ActorInput]] = []  # new actors with links, for finish()

    def add(self, rows: list[ActorInput], progress=None):
        session, vocab = self.session, self.vocab
        fresh: list[ActorInput] = []
        for data in rows:
            actor_id = self.existing.get(data.key)
            if actor_id is None:
                fresh.append(data)
                continue
            actor = session.get(Actor, actor_id)
            self.slug_of[data.key] = actor.slug
            absent = getattr(data, "absent", ())
            if absent:
                current = actor_input(actor)
                data = replace(data, **{name: getattr(current, name) for name in absent})
            if linked_slugs(data) and (data.networks != actor.network_values
                                       or data.partnerships != actor.partnership_values):
                published = actor.status != "published"
                if published:
                    publish_actor(session, actor)  # now: other rows' links may name it
                self.deferred.append((actor_id, data, published))
            else:
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
            ids = _insert_published(session, batch, vocab, self.slugs, holds_write_lock=self.inserted,
                                    slug_of=self.slug_of)
            self.inserted = True
            self.new_links += [(i, d) for i, d in zip(ids, batch) if d.networks or d.partnerships]
            mark_for_index(session, ids, new=True)
            mark_for_duplicates(session, ids, new=True)
            mark_scope(session, actors=ids)  # inserted in bulk: the networks whose territory holds them
            self.summary.created += len(ids)
            if progress:
                progress(len(batch))


    def finish(self):
        """Write the links of the file's actors, now that all exist: new actors' memberships (in bulk)
        and partnerships, then the updates that carry links. Raise if a link names no published actor."""
        session = self.session
        if self.new_links:
            wanted = set().union(*(linked_slugs(d) for _i, d in self.new_links))
            known = find_linked(session, wanted)
            memberships = []
            for actor_id, data in self.new_links:
                for position, item in enumerate(data.networks):
                    network = known.get(item["network"])
                    if network is None or network.id == actor_id:
                        raise OperationError(item["network"])  # checked before: not reached
                    memberships.append((actor_id, network.id, item["since"], position))
            insert_rows(session.connection(), Membership.__table__, ("actor_id", "network_id", "since", "position"),
                        memberships)
            mark_scope(session, actors=[actor_id for actor_id, _network, _since, _position in memberships])
            for actor_id, data in self.new_links:
                if data.partnerships:
                    actor = session.get(Actor, actor_id)
                    apply_links(session, actor, replace(data, networks=actor.network_values), known)
            self.new_links = []
        for actor_id, data, published in self.deferred:
            changed = update_actor(session, session.get(Actor, actor_id), data, self.vocab, action="import")
            changed = changed or published
            self.summary.updated += changed
            self.summary.unchanged += not changed
        self.deferred = []
        session.flush()


def _insert_published(session, batch: list[ActorInput], vocab: Vocabulary, slugs: SlugAllocator,
                      holds_write_lock: bool = False, slug_of: dict | None = None) -> list[int]:
    """Insert new published actors, their lists and their first revision; return their ids.

    Their links (networks, partnerships) are written by ``ActorImporter.finish``.
    """
    now = utcnow()
    own = tuple(f.name for f in COLUMN_FIELDS)
    columns = ("slug", "name_sort", "kind_id", "status", "created_at", "updated_at", "confirmed_at") + own
    kind_ids = {slug: term.id for slug, term in vocab.terms["kind"].items()}
    values = [(slugs.allocate(d.name, d.town, d.slug), d.name_sort, kind_ids[d.kind], "published", now, now, now,
               *(getattr(d, name) for name in own)) for d in batch]
    if slug_of is not None:
        slug_of.update((d.key, row[0]) for d, row in zip(batch, values))
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
