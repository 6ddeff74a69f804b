"""Every page that lists or counts, public and back-office, timed at scale (figures only; nothing is asserted).

Called by bench/search.py for each size, on the directory it has just imported, so that one run
measures the public search and these pages on the same data. By hand, on a kept directory:

    .venv/bin/python bench/pages.py DIRECTORY [--only doublons fraicheur] [--timeout 60]
    .venv/bin/python bench/pages.py DIRECTORY --profile /moderation/tableau-de-bord [--limit 60]

In a worker process (like one web worker, through the WSGI app): first the data a real instance has
beside its actors (1 % of them waiting in the moderation queue, half new entries and half claims; a
third of the published actors unconfirmed for 400 days; 2,000 accounts; one actor with 40 revisions;
a 1,000-row file to import; a curating network — the network with the most members — with a territory
and a coordinator of its own), then each page in a forked child, logged in as a coordinator (as an
admin for the accounts list, as the network's coordinator for the « network back-office » pages, as
nobody for the public pages and the networks' directories): one warm-up request, then up to N requests
within a time budget; a request that takes longer than the timeout kills the child and is recorded as
"> timeout". The set-up is done once, through the operations, and kept in the directory: run it on a
copy (``cp -a``) of a kept directory, never on the original.
"""
import argparse
import io
import json
import os
import select as select_fd
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

PASSWORD = "bench-password-123"
COORDINATOR, ADMIN = "coordination@bench.invalid", "admin@bench.invalid"
NETWORK_COORDINATOR = "coordination-reseau@bench.invalid"  # a coordinator bound to one curating network
NETWORK_TERRITORY = ("14", "27", "50", "61", "76")  # Normandie, as the demo's Horizons Solidaires
TWO_NETWORKS_COORDINATOR = "coordination-reseaux@bench.invalid"  # coordinates actors 1 and 2 (their journal)
ROLES = {"coordinator": COORDINATOR, "admin": ADMIN, "network": NETWORK_COORDINATOR,
         "networks2": TWO_NETWORKS_COORDINATOR}
ACCOUNTS = 2000
REVISIONS = 40
IMPORT_ROWS = 1000
IMPORT_SMALL = 300  # rows: a file whose report is still made in the request (IMPORT_BACKGROUND_ROWS)
IMPORT_BIG = 20_000  # rows: a file checked by the « vérification d'import » job, for its report's pages
AUDIT_EVENTS = 1_000_000  # issue 16 point 4: the journal, fast at a million events
JOBS = 5_000  # issue 16 point 5: the jobs list and a progress page, with many jobs
TARGETS = {100_000: 200, 1_000_000: 500}  # ms, issue 15 point 1


def config_for(directory: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.sqlite3",
            "REPERTOIRE_INDEX_DIR": f"{directory}/index",
            # the bench logs in and uploads through the forms without a browser: no token to copy, no throttle
            "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
            "REPERTOIRE_JOBS_INLINE": False,  # a bulk action queued by a page is deleted, never run

            "MAIL_OUTBOX": f"{directory}/outbox"}


# -- the data a live instance has beside its actors -------------------------

def prepare(app, directory: str, seed: int) -> dict:
    """Accounts, pending requests, revisions and a file to import (once); returns what the pages need."""
    from sqlalchemy import func, select

    from repertoire import operations
    from repertoire.extensions import db
    from repertoire.models import Actor, ChangeRequest, Partnership
    from repertoire.validation import Vocabulary

    csv_path = f"{directory}/import-{IMPORT_ROWS}.csv"
    env = {**os.environ, "REPERTOIRE_DATABASE_URL": config_for(directory)["SQLALCHEMY_DATABASE_URI"],
           "REPERTOIRE_INDEX_DIR": config_for(directory)["REPERTOIRE_INDEX_DIR"]}
    for rows in (IMPORT_ROWS, IMPORT_SMALL, IMPORT_BIG):
        path = f"{directory}/import-{rows}.csv"
        if not os.path.exists(path):
            subprocess.run([str(BIN / "repertoire"), "generate", str(rows), path, "--seed", str(seed + 1)],
                           env=env, check=True, capture_output=True)
    started = time.perf_counter()
    with app.app_context():
        session = db.session
        if operations.find_user(session, COORDINATOR) is None:
            _add_data(session, vocab=Vocabulary(session))
        partnerships = _add_partnerships(session, seed)
        audit = _add_audit(session)
        network = _add_curating_network(session)
        checks = _add_import_checks(app, session, directory)
        jobs = _add_jobs(session)
        actor = session.scalars(select(Actor).where(Actor.status == "published")
                                .order_by(Actor.id.desc()).limit(1)).one()
        request_id = session.scalar(select(ChangeRequest.id).where(ChangeRequest.status == "open")
                                    .order_by(ChangeRequest.id).limit(1))
        pending = session.scalar(select(func.count()).select_from(ChangeRequest)
                                 .where(ChangeRequest.status == "open"))
        total = session.scalar(select(func.count()).select_from(Actor).where(Actor.status == "published"))
        holder = session.scalar(select(Actor.slug).join(Partnership, Partnership.actor_id == Actor.id)
                                .where(Actor.status == "published").group_by(Actor.id, Actor.slug)
                                .order_by(func.count().desc(), Actor.id).limit(1))
        return {**audit, **network, **jobs, **checks, "csv_small": f"{directory}/import-{IMPORT_SMALL}.csv",
                "partnerships": partnerships, "holder_slug": holder, "history_actor": actor.id, "actor_slug": actor.slug, "request": request_id,
                "total": total, "pending": pending, "csv": csv_path, "prepare_s": time.perf_counter() - started}


def _add_data(session, vocab):
    """What a live instance has beside its imported actors."""
    from datetime import timedelta

    from sqlalchemy import func, insert, select, update

    from repertoire import operations
    from repertoire.models import Actor, User, utcnow

    operations.create_user(session, COORDINATOR, PASSWORD, "coordinator")
    operations.create_user(session, ADMIN, PASSWORD, "admin")
    # what create_user stores, without hashing 2,000 passwords
    model = operations.create_user(session, "membre-0@bench.invalid", PASSWORD, "member")
    session.execute(insert(User), [
        {"email": f"membre-{n}@bench.invalid", "password_hash": model.password_hash, "role": "member",
         "confirmed_at": model.confirmed_at, "locale": "fr"} for n in range(1, ACCOUNTS)])
    # a year on, a third of the directory is due for a check (what the freshness page lists)
    session.execute(update(Actor).where(Actor.status == "published", Actor.id % 3 == 0)
                    .values(confirmed_at=utcnow() - timedelta(days=400)))
    session.commit()
    members = list(session.scalars(select(User).where(User.role == "member").order_by(User.id)))
    total = session.scalar(select(func.count()).select_from(Actor))
    pending = max(2, total // 100)
    published = list(session.scalars(select(Actor).where(Actor.status == "published")
                                      .order_by(Actor.id).limit(pending)))
    add_requests(session, vocab, members, published, 0)
    actor = session.scalars(select(Actor).where(Actor.status == "published")
                            .order_by(Actor.id.desc()).limit(1)).one()
    add_revisions(session, vocab, actor, 0)


def add_revisions(session, vocab, actor, start: int):
    """Revisions ``start`` to REVISIONS of ``actor`` (its history page), each committed."""
    from repertoire import operations

    for n in range(start, REVISIONS):
        data = operations.actor_input(actor)
        data.description = f"{data.description.split(' [')[0]} [version {n}]"
        operations.update_actor(session, actor, data, vocab)
        session.commit()


def add_requests(session, vocab, members, published, start: int):
    """Open requests about ``published[start:]``: a claim for odd positions, a new entry much like the actor for
    even ones (as members often send), committed 200 at a time."""
    from repertoire import operations
    from repertoire.models import ChangeRequest

    slugs = operations.SlugAllocator(session)
    for n in range(start, len(published)):
        actor, member = published[n], members[n % len(members)]
        if n % 2:
            operations.claim_actor(session, member, actor, "Je m'occupe de cette association.")
        else:
            data = operations.actor_input(actor)
            data.name = f"{data.name} antenne {n}"
            # operations.submit_actor, with one SlugAllocator for all (it reads every slug when made)
            entry = operations.create_actor(session, data, vocab, status="pending", slugs=slugs, user=member,
                                            action="submit")
            entry.owner = member
            session.add(ChangeRequest(kind="new", actor=entry, user=member, message="Nouvelle antenne."))
        if n % 200 == 199:
            session.commit()
    session.commit()


PARTNERSHIPS_PER_ACTOR = 0.3  # issue 14: ~30,000 partnerships at 100,000 actors
PARTNER_COUNTRIES = (["DE"] * 8 + ["IT"] * 5 + ["GB"] * 5 + ["PL"] * 3 + ["ES"] * 2 + ["ML"] * 4 + ["SN"] * 3
                     + ["BF"] * 3 + ["MG"] * 2 + ["HT"] * 2 + ["MA", "TN", "BJ", "NE", "CM", "VN", "RO", "PT", "US",
                                                                "CA", "BE", "IE", "CZ", "HU"])
PARTNER_TOWNS = {"DE": ["Oranienburg", "Würzburg", "Hanovre", "Cologne", "Nienburg"], "IT": ["Sesto Fiorentino",
                 "Florence", "Vérone"], "GB": ["Portsmouth", "Dorchester"], "PL": ["Cracovie", "Opole"],
                 "ML": ["Kayes", "Ségou", "Massala"], "SN": ["Matam", "Thiès"], "BF": ["Ouagadougou", "Koudougou"],
                 "MG": ["Antsirabe"], "HT": ["Carrefour", "Jacmel"]}


def _add_partnerships(session, seed: int) -> int:
    """Partnerships for ~30 % of the published actors (none added if the directory has some already): mostly
    twinnings with one partner, a few three-party ones; European ones from the 1950s-1970s, the others later."""
    import random

    from sqlalchemy import func, insert, select

    from repertoire.models import Actor, Partnership, PartnershipPartner

    existing = session.scalar(select(func.count()).select_from(Partnership))
    if existing:
        return existing
    rng = random.Random(seed)
    actors = list(session.scalars(select(Actor.id).where(Actor.status == "published").order_by(Actor.id)))
    holders = rng.sample(actors, int(len(actors) * PARTNERSHIPS_PER_ACTOR * 0.8))
    rows, partners, next_id = [], [], 1
    for holder in holders:
        for position in range(rng.choice((1, 1, 1, 1, 2))):
            partners_here = [rng.choice(PARTNER_COUNTRIES) for _ in range(rng.choice((1,) * 12 + (2, 3)))]
            european = partners_here[0] in ("DE", "IT", "GB", "PL", "ES", "RO", "PT", "BE", "IE", "CZ", "HU")
            year = rng.randint(1950, 1979) if european else rng.randint(1980, 2024)
            start = rng.choice((str(year), f"{year}-{rng.randint(1, 12):02d}", "")) if rng.random() < 0.9 else ""
            rows.append({"id": next_id, "actor_id": holder, "position": position,
                         "kind": rng.choice(("jumelage",) * 5 + ("cooperation",) * 3 + ("partenariat", "amitie")),
                         "status": rng.choice(("active",) * 8 + ("suspendue", "terminee")), "start": start, "end": "",
                         "start_year": int(start[:4]) if start else None, "domains": [], "description": "",
                         "source": ""})
            for n, country in enumerate(partners_here):
                town = rng.choice(PARTNER_TOWNS.get(country, [""]))
                partners.append({"partnership_id": next_id, "position": n, "name": town or f"Commune ({country})",
                                 "country": country, "locality": town, "actor_id": None})
            next_id += 1
    for start in range(0, len(rows), 5000):
        session.execute(insert(Partnership), rows[start:start + 5000])
    for start in range(0, len(partners), 5000):
        session.execute(insert(PartnershipPartner), partners[start:start + 5000])
    session.commit()
    return len(rows)


def _add_curating_network(session) -> dict:
    """A curating network (the network with the most published members), its territory and its coordinator,
    through the operations the admins' page calls (once: an existing set-up is kept); returns what its pages
    need: its slug, and ids within its scope (an open request, an actor with its history)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import aliased

    from repertoire import operations
    from repertoire.models import Actor, ChangeRequest, CuratingNetwork, Kind, Membership, NetworkCoordinator
    from repertoire.operations import networks

    user = operations.find_user(session, NETWORK_COORDINATOR)
    if user is None:
        user = operations.create_user(session, NETWORK_COORDINATOR, PASSWORD, "member")
    network_id = session.scalar(select(NetworkCoordinator.network_id).where(NetworkCoordinator.user_id == user.id)
                                .order_by(NetworkCoordinator.network_id).limit(1))
    if network_id is None:
        member = aliased(Actor)
        # members counted per network first (SQLite would otherwise probe every network × every actor)
        counts = (select(Membership.network_id, func.count().label("members"))
                  .join(member, member.id == Membership.actor_id).where(member.status == "published")
                  .group_by(Membership.network_id).subquery())
        network_id = session.scalar(
            select(Actor.id).join(counts, counts.c.network_id == Actor.id).join(Kind, Kind.id == Actor.kind_id)
            .where(Kind.slug == "reseau", Actor.status == "published")
            .order_by(counts.c.members.desc(), Actor.id).limit(1))
        curating = session.get(CuratingNetwork, network_id) \
            or networks.make_curating(session, session.get(Actor, network_id))
        networks.set_territory(session, curating, list(NETWORK_TERRITORY))
        networks.add_coordinator(session, curating, NETWORK_COORDINATOR)
        session.commit()
    scope = networks.scope_of_networks([network_id])
    network = session.get(Actor, network_id)
    in_scope = session.scalar(select(func.count()).select_from(Actor).where(scope))
    members = session.scalar(select(func.count()).select_from(Membership).where(Membership.network_id == network_id))
    request = session.scalar(select(ChangeRequest.id).join(Actor, Actor.id == ChangeRequest.actor_id)
                             .where(ChangeRequest.status == "open", scope).order_by(ChangeRequest.id).limit(1))
    pending = session.scalar(select(func.count()).select_from(ChangeRequest)
                             .join(Actor, Actor.id == ChangeRequest.actor_id)
                             .where(ChangeRequest.status == "open", scope))
    actor = session.scalar(select(Actor.id).where(Actor.status == "published", scope)
                           .order_by(Actor.id.desc()).limit(1))
    return {"network_slug": network.slug, "network_name": network.name, "network_scope": in_scope,
            "network_members": members, "network_request": request, "network_pending": pending,
            "network_actor": actor}


def _add_audit(session) -> dict:
    """A million audit events (once): a tenth concern one of ten networks, one in a hundred is by the
    command line, spread over two years; returns what the journal's URLs need."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from repertoire.database import insert_rows
    from repertoire.models import AuditEvent, AuditEventNetwork, User, utcnow

    coordinator = session.scalar(select(User.id).where(User.email == COORDINATOR))
    base = session.scalar(select(func.max(AuditEvent.id))) or 0
    if session.scalar(select(func.count()).select_from(AuditEvent)) < AUDIT_EVENTS:  # else added already
        kinds = ("actor.edit", "request.approve", "request.reject", "actor.archive", "term.rename", "import")
        start = utcnow() - timedelta(days=730)
        connection = session.connection()
        step = timedelta(days=730) / AUDIT_EVENTS
        for first in range(1, AUDIT_EVENTS + 1, 50_000):
            events, links = [], []
            for i in range(first, min(first + 50_000, AUDIT_EVENTS + 1)):
                network = [1 + i % 10] if i % 10 == 0 else []
                events.append((base + i, start + step * i, None if i % 100 == 0 else coordinator, kinds[i % len(kinds)],
                               "actor", i % 50_000, f"Acteur {i % 50_000}", {"name": "avant"}, {"name": "après"},
                               network))
                links += [(n, base + i) for n in network]
            insert_rows(connection, AuditEvent.__table__, ("id", "created_at", "user_id", "kind", "target_type",
                                                           "target_id", "target_label", "before", "after",
                                                           "networks"), events)
            insert_rows(connection, AuditEventNetwork.__table__, ("network_id", "event_id"), links)
        session.commit()
    _add_network_coordinator(session)
    middle = base + AUDIT_EVENTS // 2 if base < AUDIT_EVENTS else base // 2
    day = (utcnow() - timedelta(days=365)).date().isoformat()
    return {"audit_middle": middle, "audit_user": coordinator, "audit_day": day}


def _add_network_coordinator(session):
    """Actors 1 and 2 made curating networks (once), coordinated by TWO_NETWORKS_COORDINATOR: a network journal."""
    from sqlalchemy import insert, select

    from repertoire import operations
    from repertoire.models import CuratingNetwork, NetworkCoordinator, utcnow

    if operations.find_user(session, TWO_NETWORKS_COORDINATOR) is not None:
        return
    user = operations.create_user(session, TWO_NETWORKS_COORDINATOR, PASSWORD, "coordinator")
    session.flush()
    for network in (1, 2):
        if session.get(CuratingNetwork, network) is None:
            session.execute(insert(CuratingNetwork).values(actor_id=network, created_at=utcnow()))
        session.execute(insert(NetworkCoordinator).values(network_id=network, user_id=user.id))
    session.commit()


def _add_import_checks(app, session, directory: str) -> dict:
    """The « vérification d'import » of the 1,000-row and the 20,000-row files, queued as the upload would
    (the file copied into the uploads, ``queue_check``) and run by the worker (timed: the job's own rows/s), each
    run (the reports are private files, removed after ``UPLOAD_MAX_AGE``); returns their jobs and reports."""
    import secrets
    import shutil

    from repertoire import import_report, operations
    from repertoire.files import private_open
    from repertoire.interchange import parse_file
    from repertoire.jobs import work
    from repertoire.models import Job

    found = {}
    for rows in (IMPORT_ROWS, IMPORT_BIG):
        coordinator = operations.find_user(session, COORDINATOR)  # the worker ends its session: found again
        source = f"{directory}/import-{rows}.csv"
        token = secrets.token_urlsafe(16) + ".csv"
        path = os.path.join(import_report.uploads_folder(), token)
        with open(source, "rb") as f, private_open(path, "wb") as out:  # as an upload is: private
            shutil.copyfileobj(f, out)
        job = import_report.queue_check(session, path, token, os.path.basename(source),
                                        len(parse_file(path).rows), coordinator)
        job_id = job.id
        session.commit()
        started, cpu = time.perf_counter(), time.process_time()
        work(once=True)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        job = session.get(Job, job_id, populate_existing=True)
        assert job.status == "done", (job.status, job.error)
        found.update({f"check_{rows}_job": job.id, f"check_{rows}_report": job.result["report"],
                      f"check_{rows}_s": seconds, f"check_{rows}_cpu_s": cpu,
                      f"check_{rows}_rows_per_s": rows / seconds})
        print(f"  import check of {rows} rows: {seconds:.1f} s ({rows / seconds:.0f} rows/s), CPU {cpu:.1f} s",
              file=sys.stderr, flush=True)
    return found


def _add_jobs(session) -> dict:
    """5,000 finished jobs (once), the last on the whole directory (its ids in ``job_item``); returns the ids
    the pages need. The bench's queued jobs are deleted after each request (``forget_jobs``)."""
    from sqlalchemy import func, select

    from repertoire import operations
    from repertoire.database import insert_rows
    from repertoire.models import Actor, Job, utcnow

    coordinator = operations.find_user(session, COORDINATOR)
    if session.scalar(select(func.count()).select_from(Job)) < JOBS:
        now = utcnow()
        kinds = ("bulk.archive", "bulk.network", "bulk.export")
        insert_rows(session.connection(), Job.__table__,
                    ("kind", "params", "status", "done", "total", "user_id", "networks", "created_at", "started_at",
                     "finished_at", "worker", "attempts", "cursor", "state", "result", "error"),
                    [(kinds[i % 3], {"selection": {"q": f"bench {i}", "status": ""}}, "done", 0, 0, coordinator.id,
                      [], now, now, now, "bench", 1, 0, {}, {"count": 0}, "") for i in range(JOBS - 1)])
        big = operations.queue_bulk(session, "bulk.export", select(Actor.id), coordinator,
                                    {"q": "", "status": "bench"}, [])
        big.status, big.done, big.result = "done", big.total, {"count": big.total}
        session.commit()
    return {"jobs_max": session.scalar(select(func.max(Job.id))),
            "job_big": session.scalar(select(func.max(Job.id)).where(Job.total > 0, Job.status == "done"))}


def forget_jobs(app, info: dict):
    """Delete the jobs a measured POST queued: the directory stays as it was."""
    from sqlalchemy import delete

    from repertoire.extensions import db
    from repertoire.models import Job, JobChunk, JobItem, JobNetwork
    with app.app_context():
        for model, column in ((JobItem, JobItem.job_id), (JobNetwork, JobNetwork.job_id),
                              (JobChunk, JobChunk.job_id), (Job, Job.id)):
            db.session.execute(delete(model).where(column > info["jobs_max"]))
        db.session.commit()


def pages(info: dict) -> list[dict]:
    """(label, method, url, role, N): role None is an anonymous visitor."""
    deep = max(1, info["total"] // 50 // 2)
    network_deep = max(1, info["network_scope"] // 50 // 2)
    slug = info["network_slug"]
    rows = [
    ("public", "search page (browse)", "/", None, 20),
    ("public", "search page (country + domain)", "/?intervention=Mali&domain=sante", None, 20),
    ("public", "statistics", "/statistiques", None, 10),
    ("public", "export.csv (domain)", "/export.csv?domain=sante", None, 3),
    ("public", "embed (domain)", "/embed?domain=sante", None, 20),
    ("public", "actor page", f"/acteurs/{info['actor_slug']}", None, 20),
    ("public", "actor page with partnerships (map)", f"/acteurs/{info['holder_slug']}", None, 20),
    ("public", "/api/actors (domain)", "/api/actors?domain=sante", None, 20),
    ("public", "search page (partnership filter)", "/?partnership=jumelage", None, 20),
    ("public", "partnerships page (browse)", "/partenariats", None, 20),
    ("public", "partnerships page (journey)", "/partenariats?kind=jumelage&country=IT&department=14&until=1969",
     None, 20),
    ("public", "/api/partnerships (country)", "/api/partnerships?country=ML", None, 20),
    ("back-office", "queue", "/moderation/", "coordinator", 10),
    ("back-office", "request", f"/moderation/demandes/{info['request']}", "coordinator", 10),
    ("back-office", "dashboard", "/moderation/tableau-de-bord", "coordinator", 10),
    ("back-office", "actors list, page 1", "/moderation/acteurs", "coordinator", 10),
    ("back-office", f"actors list, page {deep}", f"/moderation/acteurs?page={deep}", "coordinator", 10),
    ("back-office", "actors list by name", "/moderation/acteurs?sort=name&page=2", "coordinator", 10),
    ("back-office", "actors list by founded", "/moderation/acteurs?sort=founded", "coordinator", 10),
    ("back-office", "actors list by town", "/moderation/acteurs?sort=town", "coordinator", 10),
    ("back-office", "actors list by town, deep", "/moderation/acteurs?sort=town&status=published&page=1500",
     "coordinator", 10),
    ("back-office", "actors list, filtered", "/moderation/acteurs?status=published&q=solidarite",
     "coordinator", 10),
    ("back-office", "freshness", "/moderation/fraicheur", "coordinator", 10),
    ("back-office", "duplicates", "/moderation/doublons", "coordinator", 10),
    ("back-office", "duplicates, page 100 (past the count's cap)", "/moderation/doublons?page=100", "coordinator", 10),
    ("back-office", "taxonomy (with counts)", "/moderation/taxonomie", "coordinator", 10),
    ("back-office", "import page", "/moderation/import", "coordinator", 10),
    # issue 15 point 1: a file of more than IMPORT_BACKGROUND_ROWS rows is stored and its check queued (the POST),
    # then the job's progress page, then its report, paged; a small file's report is still made in the request
    ("back-office", f"import report ({IMPORT_SMALL} rows, in the request)", "POST /moderation/import",
     "coordinator", 5, {"csv": info["csv_small"]}),
    ("back-office", f"import POST ({IMPORT_ROWS} rows: stored, check queued)", "POST /moderation/import",
     "coordinator", 5),
    ("back-office", f"import check progress ({IMPORT_ROWS} rows, done)",
     f"/moderation/taches/{info[f'check_{IMPORT_ROWS}_job']}", "coordinator", 10),
    ("back-office", f"import report ({IMPORT_ROWS} rows), page 1",
     f"/moderation/import/rapport/{info[f'check_{IMPORT_ROWS}_report']}", "coordinator", 10),
    ("back-office", f"import report ({IMPORT_ROWS} rows), page 5",
     f"/moderation/import/rapport/{info[f'check_{IMPORT_ROWS}_report']}?page=5", "coordinator", 10),
    ("back-office", f"import report ({IMPORT_BIG} rows), page 1",
     f"/moderation/import/rapport/{info[f'check_{IMPORT_BIG}_report']}", "coordinator", 10),
    ("back-office", f"import report ({IMPORT_BIG} rows), page {IMPORT_BIG // 200}",
     f"/moderation/import/rapport/{info[f'check_{IMPORT_BIG}_report']}?page={IMPORT_BIG // 200}",
     "coordinator", 10),
    ("back-office", f"import report ({IMPORT_BIG} rows), duplicates only",
     f"/moderation/import/rapport/{info[f'check_{IMPORT_BIG}_report']}?etat=duplicate", "coordinator", 10),
    ("back-office", f"import check progress ({IMPORT_BIG} rows, done)",
     f"/moderation/taches/{info[f'check_{IMPORT_BIG}_job']}", "coordinator", 10),
    ("back-office", f"accounts ({ACCOUNTS + 2})", "/moderation/comptes", "admin", 10),
    ("back-office", "networks that moderate (admin)", "/moderation/reseaux", "admin", 10),
    ("back-office", "journal, newest", "/moderation/journal", "coordinator", 10),
    ("back-office", "journal, deep (keyset)", f"/moderation/journal?avant={info['audit_middle']}", "coordinator", 10),
    ("back-office", "journal by kind", "/moderation/journal?type=term.rename", "coordinator", 10),
    ("back-office", "journal by person, deep", f"/moderation/journal?personne={info['audit_user']}"
     f"&avant={info['audit_middle']}", "coordinator", 10),
    ("back-office", "journal by command line", "/moderation/journal?personne=cli", "coordinator", 10),
    ("back-office", "journal by network", "/moderation/journal?reseau=1", "coordinator", 10),
    ("back-office", "journal, one day a year ago", f"/moderation/journal?du={info['audit_day']}"
     f"&au={info['audit_day']}", "coordinator", 10),
    ("back-office", "journal, one day, by kind", f"/moderation/journal?du={info['audit_day']}"
     f"&au={info['audit_day']}&type=import", "coordinator", 10),
    ("back-office", "journal.csv (one kind, streamed)", "/moderation/journal.csv?type=term.rename",
     "coordinator", 3),
    ("back-office", "journal of a coordinator of 2 networks", "/moderation/journal", "networks2", 10),
    ("back-office", "journal of 2 networks, deep (keyset)", f"/moderation/journal?avant={info['audit_middle']}",
     "networks2", 10),
    ("back-office", "journal of 2 networks, by kind", "/moderation/journal?type=term.rename", "networks2", 10),
    ("back-office", f"history ({REVISIONS + 1} revisions)",
     f"/moderation/acteurs/{info['history_actor']}/historique", "coordinator", 10),
    # issue 15 point 1 / 16: the networks' public directories, and the back office of a network's coordinator
    ("networks", "networks list", "/reseaux/", None, 20),
    ("networks", "networks list, page 2", "/reseaux/?page=2", None, 20),
    ("networks", "network directory", f"/reseaux/{slug}/", None, 20),
    ("networks", "network directory (domain)", f"/reseaux/{slug}/?domain=sante", None, 20),
    ("networks", "network directory, not cached (signed in)", f"/reseaux/{slug}/?domain=sante", "network", 20),
    ("networks", "network statistics (map)", f"/reseaux/{slug}/statistiques", None, 10),
    ("networks", "network export.csv", f"/export.csv?network={slug}", None, 3),
    ("networks", "network export.json", f"/export.json?network={slug}", None, 3),
    ("network back-office", "network queue", "/moderation/", "network", 10),
    ("network back-office", "network request", f"/moderation/demandes/{info['network_request']}", "network", 10),
    ("network back-office", "network dashboard", "/moderation/tableau-de-bord", "network", 10),
    ("network back-office", "network actors list, page 1", "/moderation/acteurs", "network", 10),
    ("network back-office", f"network actors list, page {network_deep}",
     f"/moderation/acteurs?page={network_deep}", "network", 10),
    ("network back-office", "network actors list by founded", "/moderation/acteurs?sort=founded", "network", 10),
    ("network back-office", "network actors list, filtered", "/moderation/acteurs?status=published&q=solidarite",
     "network", 10),
    ("network back-office", "network duplicates", "/moderation/doublons", "network", 10),
    ("network back-office", "network duplicates, page 100 (past the count's cap)", "/moderation/doublons?page=100",
     "network", 10),
    ("network back-office", "network freshness", "/moderation/fraicheur", "network", 10),
    ("network back-office", "network actor history", f"/moderation/acteurs/{info['network_actor']}/historique",
     "network", 10),
    # issue 16 point 5: bulk actions' confirmation and queuing (each queued job deleted), the jobs' pages
    ("back-office", "bulk confirm archiver, all", "/moderation/acteurs/lot?action=archiver", "coordinator", 10),
    ("back-office", "bulk confirm exporter, all", "/moderation/acteurs/lot?action=exporter", "coordinator", 10),
    ("back-office", "bulk confirm reseau, all", "/moderation/acteurs/lot?action=reseau", "coordinator", 10),
    # Session 5: the network typed, looked up on submit (several: the list to choose from; one: queued)
    ("back-office", "bulk reseau POST name typed, several", "POST /moderation/acteurs/lot", "coordinator", 10,
     {"form": {"action": "reseau", "q": "", "status": "", "network_name": "solidarite"}}),
    ("back-office", "bulk reseau POST name typed, one", "POST /moderation/acteurs/lot", "coordinator", 10,
     {"form": {"action": "reseau", "q": "solidarite", "status": "published", "network_name": info["network_name"]}}),
    ("network back-office", "network bulk confirm reseau", "/moderation/acteurs/lot?action=reseau", "network", 10),
    ("back-office", "bulk confirm archiver, filtered",
     "/moderation/acteurs/lot?action=archiver&status=published&q=solidarite", "coordinator", 10),
    ("back-office", "bulk confirm exporter, filtered",
     "/moderation/acteurs/lot?action=exporter&status=published&q=solidarite", "coordinator", 10),
    ("back-office", "bulk queue POST archiver, all", "POST /moderation/acteurs/lot", "coordinator", 10,
     {"form": {"action": "archiver", "q": "", "status": ""}}),
    ("back-office", "bulk queue POST exporter, all", "POST /moderation/acteurs/lot", "coordinator", 10,
     {"form": {"action": "exporter", "q": "", "status": ""}}),
    ("back-office", "bulk queue POST archiver, filtered", "POST /moderation/acteurs/lot", "coordinator", 10,
     {"form": {"action": "archiver", "q": "solidarite", "status": "published"}}),
    ("back-office", f"jobs list ({JOBS} jobs)", "/moderation/taches", "coordinator", 10),
    ("back-office", "jobs list, deep page", f"/moderation/taches?page={JOBS // 50 // 2}", "coordinator", 10),
    ("back-office", "job progress (whole directory)", f"/moderation/taches/{info['job_big']}", "coordinator", 10),
    ]
    return [{**dict(zip(("group", "label", "url", "role", "n"), row[:5])), **(row[5] if len(row) > 5 else {})}
            for row in rows]


# -- one page, in a forked child ---------------------------------------------

def request_once(client, page: dict, info: dict, on_first_byte=None):
    """One request, read to its end: (status, bytes, ms to the first byte, ms in all)."""
    started = time.perf_counter()
    if page.get("form"):
        response = client.post(page["url"][5:], data=page["form"], buffered=False)
    elif page["url"].startswith("POST "):
        with open(page.get("csv") or info["csv"], "rb") as f:
            response = client.post(page["url"][5:], data={"file": (io.BytesIO(f.read()), "acteurs.csv")},
                                   content_type="multipart/form-data", buffered=False)
    else:
        response = client.get(page["url"], buffered=False)
    size, first = 0, None
    for chunk in response.iter_encoded():
        if first is None:
            first = (time.perf_counter() - started) * 1000
            if on_first_byte:
                on_first_byte(first)
        size += len(chunk)
    response.close()
    total = (time.perf_counter() - started) * 1000
    return response.status_code, size, first if first is not None else total, total


def login(client, email: str):
    response = client.post("/compte/connexion", data={"email": email, "password": PASSWORD})
    response.close()  # as a server does: what runs once a response has gone (web/memory.py) runs
    assert response.status_code == 302, f"login of {email}: {response.status_code}"


def child(app, page: dict, info: dict, budget: float, out):
    """Measure one page; each finished request is written at once, so a killed child loses only the last."""
    from repertoire.extensions import db
    with app.app_context():
        db.engine.dispose(close=False)  # the parent's connections stay the parent's
    client = app.test_client()
    if page["role"]:
        login(client, ROLES[page["role"]])
    started = time.perf_counter()
    count = 0
    def first_byte(ms):  # a download cut by the timeout still tells when it started
        out.write(json.dumps({"first_byte": ms}) + "\n")
        out.flush()

    if page.get("form"):  # the count the confirmation page shows, as a coordinator's browser sends it
        import re
        form = page["form"]
        html = client.get(f"/moderation/acteurs/lot?action={form['action']}&q={form['q']}&status={form['status']}")
        page = {**page, "form": {**form, "count": re.search(r'name="count" value="(\d+)"',
                                                             html.get_data(as_text=True)).group(1)}}
    while count < page["n"] + 1:
        cpu = time.thread_time()  # the app runs in this thread (SQLite too): its CPU time, whatever the load
        status, size, first, total = request_once(client, page, info, first_byte)
        cpu = (time.thread_time() - cpu) * 1000
        if page["url"].startswith("POST "):  # a queued bulk action or import check: deleted, never run
            forget_jobs(app, info)
        out.write(json.dumps({"status": status, "size": size, "first": first, "ms": total, "cpu": cpu}) + "\n")
        out.flush()
        count += 1
        if time.perf_counter() - started > budget and count >= 2:  # at least one warm request, always
            break


def measure(app, page: dict, info: dict, timeout: float, budget: float) -> dict:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        code = 0
        try:
            child(app, page, info, budget, os.fdopen(write_end, "w"))
        except BaseException as exc:  # noqa: BLE001 - reported by the parent
            print(f"{page['label']}: {exc!r}", file=sys.stderr)
            code = 1
        os._exit(code)
    os.close(write_end)
    reader = os.fdopen(read_end)
    results, first_bytes, timed_out = [], [], False
    deadline = time.monotonic() + timeout + 10  # + login and fork
    while True:
        ready, _, _ = select_fd.select([reader], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        line = reader.readline()
        if not line:
            break
        record = json.loads(line)
        if "first_byte" in record:
            first_bytes.append(record["first_byte"])
            continue
        results.append(record)
        deadline = time.monotonic() + timeout
    reader.close()
    os.waitpid(pid, 0)
    measured = results[1:] if len(results) > 1 else results  # the first request warms the caches
    return {**page, "timed_out": timed_out, "requests": len(results),
            "ms": [r["ms"] for r in measured], "first_byte": [r["first"] for r in measured],
            "cpu": [r["cpu"] for r in measured],
            "first_byte_any": first_bytes,
            "status": sorted({r["status"] for r in results}), "size": max((r["size"] for r in results), default=0)}


def worker(directory: str, seed: int, timeout: float, budget: float, only: list[str] | None):
    from repertoire import create_app
    app = create_app(config_for(directory))
    info = prepare(app, directory, seed)
    app.test_client().get("/api/actors")  # a running worker has its index open: the forked children share it
    results = []
    for page in pages(info):
        if only and not any(o in page["label"] or o in page["url"] for o in only):
            continue
        results.append(measure(app, page, info, timeout, budget))
        print(f"  {page['label']}: {fmt_page(results[-1], timeout)}", file=sys.stderr, flush=True)
    print(json.dumps({"info": info, "pages": results, "timeout": timeout}))


# -- the report ---------------------------------------------------------------

def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def ms(value: float) -> str:
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def size_text(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def fmt_page(result: dict, timeout: float) -> str:
    if not result["ms"]:
        return f"> {timeout:.0f} s" if result["timed_out"] else "failed"
    text = f"p50 {ms(statistics.median(result['ms']))}, p95 {ms(pct(result['ms'], 95))}, " \
           f"CPU p50 {ms(statistics.median(result['cpu']))}"
    return text + (f" then > {timeout:.0f} s" if result["timed_out"] else "")


def is_download(page: dict) -> bool:
    """An export or any .csv / .json file: streamed, so the wait a user feels is its first byte."""
    path = page["url"].split("?")[0]
    return "export" in page["label"] or path.endswith((".csv", ".json"))


def table(result: dict, size: int) -> list[str]:
    target = TARGETS.get(size, 200 if size <= 100_000 else 500)
    timeout = result["timeout"]
    info = result["info"]
    lines = [f"- pages: {info['pending']} open requests (half new entries, half claims), a third of the "
             f"published actors unconfirmed for 400 days, {ACCOUNTS + 2} accounts, "
             f"one actor with {REVISIONS + 1} revisions, a {IMPORT_ROWS}-row file (prepared in "
             f"{info['prepare_s']:.0f} s); one forked worker per page, logged in, one warm-up request then up to "
             f"N within a budget; a request over {timeout:.0f} s is killed",
             f"- networks: « {info['network_name']} » (`{info['network_slug']}`, {info['network_members']} members) "
             f"curates its territory ({', '.join(NETWORK_TERRITORY)}) and its members: {info['network_scope']} "
             f"actors in its scope, {info['network_pending']} open requests; its coordinator "
             f"(`{NETWORK_COORDINATOR}`) times the « network back-office » pages",
             "- CPU: the worker thread's CPU time for the request (the app and SQLite run in it), which a loaded "
             "machine does not inflate as it does the wall-clock p50/p95",
             "", f"| page | n | p50 | p95 | CPU p50 / p95 | size | status | target ≤ {target} ms | met? |",
             "|---|---|---|---|---|---|---|---|---|"]
    for page in result["pages"]:
        values = page["ms"]
        label = f"{page['label']} `{page['url']}`"
        status = "/".join(str(s) for s in page["status"]) or "—"
        if not values:
            failed = f"> {timeout:.0f} s" if page["timed_out"] else "failed (see stderr)"
            if page.get("first_byte_any"):
                failed += f" (first byte of the first request {ms(page['first_byte_any'][0])})"
            lines.append(f"| {label} | 0 | {failed} | {failed} | — | — | — | {target} ms | **no** |")
            continue
        p50, p95 = statistics.median(values), pct(values, 95)
        if is_download(page):
            p50_text = f"{ms(p50)} (first byte {ms(statistics.median(page['first_byte']))})"
            p95_text = f"{ms(p95)} (first byte {ms(pct(page['first_byte'], 95))})"
            met_value = pct(page["first_byte"], 95)  # a download is streamed: the wait is the first byte
        else:
            p50_text, p95_text, met_value = ms(p50), ms(p95), p95
        if page["timed_out"]:
            p95_text += f"; then > {timeout:.0f} s"
        met = "yes" if met_value <= target and not page["timed_out"] and page["status"] in ([200], [302]) \
            else "**no**"
        cpu = page.get("cpu")
        cpu_text = f"{ms(statistics.median(cpu))} / {ms(pct(cpu, 95))}" if cpu else "—"
        lines.append(f"| {label} | {len(values)} | {p50_text} | {p95_text} | {cpu_text} | {size_text(page['size'])} | "
                     f"{status} | {target} ms | {met} |")
    return lines


def run_pages(directory: str, seed: int, timeout: float, budget: float) -> dict:
    """The worker in its own process (like search.py's): returns its JSON."""
    out = subprocess.run([sys.executable, __file__, directory, "--seed", str(seed), "--timeout", str(timeout),
                          "--budget", str(budget)], stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Cut(BaseException):
    """Ends a profiled request that runs too long (a BaseException: the app's error handler lets it by)."""


def profile(directory: str, url: str, role: str, limit: float, show_all: bool = False, warm: bool = False):
    """One request under pyinstrument ("POST /moderation/import" uploads the prepared file), on a directory
    already prepared; cut after ``limit`` seconds. ``warm``: after one request unprofiled (templates compiled,
    caches filled), as the timed requests of a run are."""
    from pyinstrument import Profiler

    from repertoire import create_app
    app = create_app(config_for(directory))
    client = app.test_client()
    if role:
        login(client, ROLES[role])

    def cut(_signum, _frame):
        raise Cut()

    signal.signal(signal.SIGALRM, cut)
    if warm:
        request_once(client, {"url": url}, {"csv": f"{directory}/import-{IMPORT_ROWS}.csv"})
    profiler = Profiler()
    profiler.start()
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        prepared = {"csv": f"{directory}/import-{IMPORT_ROWS}.csv"}
        status, size, _first, _total = request_once(client, {"url": url}, prepared)
        print(f"{url}: {status}, {size} bytes", file=sys.stderr)
    except Cut:
        print(f"{url}: cut after {limit:.0f} s", file=sys.stderr)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=show_all))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="a directory made by bench/search.py --keep")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--timeout", type=float, default=60, help="seconds per request")
    parser.add_argument("--budget", type=float, default=20, help="seconds per page, then stop repeating")
    parser.add_argument("--only", nargs="*", help="pages whose label or URL contains one of these")
    parser.add_argument("--size", type=int, default=100_000, help="for the target in the table")
    parser.add_argument("--profile", metavar="URL", help="profile one request (on a directory already prepared)")
    parser.add_argument("--role", default="coordinator",
                        help="of the profiled request (admin, coordinator, network: a network's coordinator, "
                             "networks2: a coordinator of two networks, '')")
    parser.add_argument("--show-all", action="store_true", help="library frames too, in the profile")
    parser.add_argument("--limit", type=float, default=60, help="seconds, then the profiled request is cut")
    parser.add_argument("--warm", action="store_true", help="profile a second request, the first one unprofiled")
    args = parser.parse_args()
    if args.profile:
        profile(args.directory, args.profile, args.role, args.limit, args.show_all, args.warm)
        return
    worker(args.directory, args.seed, args.timeout, args.budget, args.only)


if __name__ == "__main__":
    main()
