"""The ``repertoire`` command line (contract §3)."""
from __future__ import annotations

import getpass
import os
import secrets
import sys
from contextlib import contextmanager

import click
from flask import current_app
from flask_babel import gettext as _, ngettext
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
from .models import ROLES, Actor, User
from .serialize import actor_to_dict


def _load_summary(summary, actors: bool = False) -> str:
    """« 2 créés, 1 mis à jour, 0 inchangé » (« 2 acteurs créés… » with ``actors``)."""
    created = (ngettext("%(num)d acteur créé", "%(num)d acteurs créés", summary.created) if actors
               else ngettext("%(num)d créé", "%(num)d créés", summary.created))
    return ", ".join([created, ngettext("%(num)d mis à jour", "%(num)d mis à jour", summary.updated),
                      ngettext("%(num)d inchangé", "%(num)d inchangés", summary.unchanged)])


def _refuse(check):
    """Every bad line on stdout, the count on stderr, exit 1: nothing was imported."""
    for message in check.messages():
        click.echo(message)
    click.echo(ngettext("%(num)d ligne invalide sur %(rows)d : rien n'a été importé.",
                        "%(num)d lignes invalides sur %(rows)d : rien n'a été importé.",
                        check.invalid_lines, rows=check.rows), err=True)
    sys.exit(1)


def _valid_partnerships(n: int) -> str:
    return ngettext("%(num)d partenariat valide", "%(num)d partenariats valides", n)


def _holders(n: int) -> str:
    return ngettext("%(num)d fiche", "%(num)d fiches", n)


def _partner_links(linked: int, ambiguous: int) -> str:
    """« 3 partenaires reliés à une fiche de l'annuaire ; 1 laissé sans lien (plusieurs fiches de ce nom). »"""
    said = ngettext("%(num)d partenaire relié à une fiche de l'annuaire",
                    "%(num)d partenaires reliés à une fiche de l'annuaire", linked)
    if ambiguous:
        said += " ; " + ngettext("%(num)d laissé sans lien (plusieurs fiches de ce nom)",
                                 "%(num)d laissés sans lien (plusieurs fiches de ce nom)", ambiguous)
    return said + "."


def _entry_changes(updated: int, unchanged: int, planned: bool = False) -> str:
    """« 1 modifiée, 0 inchangée » (entries; « 1 à modifier » when ``planned``)."""
    return ", ".join([ngettext("%(num)d à modifier", "%(num)d à modifier", updated) if planned
                      else ngettext("%(num)d modifiée", "%(num)d modifiées", updated),
                      ngettext("%(num)d inchangée", "%(num)d inchangées", unchanged)])


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
    drain_after_commit()  # a big import left its duplicate pairs to find after its commit
    return check, summary


def drain_after_commit():
    """``drain_duplicates`` after a committed write: stopped (Ctrl-C, an error), it says what to run, and the write
    stands."""
    try:
        drain_duplicates()
    except (Exception, KeyboardInterrupt):
        db.session.rollback()
        click.echo(_("La recherche des doublons probables s'est interrompue (l'import est bien enregistré) : "
                     "lancez « repertoire duplicates refresh » pour la terminer."), err=True)


def drain_duplicates() -> int:
    """Compare every actor a big write left pending, a committed chunk at a time, with a progress bar; a process
    stopped half-way leaves the rest pending for the next run. Return how many actors were compared."""
    left = operations.pending_count(db.session)
    db.session.commit()
    done = 0
    if not left:
        return 0
    with progress(left, _("Comparaison des doublons")) as bar:
        while n := operations.drain_pending(db.session):
            db.session.commit()
            done += n
            bar.update(n)
    return done


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
            _refuse(check)
        if summary is None:
            click.echo(ngettext("Vérification réussie : %(num)d ligne valide, %(create)d à créer, %(update)d à mettre "
                                "à jour. Rien n'a été importé (--dry-run).",
                                "Vérification réussie : %(num)d lignes valides, %(create)d à créer, %(update)d à "
                                "mettre à jour. Rien n'a été importé (--dry-run).",
                                check.rows, create=check.to_create, update=check.to_update))
            return
        click.echo(ngettext("%(num)d acteur importé et publié", "%(num)d acteurs importés et publiés", summary.total)
                   + " : " + _load_summary(summary) + ".")

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
        click.echo(ngettext("%(num)d acteur exporté dans %(file)s.", "%(num)d acteurs exportés dans %(file)s.",
                            n, file=file))

    @app.cli.group("partnerships")
    def partnerships_group():
        """Partenariats, jumelages et coopérations (fichier du contrat, §5)."""

    @partnerships_group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Vérifie le fichier sans rien importer.")
    def partnerships_import_command(file, dry_run):
        """Importe des partenariats (CSV, .xlsx ou JSON) : les lignes d'une fiche remplacent ses partenariats ;
        tout ou rien."""
        from .partnerships_io import apply_partnerships, check_partnerships, parse_partnerships
        with open(file, "rb") as f:
            parsed = parse_partnerships(f.read(), file)
        if parsed.detected:
            click.echo(parsed.detected, err=True)
        with progress(len(parsed.rows), "Vérification") as bar:
            check = check_partnerships(db.session, parsed, bar, lock=not dry_run)
        if not check.ok:
            db.session.rollback()
            _refuse(check)
        rows = len(check.valid)
        click.echo(_partner_links(check.linked, check.ambiguous))
        if dry_run:
            db.session.rollback()
            click.echo(_("Vérification réussie : %(valid)s pour %(holders)s, %(changes)s. Rien n'a été importé "
                         "(--dry-run).", valid=_valid_partnerships(rows), holders=_holders(len(check.holders)),
                         changes=_entry_changes(check.to_update, check.unchanged, planned=True)))
            return
        try:
            with progress(rows, "Import") as bar:
                summary = apply_partnerships(db.session, check, bar)
        except operations.OperationError as exc:  # a linked actor withdrawn between the check and the save
            db.session.rollback()
            raise click.ClickException(_("Rien n'a été importé : %(reason)s", reason=str(exc))) from None
        with index_progress():
            db.session.commit()
        drain_after_commit()
        click.echo(_("%(imported)s pour %(holders)s : %(changes)s.",
                     imported=ngettext("%(num)d partenariat importé", "%(num)d partenariats importés",
                                       summary.partnerships),
                     holders=_holders(len(check.holders)),
                     changes=_entry_changes(summary.updated, summary.unchanged)))

    @partnerships_group.command("export")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True))
    def partnerships_export_command(file):
        """Exporte les partenariats des fiches publiées en CSV ou en JSON (selon l'extension ; « - » : CSV
        sur la sortie)."""
        from . import partnerships_io
        if file != "-" and not file.lower().endswith((".csv", ".json")):
            raise click.BadParameter("le fichier doit finir par .csv ou .json", param_hint="FILE")
        writer = partnerships_io.write_json if file.lower().endswith(".json") else partnerships_io.write_csv
        if file == "-":
            writer(sys.stdout, partnerships_io.published_partnerships(db.session))
            return
        with open(file, "w", encoding="utf-8", newline="") as stream:
            n = writer(stream, partnerships_io.published_partnerships(db.session))
        click.echo(ngettext("%(num)d partenariat exporté dans %(file)s.", "%(num)d partenariats exportés dans "
                            "%(file)s.", n, file=file))

    @app.cli.command("reindex")
    def reindex_command():
        """Reconstruit l'index de recherche à partir de la base de données."""
        with index_progress():
            n = search.reindex_all()
        click.echo(ngettext("Index reconstruit : %(num)d acteur publié.", "Index reconstruit : %(num)d acteurs publiés.",
                            n))

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
        click.echo(ngettext("%(num)d modification appliquée à l'index.", "%(num)d modifications appliquées à l'index.",
                            n))

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
        click.echo(ngettext("%(num)d paire de doublons probables.", "%(num)d paires de doublons probables.", n))

    @duplicates_group.command("refresh")
    def duplicates_refresh_command():
        """Compare les fiches qu'un gros import ou une action en lot a laissées en attente (reprend où il s'est arrêté)."""
        n = drain_duplicates()
        done = (ngettext("%(num)d fiche comparée", "%(num)d fiches comparées", n) if n
                else _("Aucune fiche ne restait à comparer"))
        click.echo(done + " ; "
                   + ngettext("%(num)d paire de doublons probables.", "%(num)d paires de doublons probables.",
                              operations.duplicate_count(db.session)))

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
        click.echo(_("Sauvegarde restaurée : %(actors)s, %(accounts)s ; index reconstruit.",
                     actors=ngettext("%(num)d fiche", "%(num)d fiches", counts.get("actor", 0)),
                     accounts=ngettext("%(num)d compte", "%(num)d comptes", counts.get("user_account", 0))))

    @app.cli.command("generate")
    @click.argument("count", type=click.IntRange(min=0))
    @click.argument("file", type=click.Path(dir_okay=False, writable=True))
    @click.option("--seed", type=int, default=None, help="Graine du hasard (même graine, même fichier).")
    def generate_command(count, file, seed):
        """Écrit COUNT acteurs fictifs réalistes au format CSV du contrat, et leurs partenariats dans
        FICHIER-partnerships.csv."""
        from . import partnerships_io
        from .generate import link_generated
        root, extension = os.path.splitext(file)
        other = f"{root}-partnerships{extension or '.csv'}"
        partnerships = []
        with open(file, "w", encoding="utf-8", newline="") as stream, progress(count, "Génération") as bar:
            def rows():
                actors = list(generate_actors(count, seed))
                allocator = operations.SlugAllocator()  # the slugs they get in an empty directory
                slugs = [allocator.allocate(row["name"], row["town"]) for row in actors]
                for (row, held), slug in zip(link_generated(actors, slugs, seed), slugs):
                    partnerships.extend({"actor": slug, **item} for item in held)
                    bar.update(1)
                    yield row
            write_csv(stream, rows())
        with open(other, "w", encoding="utf-8", newline="") as stream:
            partnerships_io.write_csv(stream, partnerships)
        click.echo(ngettext("%(num)d acteur fictif écrit dans %(file)s", "%(num)d acteurs fictifs écrits dans %(file)s",
                            count, file=file) + ", " + ngettext(
            "%(num)d partenariat dans %(file)s.", "%(num)d partenariats dans %(file)s.", len(partnerships), file=other))

    @app.cli.command("demo")
    @click.option("--generated", default=300, show_default=True, type=click.IntRange(min=0),
                  help="Nombre d'acteurs fictifs ajoutés aux acteurs réels.")
    @click.option("--if-empty", is_flag=True, help="Ne fait rien si l'annuaire contient déjà des acteurs.")
    def demo_command(generated, if_empty):
        """Charge l'annuaire de démonstration : acteurs réels et acteurs fictifs."""
        from .demo import demo_files
        from .partnerships_io import apply_partnerships, check_partnerships
        if if_empty and db.session.scalar(select(func.count()).select_from(Actor)):
            click.echo("L'annuaire contient déjà des acteurs : démonstration non chargée.")
            return
        actors, partnerships = demo_files(generated, db.session)
        check, summary = load_file(actors, dry_run=False, label="Démonstration")
        if check.ok:
            check = check_partnerships(db.session, partnerships)
        if not check.ok:  # the shipped data is valid; this guards against a broken taxonomy
            db.session.rollback()
            for message in check.messages():
                click.echo(message)
            sys.exit(1)
        with progress(len(partnerships.rows), "Partenariats") as bar:
            held = apply_partnerships(db.session, check, bar)
        with index_progress():
            db.session.commit()
        drain_after_commit()
        click.echo(_("Démonstration chargée : %(summary)s ; %(partnerships)s.", summary=_load_summary(summary, actors=True),
                     partnerships=ngettext("%(num)d partenariat", "%(num)d partenariats", held.partnerships)))
        from .demo import demo_networks
        production = current_app.config.get("REPERTOIRE_ENV") == "production"
        with unit_of_work():
            lines = demo_networks(db.session, accounts=not production)
        if production:
            click.echo(_("Réseaux de démonstration prêts, sans comptes : REPERTOIRE_ENV=production refuse les "
                         "comptes de démonstration (mots de passe publics)."))
        else:
            click.echo(_("Réseaux de démonstration (comptes locaux, mots de passe publics) :"))
        for line in lines:
            click.echo(f"  {line}")

    @app.cli.command("remind")
    @click.option("--dry-run", is_flag=True, help="Affiche les rappels sans les envoyer.")
    def remind_command(dry_run):
        """Envoie aux responsables des fiches non confirmées depuis 12 mois un lien « toujours exacte »."""
        with unit_of_work():
            due, orphans = remind_owners(db.session, dry_run=dry_run)
        for actor in due if dry_run else ():
            click.echo(f"{actor.owner.email} : {actor.name}")
        reminders = (ngettext("%(num)d rappel à envoyer", "%(num)d rappels à envoyer", len(due)) if dry_run
                     else ngettext("%(num)d rappel envoyé", "%(num)d rappels envoyés", len(due)))
        click.echo(reminders + " ; " + ngettext("%(num)d fiche ancienne sans responsable, à vérifier par l'équipe.",
                                               "%(num)d fiches anciennes sans responsable, à vérifier par l'équipe.",
                                               orphans))

    @app.cli.group("notify")
    def notify_group():
        """Courriels aux coordinateurs des réseaux."""

    @notify_group.command("digest")
    def notify_digest_command():
        """Envoie le résumé quotidien des nouvelles fiches aux coordinateurs qui l'ont choisi (pour cron)."""
        from .notices import send_digest
        from .operations.networks import coordinators_of
        from .models import CuratingNetwork
        network_ids = list(db.session.scalars(select(CuratingNetwork.actor_id)))
        users = [user.id for user in coordinators_of(db.session, network_ids, mode="daily")]
        db.session.rollback()
        sent = 0
        for user_id in users:  # one transaction per coordinator: a kill loses at most one digest, never doubles
            with unit_of_work():
                sent += bool(send_digest(db.session, db.session.get(User, user_id)))
        click.echo(f"{sent} résumé(s) envoyé(s) sur {len(users)} coordinateur(s) au résumé quotidien.")

    @app.cli.group("networks")
    def networks_group():
        """Réseaux qui modèrent leurs fiches."""

    @networks_group.command("rebuild")
    def networks_rebuild_command():
        """Recalcule le périmètre de chaque réseau qui modère (après une modification directe de la base)."""
        from .operations.networks import rebuild_scopes
        n = rebuild_scopes(db.session.connection())
        db.session.commit()
        click.echo(ngettext("Périmètres des réseaux qui modèrent recalculés : %(num)d fiche (comptée pour "
                            "chaque réseau qui la modère).",
                            "Périmètres des réseaux qui modèrent recalculés : %(num)d fiches (comptées pour "
                            "chaque réseau qui les modère).", n))

    @app.cli.group("jobs")
    def jobs_group():
        """Tâches de fond (actions en lot)."""

    @jobs_group.command("work")
    @click.option("--once", is_flag=True, help="S'arrête quand plus aucune tâche n'attend.")
    @click.option("--poll", default=2.0, show_default=True, help="Secondes entre deux regards sur la file.")
    def jobs_work_command(once, poll):
        """Exécute les tâches en attente (et reprend celles d'un travailleur arrêté), par lots validés un à un."""
        from .jobs import work
        done = work(once=once, poll=poll)
        click.echo(ngettext("%(num)d tâche exécutée.", "%(num)d tâches exécutées.", done) if done
                   else _("Aucune tâche en attente."))

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
