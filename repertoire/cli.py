"""The ``repertoire`` command line (contract §3)."""
from __future__ import annotations

import getpass
import os
import secrets
import sys
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy import func, select

from . import backup, create_app, operations, search
from .operations import remind_owners
from .database import new_revision, upgrade_schema
from .extensions import db
from .generate import generate_actors
from .importing import check_and_import, check_import
from .interchange import parse_file, write_csv, write_json
from .web.transactions import unit_of_work
from .models import ROLES, Actor
from .serialize import actor_to_dict


class _Silent:
    def update(self, n):
        pass


@contextmanager
def progress(length: int, label: str):
    """A progress bar on a terminal (stderr), nothing otherwise."""
    if not sys.stderr.isatty():
        yield _Silent()
        return
    with click.progressbar(length=length, label=label, file=sys.stderr, width=36,
                           show_pos=True, show_eta=True) as bar:
        yield bar


@contextmanager
def index_progress():
    token = search.progress_bar.set(progress)
    try:
        yield
    finally:
        search.progress_bar.reset(token)


def published_actors():
    """All published actors as dicts, in name order, read in chunks."""
    last = None
    while True:
        query = select(Actor).where(Actor.status == "published").order_by(Actor.name_sort, Actor.id).limit(500)
        if last is not None:
            query = query.where((Actor.name_sort > last[0]) |
                                ((Actor.name_sort == last[0]) & (Actor.id > last[1])))
        chunk = db.session.scalars(query).all()
        if not chunk:
            return
        for actor in chunk:
            yield actor_to_dict(actor)
        last = (chunk[-1].name_sort, chunk[-1].id)
        db.session.expunge_all()


def load_file(parsed, dry_run: bool, label: str = "Import", source: str = ""):
    """Check every row of ``parsed``; unless ``dry_run`` or errors, import them all and commit."""
    processes = min(4, os.cpu_count() or 1)
    if dry_run:
        with progress(len(parsed.rows), "Vérification") as bar:
            return check_import(db.session, parsed, bar, processes=processes), None
    with progress(len(parsed.rows), label) as bar:
        check, summary = check_and_import(db.session, parsed, bar, processes=processes, source=source)
    if summary is None:
        db.session.rollback()
        return check, None
    with index_progress():
        db.session.commit()
    return check, summary


def register_commands(app):
    @app.cli.command("init")
    def init_command():
        """Crée ou met à jour la base de données et l'index (sans effet s'ils sont à jour)."""
        upgrade_schema()
        added = operations.ensure_default_taxonomy(db.session)
        db.session.commit()
        index = search.get_index()
        published = db.session.scalar(select(func.count()).select_from(Actor).where(Actor.status == "published"))
        if not index.is_current() or index.count() != published:
            with index_progress():
                search.reindex_all()
        search.apply_pending()
        click.echo(f"Base de données prête ({published} acteurs publiés, {added} termes de taxonomie ajoutés) ; "
                   f"index prêt dans {current_app.config['REPERTOIRE_INDEX_DIR']}.")

    @app.cli.group("db")
    def db_group():
        """Schéma de la base (migrations Alembic)."""

    @db_group.command("revision")
    @click.argument("message")
    def db_revision_command(message):
        """Écrit la migration suivante, déduite des modèles, dans repertoire/migrations/versions (à relire)."""
        script = new_revision(message)
        click.echo(f"Migration écrite : {script.path}")

    @app.cli.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Vérifie le fichier sans rien importer.")
    def import_command(file, dry_run):
        """Importe des acteurs depuis un fichier CSV (ou JSON) ; tout ou rien."""
        parsed = parse_file(file)
        if parsed.detected:
            click.echo(parsed.detected, err=True)  # stderr: stdout stays "line N: reason" or the summary
        check, summary = load_file(parsed, dry_run, source=os.path.basename(file))
        if not check.ok:
            for message in check.messages():
                click.echo(message)
            click.echo(f"{check.invalid_lines} ligne(s) invalide(s) sur {check.rows} : rien n'a été importé.",
                       err=True)
            sys.exit(1)
        if summary is None:
            click.echo(f"Vérification réussie : {check.rows} ligne(s) valide(s), {check.to_create} à créer, "
                       f"{check.to_update} à mettre à jour. Rien n'a été importé (--dry-run).")
            return
        click.echo(f"{summary.total} acteur(s) importé(s) et publié(s) : {summary.created} créé(s), "
                   f"{summary.updated} mis à jour, {summary.unchanged} inchangé(s).")

    @app.cli.command("export")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True))
    def export_command(file):
        """Exporte tous les acteurs publiés en CSV ou en JSON (selon l'extension ; « - » : CSV sur la sortie)."""
        if file != "-" and not file.lower().endswith((".csv", ".json")):
            raise click.BadParameter("le fichier doit finir par .csv ou .json", param_hint="FILE")
        writer = write_json if file.lower().endswith(".json") else write_csv
        if file == "-":
            writer(sys.stdout, published_actors())
            return
        with open(file, "w", encoding="utf-8", newline="") as stream:
            n = writer(stream, published_actors())
        click.echo(f"{n} acteur(s) exporté(s) dans {file}.")

    @app.cli.command("reindex")
    def reindex_command():
        """Reconstruit l'index de recherche à partir de la base de données."""
        with index_progress():
            n = search.reindex_all()
        click.echo(f"Index reconstruit : {n} acteur(s) publié(s).")

    @app.cli.group("index")
    def index_group():
        """Cohérence entre la base de données et l'index."""

    @index_group.command("sync")
    @click.option("--timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
                  help="Secondes d'attente si un autre processus écrit dans l'index.")
    def index_sync_command(timeout):
        """Applique à l'index de ce serveur les modifications du journal qu'il n'a pas encore ; code 1 si impossible."""
        try:
            with index_progress():
                n = search.apply_pending(timeout=timeout, strict=True)
        except search.IndexSyncError as exc:
            click.echo(f"Échec : {exc}", err=True)
            sys.exit(1)
        click.echo(f"{n} modification(s) appliquée(s) à l'index.")

    @index_group.command("check")
    def index_check_command():
        """Compare la base et l'index ; code de sortie 1 à la moindre différence."""
        problems = search.check_index()
        labels = {"missing": "publiés mais absents de l'index", "unpublished_in_index": "dans l'index sans être publiés",
                  "duplicated": "indexés plusieurs fois", "stale": "indexés dans une version périmée",
                  "pending_tasks": "tâches d'indexation en attente"}
        found = False
        for key, values in problems.items():
            if values:
                found = True
                shown = ", ".join(map(str, values[:20])) + (" …" if len(values) > 20 else "")
                click.echo(f"{labels[key]} : {len(values) if key != 'pending_tasks' else values[0]} ({shown})")
        if found:
            click.echo("La base et l'index diffèrent : lancez « repertoire index sync » ou « repertoire reindex ».",
                       err=True)
            sys.exit(1)
        click.echo("La base et l'index concordent.")

    @app.cli.group("duplicates")
    def duplicates_group():
        """Doublons probables enregistrés."""

    @duplicates_group.command("rebuild")
    def duplicates_rebuild_command():
        """Recalcule toutes les paires de doublons probables (bases existantes)."""
        count = db.session.scalar(select(func.count()).select_from(Actor))
        with progress(count, "Doublons") as bar:
            n = operations.rebuild_pairs(db.session, progress=bar.update)
        db.session.commit()
        click.echo(f"{n} paire(s) de doublons probables.")

    @app.cli.command("backup")
    @click.argument("directory", type=click.Path(file_okay=False))
    @click.option("--with-passwords", is_flag=True, help="Garde les empreintes des mots de passe.")
    def backup_command(directory, with_passwords):
        """Écrit un instantané cohérent de la base (tables en JSON, export des fiches, manifeste)."""
        folder = backup.backup(directory, with_passwords)
        click.echo(f"Sauvegarde écrite dans {folder}.")

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(exists=True, file_okay=False))
    @click.option("--force", is_flag=True, help="Remplace une base qui contient déjà des données.")
    def restore_command(source, force):
        """Restaure une sauvegarde dans cette instance, puis reconstruit l'index."""
        try:
            counts = backup.restore(source, force)
        except operations.OperationError as exc:
            raise click.ClickException(str(exc)) from None
        with index_progress():
            search.reindex_all()
        with progress(counts.get("actor", 0), "Doublons") as bar:
            operations.rebuild_pairs(db.session, progress=bar.update)  # pairs are not in a backup: found again
        db.session.commit()
        click.echo(f"Sauvegarde restaurée : {counts.get('actor', 0)} fiche(s), {counts.get('user_account', 0)} "
                   f"compte(s) ; index reconstruit.")

    @app.cli.command("generate")
    @click.argument("count", type=click.IntRange(min=0))
    @click.argument("file", type=click.Path(dir_okay=False, writable=True))
    @click.option("--seed", type=int, default=None, help="Graine du hasard (même graine, même fichier).")
    def generate_command(count, file, seed):
        """Écrit COUNT acteurs fictifs réalistes au format CSV du contrat."""
        with open(file, "w", encoding="utf-8", newline="") as stream, progress(count, "Génération") as bar:
            def rows():
                for row in generate_actors(count, seed):
                    bar.update(1)
                    yield row
            write_csv(stream, rows())
        click.echo(f"{count} acteur(s) fictif(s) écrit(s) dans {file}.")

    @app.cli.command("demo")
    @click.option("--generated", default=300, show_default=True, type=click.IntRange(min=0),
                  help="Nombre d'acteurs fictifs ajoutés aux acteurs réels.")
    @click.option("--if-empty", is_flag=True, help="Ne fait rien si l'annuaire contient déjà des acteurs.")
    def demo_command(generated, if_empty):
        """Charge l'annuaire de démonstration : acteurs réels et acteurs fictifs."""
        from .demo import demo_rows
        if if_empty and db.session.scalar(select(func.count()).select_from(Actor)):
            click.echo("L'annuaire contient déjà des acteurs : démonstration non chargée.")
            return
        check, summary = load_file(demo_rows(generated), dry_run=False, label="Démonstration")
        if not check.ok:  # the shipped data is valid; this guards against a broken taxonomy
            for message in check.messages():
                click.echo(message)
            sys.exit(1)
        click.echo(f"Démonstration chargée : {summary.created} acteur(s) créé(s), "
                   f"{summary.updated} mis à jour, {summary.unchanged} inchangé(s).")

    @app.cli.command("remind")
    @click.option("--dry-run", is_flag=True, help="Affiche les rappels sans les envoyer.")
    def remind_command(dry_run):
        """Envoie aux responsables des fiches non confirmées depuis 12 mois un lien « toujours exacte »."""
        with unit_of_work():
            due, orphans = remind_owners(db.session, dry_run=dry_run)
        for actor in due if dry_run else ():
            click.echo(f"{actor.owner.email} : {actor.name}")
        verb = "à envoyer" if dry_run else "envoyé(s)"
        click.echo(f"{len(due)} rappel(s) {verb} ; {orphans} fiche(s) ancienne(s) sans responsable, "
                   f"à vérifier par l'équipe.")

    @app.cli.group("user")
    def user_group():
        """Gestion des comptes."""

    @user_group.command("create")
    @click.argument("email")
    @click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
    @click.option("--password", envvar="REPERTOIRE_PASSWORD",
                  help="Mot de passe (sinon demandé sur un terminal, ou tiré au hasard et affiché).")
    def user_create_command(email, role, password):
        """Crée un compte (member, coordinator ou admin)."""
        generated = False
        if not password:
            if sys.stdin.isatty():
                password = getpass.getpass("Mot de passe : ")
                if getpass.getpass("Confirmation : ") != password:
                    raise click.ClickException("les deux mots de passe diffèrent")
            else:
                password, generated = secrets.token_urlsafe(12), True
        try:
            user = operations.create_user(db.session, email, password, role)
        except operations.OperationError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"Compte créé : {user.email} ({user.role}).")
        if generated:
            click.echo(f"Mot de passe : {password}")


main = FlaskGroup(create_app=create_app, add_version_option=False,
                  help="Répertoire : annuaire des acteurs de la solidarité internationale.")
