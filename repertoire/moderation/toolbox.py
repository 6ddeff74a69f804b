"""Coordinators' toolbox: taxonomy, duplicates, imports, freshness, dashboard."""
import os
import re
import secrets
import time
from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from .. import actor_fields, import_report as reports, operations
from ..auth import role_required
from ..extensions import db
from ..files import private_dir, private_open, remove_older_than
from ..importing import apply_import, check_import, partial_possible
from ..interchange import parse_file
from ..web.templating import thousands
from ..partnerships_io import apply_partnerships, check_partnerships, is_partnerships_file, parse_partnerships
from ..models import Actor, ChangeRequest
from ..operations.duplicates import REASONS
from . import bp
from .forms import ConfirmForm, MergeTermForm, RenameForm, TermForm, UploadForm
from .paging import Page, paginate, requested_page
from .views import COORDINATORS, open_requests_count, FIELD_LABELS, check_scope, global_only
from ..operations import networks

TAXONOMY_TITLES = {"kind": _l("Types d'acteur"), "domain": _l("Domaines d'intervention"),
                   "activity": _l("Types d'activité")}


# -- taxonomy --------------------------------------------------------------

def get_term(name: str, term_id: int):
    model = operations.TAXONOMIES.get(name)
    term = db.session.get(model, term_id) if model else None
    if term is None:
        abort(404)
    return term


@bp.get("/taxonomie")
@role_required(*COORDINATORS)
def taxonomy():
    global_only()
    sections = []
    for name, model in operations.TAXONOMIES.items():
        terms = db.session.scalars(select(model).order_by(model.position, model.id)).all()
        merge_form = MergeTermForm()
        merge_form.target.choices = [(t.id, t.label) for t in terms if not t.retired]
        sections.append((name, TAXONOMY_TITLES[name], terms, operations.term_counts(db.session, name), merge_form))
    return render_template("moderation/taxonomy.html", sections=sections, add_form=TermForm(),
                           rename_form=RenameForm(), confirm_form=ConfirmForm())


@bp.post("/taxonomie/<name>/ajouter")
@role_required(*COORDINATORS)
def add_term(name: str):
    global_only()
    if name not in operations.TAXONOMIES:
        abort(404)
    form = TermForm()
    if form.validate_on_submit():
        try:
            term = operations.add_term(db.session, name, form.label.data, form.slug.data, form.label_en.data,
                                       user=current_user)
        except operations.OperationError as exc:
            flash(str(exc), "error")
        else:
            flash(_("« %(label)s » ajouté (code : %(slug)s).", label=term.label, slug=term.slug), "success")
    else:
        flash(" ".join(str(m) for ms in form.errors.values() for m in ms), "error")
    return redirect(url_for("moderation.taxonomy") + f"#{name}")


@bp.post("/taxonomie/<name>/<int(max=2147483647):term_id>/<action>")
@role_required(*COORDINATORS)
def change_term(name: str, term_id: int, action: str):
    global_only()
    term = get_term(name, term_id)
    try:
        if action == "renommer":
            form = RenameForm()
            if not form.validate_on_submit():
                raise operations.OperationError(_("Indiquez un libellé."))
            operations.rename_term(db.session, name, term, form.label.data, form.label_en.data, user=current_user)
            message = _("Libellé modifié ; le code « %(slug)s » ne change pas.", slug=term.slug)
        elif action in ("monter", "descendre"):
            if not ConfirmForm().validate_on_submit():
                abort(400)
            operations.move_term(db.session, name, term, -1 if action == "monter" else 1, user=current_user)
            message = _("Ordre modifié.")
        elif action in ("retirer", "retablir"):
            if not ConfirmForm().validate_on_submit():
                abort(400)
            operations.set_retired(db.session, name, term, action == "retirer", user=current_user)
            message = _("« %(label)s » n'est plus proposé dans les formulaires.", label=term.label) \
                if action == "retirer" else _("« %(label)s » est de nouveau proposé.", label=term.label)
        elif action == "fusionner":
            form = MergeTermForm()
            target = get_term(name, form.target.data or 0) if form.validate_on_submit() else None
            if target is None:
                abort(400)
            moved = operations.merge_terms(db.session, name, term, target, current_user)
            message = ngettext("« %(source)s » fusionné dans « %(target)s » : %(num)d fiche déplacée.",
                               "« %(source)s » fusionné dans « %(target)s » : %(num)d fiches déplacées.",
                               moved, source=term.label, target=target.label)
        else:
            abort(404)
    except operations.OperationError as exc:
        flash(str(exc), "error")
    else:
        flash(message, "success")
    return redirect(url_for("moderation.taxonomy") + f"#{name}")


# -- duplicates ------------------------------------------------------------

PER_PAGE = 50

@bp.get("/doublons")
@role_required(*COORDINATORS)
def duplicates():
    page = requested_page()
    within = networks.scoped_actor_ids(db.session, current_user)
    cap = operations.count_cap()
    total = operations.duplicate_count(db.session, within, cap)  # counted up to cap + 1
    if total <= cap:  # counted: the last page is known
        pages = max(1, -(-total // PER_PAGE))
        if page > pages:
            abort(404)
        pairs = operations.duplicate_pairs(db.session, page, PER_PAGE, within, total, cap)
        more = page < pages
    else:  # more than cap: a page is real if it holds a pair, and has a next one if a pair is left after it
        pages = None
        pairs = operations.duplicate_pairs(db.session, page, PER_PAGE, within, total, cap, one_more=True)
        more = len(pairs) > PER_PAGE
        pairs = pairs[:PER_PAGE]
        if not pairs and page > 1:
            abort(404)
    return render_template("moderation/duplicates.html", pairs=pairs, form=ConfirmForm(), page=page, pages=pages,
                           more=more, total=total, cap=cap, pending=operations.pending_count(db.session, within, cap))


def get_pair(a_id: int, b_id: int):
    a, b = db.session.get(Actor, a_id), db.session.get(Actor, b_id)
    if a is None or b is None or a.id == b.id:
        abort(404)
    check_scope(a.id)
    check_scope(b.id)
    return a, b


@bp.post("/doublons/<int(max=2147483647):a_id>/<int(max=2147483647):b_id>/ignorer")
@role_required(*COORDINATORS)
def dismiss_duplicate(a_id: int, b_id: int):
    a, b = get_pair(a_id, b_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operations.dismiss_pair(db.session, a, b, current_user)
    flash(_("C'est noté : « %(a)s » et « %(b)s » ne seront plus proposés comme doublons.", a=a.name, b=b.name),
          "success")
    return redirect(url_for("moderation.duplicates"))


@bp.route("/doublons/<int(max=2147483647):a_id>/<int(max=2147483647):b_id>", methods=["GET", "POST"])
@role_required(*COORDINATORS)
def merge_duplicate(a_id: int, b_id: int):
    a, b = get_pair(a_id, b_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        keep, drop = (a, b) if request.form.get("keep", "a") == "a" else (b, a)
        choices = {}
        for field in actor_fields.MERGEABLE:
            choice = request.form.get(f"choice-{field}", "a")
            choices[field] = "both" if choice == "both" else ("keep" if (choice == "a") == (keep is a) else "drop")
        shown = {side: request.form.get(f"version-{side}", "") for side in "ab"}
        shown = {side: int(v) if v.isdigit() and len(v) < 19 else None for side, v in shown.items()}
        versions = (shown["a"], shown["b"]) if keep is a else (shown["b"], shown["a"])
        try:
            operations.merge_actors(db.session, keep, drop, choices, current_user, versions)
        except operations.EditConflict:
            db.session.rollback()
            flash(_("Une des deux fiches a été modifiée depuis l'ouverture de cette page : rien n'a été "
                    "fusionné. Vérifiez les valeurs ci-dessous, puis fusionnez de nouveau."), "error")
        except operations.OperationError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Fiches fusionnées. L'ancienne adresse de « %(name)s » mène désormais ici.", name=drop.name),
                  "success")
            return redirect(url_for("moderation.edit_actor", actor_id=keep.id))
    values = {"a": operations.actor_snapshot(a), "b": operations.actor_snapshot(b)}
    versions = {"a": operations.actor_version(db.session, a), "b": operations.actor_version(db.session, b)}
    return render_template("moderation/merge.html", a=a, b=b, values=values, versions=versions,
                           fields=actor_fields.MERGEABLE, list_fields=actor_fields.LIST_FIELDS, form=form,
                           field_labels=FIELD_LABELS)


# -- import and export -----------------------------------------------------

def upload_dir() -> str:
    """The private folder of uploaded files, rid of those checked but never confirmed in time (not those whose
    check, a job, is waiting or running)."""
    folder = private_dir(os.path.join(current_app.instance_path, "uploads"))
    remove_older_than(folder, current_app.config["UPLOAD_MAX_AGE"], keep=reports.checked_uploads(db.session))
    return folder


_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}(\.partenariats)?\.(csv|json|xlsx)")
PARTNERSHIPS = ".partenariats"  # in a token: the uploaded file is a partnerships file (contract §5)
REFUSED = reports.REFUSED


def _parse(path: str):
    # a `motif` column is the one our download of refused rows adds: ignored when the file comes back
    if PARTNERSHIPS in os.path.basename(path):
        with open(path, "rb") as f:
            return parse_partnerships(f.read(), path, drop=("motif",))
    return parse_file(path, drop=("motif",))


def _partnerships_report(check, parsed, token, filename, status=200):
    return render_template("moderation/import_partnerships_report.html", check=check, token=token,
                           filename=filename, detected=parsed.detected, confirm_form=ConfirmForm()), status


_verdict = reports.verdict


def _report(check, parsed, token, filename, status=200):
    """The import report, every row in it, kept (for its other pages) beside the uploaded files; with
    refused rows beside valid ones, keeps the refused rows for download."""
    if check.valid and not check.outcomes:  # checked again before importing: say what each row does
        check = check_import(db.session, parsed, rows=True)
    report = reports.report_document(parsed, check, token, filename, current_user.id)
    return _show_report(report, reports.write_report(report), status)


REPORT_PER_PAGE, ROW_STATES = reports.PER_PAGE, reports.STATES


@dataclass
class ReportPage(Page):
    report: str = ""
    state: str = ""

    def url(self, number: int) -> str:
        return url_for("moderation.import_report", name=self.report, page=number, etat=self.state or None)


def _show_report(report: dict, name: str, status: int = 200):
    """One page of a report's rows (all, or those of one state), with its counts: from the report just made
    (its rows in memory), or read from the stored report's page only."""
    state = request.args.get("etat", "")
    state = state if state in ROW_STATES else ""
    counts = {**dict.fromkeys(ROW_STATES, 0), **report["counts"]}
    total = counts[state] if state else sum(counts.values())
    number = requested_page()
    pages = max(1, -(-total // REPORT_PER_PAGE))
    if number > pages:
        abort(404)
    if "rows" in report:
        shown = [row for row in report["rows"] if row[1] == state] if state else report["rows"]
        window = shown[(number - 1) * REPORT_PER_PAGE:number * REPORT_PER_PAGE]
    else:
        window = reports.report_page(name, report, state, number)
    ids = {i for row in window if row[1] == "duplicate" for i, _why in row[3]}
    actors = {a.id: a for a in db.session.execute(select(Actor.id, Actor.name, Actor.town)
                                                   .where(Actor.id.in_(ids)))} if ids else {}
    paged = ReportPage(rows=window, total=total, number=number, pages=pages, report=name, state=state)
    # labels translated once, not once a row (lazy strings look the catalogue up at each use)
    return render_template("moderation/import_report.html", report=report, counts=counts, paged=paged,
                           actors=actors, reasons={k: str(v) for k, v in REASONS.items()},
                           field_labels={k: str(v) for k, v in FIELD_LABELS.items()},
                           confirm_form=ConfirmForm()), status


@bp.get("/import/rapport/<name>")
@role_required(*COORDINATORS)
def import_report(name: str):
    global_only()
    upload_dir()  # rid of old files
    report = reports.read_report(name) if re.fullmatch(r"[A-Za-z0-9_-]{22}", name) else None
    if report is None or report.get("user") != current_user.id:  # another coordinator's report is not found
        abort(404)
    return _show_report(report, name)


@bp.route("/import", methods=["GET", "POST"])
@role_required(*COORDINATORS)
def import_file():
    global_only()
    folder = upload_dir()
    form = UploadForm()
    if form.validate_on_submit():
        filename = form.file.data.filename
        extension = os.path.splitext(filename.lower())[1]
        extension = extension if extension in (".json", ".xlsx") else ".csv"
        data = form.file.data.read()
        partnerships = form.kind.data == "partnerships" or (
            form.kind.data == "auto" and is_partnerships_file(data, "file" + extension))
        token = secrets.token_urlsafe(16) + (PARTNERSHIPS if partnerships else "") + extension
        path = os.path.join(folder, token)
        with private_open(path, "wb") as f:
            f.write(data)
        parsed = _parse(path)
        if partnerships:  # all or nothing: a holder's rows replace its partnerships, a partial file would drop some
            check = check_partnerships(db.session, parsed)
            if not check.ok:
                os.remove(path)
                token = None
            return _partnerships_report(check, parsed, token, filename, 200 if token else 400)
        if len(parsed.rows) > current_app.config["IMPORT_BACKGROUND_ROWS"]:
            # too long for a request: checked by a job, whose page leads to the report
            job = reports.queue_check(db.session, path, token, filename, len(parsed.rows), current_user)
            return redirect(url_for("moderation.job_detail", job_id=job.id))
        check = check_import(db.session, parsed, rows=True)
        if not check.ok and not partial_possible(parsed, check):
            os.remove(path)
            token = None
        return _report(check, parsed, token, filename, 200 if token else 400)
    refused = request.args.get("refusees", "")
    if not (_TOKEN.fullmatch(refused) and os.path.exists(os.path.join(upload_dir(), refused + REFUSED))):
        refused = None
    return render_template("moderation/import.html", form=form, refused=refused), \
        (400 if form.is_submitted() else 200)


def _claim(token: str):
    """Take the uploaded file away from any other request: (its path, where it is now), or None if gone."""
    if not _TOKEN.fullmatch(token):
        return None
    path = os.path.join(upload_dir(), token)
    claimed = os.path.join(upload_dir(), f"claimed-{secrets.token_hex(8)}-{token}")
    try:
        os.rename(path, claimed)  # atomic: of two confirmations at once, one gets the file
    except FileNotFoundError:
        return None
    return path, claimed


def _import_uploaded(token: str, valid_only: bool):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not _TOKEN.fullmatch(token):  # only names made by import_file: no "..", no folder
        abort(404)
    paths = _claim(token)
    if paths is None:
        flash(_("Ce fichier n'est plus disponible : envoyez-le de nouveau."), "error")
        return redirect(url_for("moderation.import_file"))
    path, claimed = paths
    if PARTNERSHIPS in token:
        return _import_partnerships(token, valid_only, path, claimed)
    try:
        parsed = _parse(claimed)
        if len(parsed.rows) > current_app.config["IMPORT_BACKGROUND_ROWS"]:
            # too long for a request: checked again and imported by a job, all or nothing, as here
            job = reports.queue_import(db.session, os.path.basename(claimed), token, len(parsed.rows), valid_only,
                                       request.form.get("verdict", ""), current_user)
            db.session.commit()
            return redirect(url_for("moderation.job_detail", job_id=job.id))
        check = check_import(db.session, parsed)  # the directory may have changed since the report
        if valid_only:
            if not partial_possible(parsed, check) or request.form.get("verdict") != _verdict(check):
                os.rename(claimed, path)
                flash(_("Le fichier ne donne plus le même résultat qu'au moment du rapport : vérifiez-le "
                        "de nouveau ci-dessous."), "error")
                return _report(check, parsed, token, token, 409)
        elif not check.ok:
            os.remove(claimed)
            return _report(check, parsed, None, token, 400)
        summary = apply_import(db.session, check, valid_only=valid_only, user=current_user,
                               source=token)
        db.session.commit()
    except BaseException:
        if os.path.exists(claimed):
            os.rename(claimed, path)  # nothing imported: the file may be confirmed again
        raise
    os.remove(claimed)
    flash(_("Import terminé : %(created)s, %(updated)s, %(unchanged)s.",
            created=ngettext("%(num)d fiche créée", "%(num)d fiches créées", summary.created),
            updated=ngettext("%(num)d mise à jour", "%(num)d mises à jour", summary.updated),
            unchanged=ngettext("%(num)d inchangée", "%(num)d inchangées", summary.unchanged)), "success")
    left = _drain_duplicates()
    if left:
        flash(_pending_message(left), "success")
    if valid_only:
        flash(ngettext("%(num)d ligne refusée n'a pas été importée : téléchargez-la pour la corriger.",
                       "%(num)d lignes refusées n'ont pas été importées : téléchargez-les pour les corriger.",
                       check.invalid_lines), "error")
        return redirect(url_for("moderation.import_file", refusees=token))
    return redirect(url_for("moderation.import_file"))


def _pending_message(left: int) -> str:
    cap = operations.count_cap()
    if left > cap:
        return ngettext("Plus de %(limit)s fiche reste à comparer aux autres pour trouver ses doublons probables : la "
                        "liste des doublons sera complète à la fin de « repertoire duplicates refresh », à lancer sur "
                        "le serveur.", "Plus de %(limit)s fiches restent à comparer aux autres pour trouver leurs "
                        "doublons probables : la liste des doublons sera complète à la fin de « repertoire "
                        "duplicates refresh », à lancer sur le serveur.", cap, limit=thousands(cap))
    return ngettext("%(num)d fiche reste à comparer aux autres pour trouver ses doublons probables : la liste des "
                    "doublons sera complète à la fin de « repertoire duplicates refresh », à lancer sur le serveur.",
                    "%(num)d fiches restent à comparer aux autres pour trouver leurs doublons probables : la liste "
                    "des doublons sera complète à la fin de « repertoire duplicates refresh », à lancer sur le "
                    "serveur.", left)


def _drain_duplicates() -> int:
    """After an import's commit, compare the actors it left pending, a committed chunk at a time, for at most
    DUPLICATES_DRAIN_SECONDS (a request stopped half-way leaves the rest pending); return how many remain."""
    deadline = time.monotonic() + current_app.config["DUPLICATES_DRAIN_SECONDS"]
    try:
        while time.monotonic() < deadline and operations.drain_pending(db.session):
            db.session.commit()
    except Exception:  # the import is committed: what is left stays pending, for the command
        db.session.rollback()
        current_app.logger.exception("duplicate drain after an import")
    left = operations.pending_count(db.session, cap=operations.count_cap())
    db.session.commit()
    return left


def _import_partnerships(token: str, valid_only: bool, path: str, claimed: str):
    if valid_only:
        os.rename(claimed, path)
        abort(404)
    try:
        parsed = _parse(claimed)
        check = check_partnerships(db.session, parsed, lock=True)  # the directory may have changed since the report
        if not check.ok:
            os.remove(claimed)
            return _partnerships_report(check, parsed, None, token, 400)
        summary = apply_partnerships(db.session, check)
        db.session.commit()
    except operations.OperationError as exc:  # a linked actor withdrawn between the check and the save
        db.session.rollback()
        os.rename(claimed, path)
        flash(_("Rien n'a été importé : %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("moderation.import_file"))
    except BaseException:
        if os.path.exists(claimed):
            os.rename(claimed, path)
        raise
    os.remove(claimed)
    left = _drain_duplicates()
    flash(ngettext("Import terminé : %(num)d partenariat importé ; fiches modifiées : %(updated)d, inchangées : "
                   "%(unchanged)d.", "Import terminé : %(num)d partenariats importés ; fiches modifiées : "
                   "%(updated)d, inchangées : %(unchanged)d.", summary.partnerships, updated=summary.updated,
                   unchanged=summary.unchanged), "success")
    if left:
        flash(_pending_message(left), "success")
    return redirect(url_for("moderation.import_file"))


@bp.post("/import/<token>")
@role_required(*COORDINATORS)
def confirm_import(token: str):
    global_only()
    return _import_uploaded(token, valid_only=False)


@bp.post("/import/<token>/valides")
@role_required(*COORDINATORS)
def import_valid_rows(token: str):
    global_only()
    return _import_uploaded(token, valid_only=True)


@bp.get("/import/<token>/refusees.csv")
@role_required(*COORDINATORS)
def refused_file(token: str):
    global_only()
    path = os.path.join(upload_dir(), token + REFUSED)
    if not _TOKEN.fullmatch(token) or not os.path.exists(path):
        abort(404)
    return send_file(path, mimetype="text/csv; charset=utf-8", as_attachment=True,
                     download_name="lignes-refusees.csv", max_age=0)


# -- freshness and dashboard -----------------------------------------------

@bp.get("/fraicheur")
@role_required(*COORDINATORS)
def freshness():
    ids = networks.network_ids_of(db.session, current_user)
    if ids:  # a network's: from its scope's rows, whatever the scope's size
        query = select(Actor).options(joinedload(Actor.owner), lazyload("*"))
        return render_template("moderation/freshness.html", paged=paginate(
            query, networks.scope_stale_count(db.session, ids), key=Actor.id, keyed=networks.scope_stale_keys(ids)))
    query = operations.stale_actors_query().options(joinedload(Actor.owner), lazyload("*"))
    return render_template("moderation/freshness.html",
                           paged=paginate(query, operations.stale_count(db.session), key=Actor.id))


@bp.get("/tableau-de-bord")
@role_required(*COORDINATORS)
def dashboard():
    ids = networks.network_ids_of(db.session, current_user)
    cap = operations.count_cap()  # the stale ones, the pairs and those still to compare: counted up to cap + 1
    if ids:  # a network's: counted over its scope's rows (copies of each actor's status and confirmation)
        counts = networks.scope_status_counts(db.session, ids)
        stale = networks.scope_stale_count(db.session, ids, cap=cap)
    else:
        counts = operations.status_counts(db.session)
        stale = operations.stale_count(db.session, cap=cap)
    queue = open_requests_count()
    within = networks.scoped_actor_ids(db.session, current_user)
    months = operations.submissions_per_month(db.session, within=within)
    return render_template("moderation/dashboard.html", counts=counts, queue=queue, stale=stale, months=months,
                           duplicates=operations.duplicate_count(db.session, within, cap),
                           pending=operations.pending_count(db.session, within, cap), cap=cap)
