"""Backups: a consistent snapshot of the whole database, and bringing a fresh instance back to it.

A backup is a folder: ``manifest.json``, one JSON-lines file per table (read in
one transaction, so the tables agree with each other), and ``actors.json``,
the published directory in the export format. Password hashes stay out unless
asked for; accounts restored without them must choose a new password. The
backup is private to its owner (folders 0700, files 0600): it holds accounts.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import DateTime, delete, func, select, text
from sqlalchemy.orm import Session

from .database import current_revision, upgrade_schema
from .extensions import db
from .files import DIR_MODE, private_dir, private_open
from .interchange import write_json
from .models import (Activity, Actor, ActorCountry, ActorTown, ChangeRequest, CuratingNetwork, Domain,
                     DuplicateDismissal, Kind, Membership, NetworkCoordinator, NetworkDepartment, NetworkLabel,
                     NoticeSetting, Partnership, PartnershipPartner, RequestNetwork, Revision, User, actor_activity,
                     actor_domain)
from .operations import OperationError
from .operations.networks import rebuild_scopes
from .serialize import actor_to_dict

FORMAT = 1
# Parents before children; the index (and its task list) is rebuilt, not saved.
TABLES = [Kind.__table__, Domain.__table__, Activity.__table__, User.__table__, Actor.__table__,
          ActorCountry.__table__, ActorTown.__table__, actor_domain, actor_activity, Partnership.__table__,
          PartnershipPartner.__table__, Membership.__table__, ChangeRequest.__table__,
          Revision.__table__, DuplicateDismissal.__table__]
# The networks' curation (who coordinates which network, its territory, its own labels, the requests routed to
# it): without them a restored network coordinator would curate everything (a coordinator bound to no network).
# A backup written before they were saved has no file for them: restored without (as before).
NETWORK_TABLES = [CuratingNetwork.__table__, NetworkDepartment.__table__, NetworkCoordinator.__table__,
                  NoticeSetting.__table__, NetworkLabel.__table__, RequestNetwork.__table__]
TABLES += NETWORK_TABLES
NO_PASSWORD = "!"  # matches no password: the account owner asks for a new one


def _encode(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value))


def backup(directory: str, with_passwords: bool = False) -> Path:
    """Write a snapshot under ``directory``; return its folder."""
    target = Path(directory) / f"repertoire-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    Path(directory).mkdir(parents=True, exist_ok=True)
    target.mkdir(mode=DIR_MODE)  # fails rather than mixing with another backup of the same second
    private_dir(target)
    private_dir(target / "tables")
    counts = {}
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            if connection.dialect.name == "sqlite":
                connection.execute(text("SELECT 1 FROM actor LIMIT 1"))  # the read transaction starts here
            revision = current_revision(connection)
            for table in TABLES:
                rows = connection.execute(select(table).order_by(*table.primary_key.columns)).mappings()
                counts[table.name] = 0
                with private_open(target / "tables" / f"{table.name}.jsonl", "w", encoding="utf-8") as f:
                    for row in rows:
                        row = dict(row)
                        if table is User.__table__ and not with_passwords:
                            row["password_hash"] = None
                        f.write(json.dumps(row, default=_encode, ensure_ascii=False) + "\n")
                        counts[table.name] += 1
            with Session(bind=connection) as session, private_open(target / "actors.json", "w", encoding="utf-8") as f:
                actors = session.scalars(select(Actor).where(Actor.status == "published").order_by(Actor.name_sort))
                write_json(f, (actor_to_dict(a) for a in actors))
    manifest = {"format": FORMAT, "schema": revision, "created_at": datetime.now(timezone.utc).isoformat(),
                "passwords": with_passwords, "tables": counts}
    with private_open(target / "manifest.json", "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, indent=2, ensure_ascii=False))
    return target


def restore(source: str, force: bool = False) -> dict:
    """Load a backup into this instance's database (empty unless ``force``); return the table counts."""
    folder = Path(source)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OperationError(f"{folder} n'est pas une sauvegarde de Répertoire ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise OperationError(f"format de sauvegarde inconnu : {manifest.get('format')}")
    upgrade_schema()
    with db.engine.begin() as connection:
        if current_revision(connection) != manifest["schema"]:
            raise OperationError(f"la sauvegarde vient du schéma {manifest['schema']} ; cette version est au "
                                 f"schéma {current_revision(connection)} : restaurez-la avec la même version")
        used = connection.execute(select(func.count()).select_from(Actor.__table__)).scalar() + \
            connection.execute(select(func.count()).select_from(User.__table__)).scalar()
        if used and not force:
            raise OperationError("la base de destination n'est pas vide (ajoutez --force pour la remplacer)")
        for table in reversed(TABLES + [db.metadata.tables["index_log"]]):
            connection.execute(delete(table))
        for table in TABLES:
            dates = [c.name for c in table.columns if isinstance(c.type, DateTime) or
                     isinstance(getattr(c.type, "impl", None), DateTime)]
            batch = []
            if table in NETWORK_TABLES and not (folder / "tables" / f"{table.name}.jsonl").exists():
                continue
            with open(folder / "tables" / f"{table.name}.jsonl", encoding="utf-8") as f:
                for line in f:
                    row = json.loads(line)
                    for name in dates:
                        if row.get(name):
                            row[name] = datetime.fromisoformat(row[name])
                    if table is User.__table__ and not row.get("password_hash"):
                        row["password_hash"] = NO_PASSWORD
                    batch.append(row)
                    if len(batch) >= 1000:
                        connection.execute(table.insert(), batch)
                        batch = []
            if batch:
                connection.execute(table.insert(), batch)
        if connection.dialect.name == "postgresql":
            for table in TABLES:
                if "id" in table.columns and table.columns["id"].autoincrement is not False:
                    connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                            f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"))
        rebuild_scopes(connection)  # the curating networks' scopes, from the restored actors and memberships
    return manifest["tables"]
