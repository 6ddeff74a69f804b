"""Coordinators' toolbox: taxonomy, duplicates, imports, freshness, dashboard."""
import os
import re
import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from .. import curation, operations
from ..auth import role_required
from ..extensions import db
from ..importing import apply_import, check_import
from ..interchange import parse_csv, parse_json
from ..models import Actor, ChangeRequest
from . import bp
from .forms import ConfirmForm, MergeTermForm, RenameForm, TermForm, UploadForm
from .views import COORDINATORS, FIELD_LABELS

TAXONOMY_TITLES = {"kind": _l("Types d'acteur"), "domain": _l("Domaines d'intervention"),
                   "activity": _l("Types d'activité")}


# -- taxonomy --------------------------------------------------------------

def get_term(name: str, term_id: int):
    model = curation.TAXONOMIES.get(name)
    term = db.session.get(model, term_id) if model else None
    if term is None:
        abort(404)
    return term


@bp.get("/taxonomie")
@role_required(*COORDINATORS)
def taxonomy():
    sections = []
    for name, model in curation.TAXONOMIES.items():
        terms = db.session.scalars(select(model).order_by(model.position, model.id)).all()
        merge_form = MergeTermForm()
        merge_form.target.choices = [(t.id, t.label) for t in terms if not t.retired]
        sections.append((name, TAXONOMY_TITLES[name], terms, curation.term_counts(db.session, name), merge_form))
    return render_template("moderation/taxonomy.html", sections=sections, add_form=TermForm(),
                           rename_form=RenameForm(), confirm_form=ConfirmForm())


@bp.post("/taxonomie/<name>/ajouter")
@role_required(*COORDINATORS)
def add_term(name: str):
    if name not in curation.TAXONOMIES:
        abort(404)
    form = TermForm()
    if form.validate_on_submit():
        try:
            term = curation.add_term(db.session, name, form.label.data, form.slug.data, form.label_en.data)
        except operations.OperationError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("« %(label)s » ajouté (code : %(slug)s).", label=term.label, slug=term.slug), "success")
    else:
        flash(" ".join(str(m) for ms in form.errors.values() for m in ms), "error")
    return redirect(url_for("moderation.taxonomy") + f"#{name}")


@bp.post("/taxonomie/<name>/<int(max=2147483647):term_id>/<action>")
@role_required(*COORDINATORS)
def change_term(name: str, term_id: int, action: str):
    term = get_term(name, term_id)
    try:
        if action == "renommer":
            form = RenameForm()
            if not form.validate_on_submit():
                raise operations.OperationError(_("Indiquez un libellé."))
            curation.rename_term(db.session, name, term, form.label.data, form.label_en.data)
            message = _("Libellé modifié ; le code « %(slug)s » ne change pas.", slug=term.slug)
        elif action in ("monter", "descendre"):
            if not ConfirmForm().validate_on_submit():
                abort(400)
            curation.move_term(db.session, name, term, -1 if action == "monter" else 1)
            message = _("Ordre modifié.")
        elif action in ("retirer", "retablir"):
            if not ConfirmForm().validate_on_submit():
                abort(400)
            curation.set_retired(db.session, name, term, action == "retirer")
            message = _("« %(label)s » n'est plus proposé dans les formulaires.", label=term.label) \
                if action == "retirer" else _("« %(label)s » est de nouveau proposé.", label=term.label)
        elif action == "fusionner":
            form = MergeTermForm()
            target = get_term(name, form.target.data or 0) if form.validate_on_submit() else None
            if target is None:
                abort(400)
            moved = curation.merge_terms(db.session, name, term, target, current_user)
            message = _("« %(source)s » fusionné dans « %(target)s » : %(n)d fiche(s) déplacée(s).",
                        source=term.label, target=target.label, n=moved)
        else:
            abort(404)
    except operations.OperationError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("moderation.taxonomy") + f"#{name}")


# -- duplicates ------------------------------------------------------------

@bp.get("/doublons")
@role_required(*COORDINATORS)
def duplicates():
    return render_template("moderation/duplicates.html", pairs=curation.duplicate_pairs(db.session),
                           form=ConfirmForm())


def get_pair(a_id: int, b_id: int):
    a, b = db.session.get(Actor, a_id), db.session.get(Actor, b_id)
    if a is None or b is None or a.id == b.id:
        abort(404)
    return a, b


@bp.post("/doublons/<int(max=2147483647):a_id>/<int(max=2147483647):b_id>/ignorer")
@role_required(*COORDINATORS)
def dismiss_duplicate(a_id: int, b_id: int):
    a, b = get_pair(a_id, b_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    curation.dismiss_pair(db.session, a, b, current_user)
    db.session.commit()
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
        for field in curation.MERGEABLE:
            choice = request.form.get(f"choice-{field}", "a")
            choices[field] = "both" if choice == "both" else ("keep" if (choice == "a") == (keep is a) else "drop")
        try:
            curation.merge_actors(db.session, keep, drop, choices, current_user)
        except operations.OperationError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Fiches fusionnées. L'ancienne adresse de « %(name)s » mène désormais ici.", name=drop.name),
                  "success")
            return redirect(url_for("moderation.edit_actor", actor_id=keep.id))
    values = {"a": operations.actor_snapshot(a), "b": operations.actor_snapshot(b)}
    return render_template("moderation/merge.html", a=a, b=b, values=values, fields=curation.MERGEABLE,
                           list_fields=curation.LIST_FIELDS, form=form, field_labels=FIELD_LABELS)


# -- import and export -----------------------------------------------------

UPLOAD_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}\.(csv|json)")


def upload_dir() -> str:
    folder = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(folder, exist_ok=True)
    return folder


def _parse(path: str):
    with open(path, "rb") as f:
        data = f.read()
    return parse_json(data) if path.endswith(".json") else parse_csv(data)


@bp.route("/import", methods=["GET", "POST"])
@role_required(*COORDINATORS)
def import_file():
    form = UploadForm()
    if form.validate_on_submit():
        extension = ".json" if form.file.data.filename.lower().endswith(".json") else ".csv"
        token = secrets.token_urlsafe(16)
        path = os.path.join(upload_dir(), token + extension)
        form.file.data.save(path)
        check = check_import(db.session, _parse(path))
        if not check.ok:
            os.remove(path)
        return render_template("moderation/import_report.html", check=check, token=token + extension,
                               filename=form.file.data.filename, confirm_form=ConfirmForm()), (200 if check.ok else 400)
    return render_template("moderation/import.html", form=form), (400 if form.is_submitted() else 200)


@bp.post("/import/<token>")
@role_required(*COORDINATORS)
def confirm_import(token: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not UPLOAD_TOKEN.fullmatch(token):  # only names made by import_file: no "..", no folder
        abort(404)
    name = token
    path = os.path.join(upload_dir(), name)
    if not os.path.isfile(path):
        flash(_("Ce fichier n'est plus disponible : envoyez-le de nouveau."), "error")
        return redirect(url_for("moderation.import_file"))
    check = check_import(db.session, _parse(path))  # the directory may have changed since the report
    if not check.ok:
        return render_template("moderation/import_report.html", check=check, token=None, filename=name,
                               confirm_form=ConfirmForm()), 400
    summary = apply_import(db.session, check)
    db.session.commit()
    os.remove(path)
    flash(_("Import terminé : %(created)d fiche(s) créée(s), %(updated)d mise(s) à jour, %(unchanged)d "
            "inchangée(s).", created=summary.created, updated=summary.updated, unchanged=summary.unchanged),
          "success")
    return redirect(url_for("moderation.import_file"))


# -- freshness and dashboard -----------------------------------------------

@bp.get("/fraicheur")
@role_required(*COORDINATORS)
def freshness():
    actors = list(curation.stale_actors(db.session))
    return render_template("moderation/freshness.html", actors=actors)


@bp.get("/tableau-de-bord")
@role_required(*COORDINATORS)
def dashboard():
    counts = {status: n for status, n in db.session.execute(select(Actor.status, func.count()).group_by(Actor.status))}
    queue = db.session.scalar(select(func.count()).select_from(ChangeRequest).where(ChangeRequest.status == "open"))
    stale = len(list(curation.stale_actors(db.session)))
    months = curation.submissions_per_month(db.session)
    return render_template("moderation/dashboard.html", counts=counts, queue=queue, stale=stale, months=months,
                           duplicates=len(curation.duplicate_pairs(db.session)))
