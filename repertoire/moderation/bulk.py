"""Confirmation pages before changes that touch many actors: merging or retiring a term, bulk actions on the
actors list (archive, add to a network, export). Routes only; rules in operations."""
from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import select

from .. import operations
from ..auth import role_required
from .views import global_only
from ..extensions import db
from ..interchange import iter_csv
from ..models import Actor, Kind
from ..serialize import actor_to_dict
from . import bp
from .forms import ConfirmForm
from .toolbox import get_term
from .views import COORDINATORS, filtered_actors

BULK_ACTIONS = ("archiver", "reseau", "exporter")


# -- taxonomy: merge or retire, impact first ---------------------------------

@bp.get("/taxonomie/<name>/<int(max=2147483647):term_id>/<any(fusionner, retirer):action>")
@role_required(*COORDINATORS)
def confirm_term(name: str, term_id: int, action: str):
    """How many actors and which networks the change touches; the merge's target is chosen here, never
    preselected."""
    global_only()  # shared with every network: for admins and coordinators bound to none
    term = get_term(name, term_id)
    model = operations.TAXONOMIES[name]
    targets = [t for t in db.session.scalars(select(model).order_by(model.position, model.id))
               if not t.retired and t.id != term.id]
    return render_template("moderation/confirm_term.html", term=term, name=name, action=action,
                           impact=operations.term_impact(db.session, name, term), targets=targets,
                           form=ConfirmForm())


# -- bulk actions on the actors list ------------------------------------------

def _selection() -> tuple[dict, list[int]]:
    args = request.values
    selection = {"status": args.get("status", ""), "q": args.get("q", "").strip()}
    ids = list(db.session.scalars(filtered_actors(**{"status": selection["status"], "text": selection["q"]})
                                  .with_only_columns(Actor.id).order_by(Actor.id)))
    return selection, ids


def _networks():
    reseau = select(Kind.id).where(Kind.slug == "reseau").scalar_subquery()
    return db.session.execute(select(Actor.id, Actor.name).where(Actor.kind_id == reseau,
                                                                 Actor.status == "published")
                              .order_by(Actor.name_sort)).all()


def _confirm_page(action: str, selection: dict, ids: list[int], status: int = 200):
    return render_template("moderation/confirm_bulk.html", action=action, selection=selection, count=len(ids),
                           impact=operations.selection_impact(db.session, ids), networks=_networks(),
                           form=ConfirmForm()), status


@bp.get("/acteurs/lot")
@role_required(*COORDINATORS)
def bulk():
    global_only()  # shared with every network: for admins and coordinators bound to none
    action = request.args.get("action", "")
    if action not in BULK_ACTIONS:
        abort(400)
    selection, ids = _selection()
    return _confirm_page(action, selection, ids)


@bp.post("/acteurs/lot")
@role_required(*COORDINATORS)
def bulk_apply():
    global_only()  # shared with every network: for admins and coordinators bound to none
    action = request.form.get("action", "")
    if action not in BULK_ACTIONS or not ConfirmForm().validate_on_submit():
        abort(400)
    selection, ids = _selection()
    if request.form.get("count", "") != str(len(ids)):  # the list changed since the confirmation page
        flash(_("La sélection a changé depuis l'affichage : vérifiez-la de nouveau."), "error")
        return _confirm_page(action, selection, ids, 409)
    if not ids:
        abort(400)
    if action == "exporter":
        operations.record_export(db.session, current_user, ids, selection)
        db.session.commit()  # recorded before anything leaves
        return Response(stream_with_context(iter_csv(_actor_dicts(ids), excel=True)),
                        mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="repertoire-selection.csv"'})
    try:
        if action == "archiver":
            event = operations.bulk_archive(db.session, ids, current_user, selection)
            done = event.after["archived"]
            message = ngettext("%(num)d fiche archivée.", "%(num)d fiches archivées.", done)
        else:
            network = db.session.get(Actor, request.form.get("network", type=int) or 0)
            if network is None:
                flash(_("Choisissez un réseau."), "error")
                return _confirm_page(action, selection, ids, 400)
            event = operations.bulk_add_to_network(db.session, ids, network, current_user, selection)
            done = event.after["added"]
            message = ngettext("%(num)d fiche ajoutée au réseau.", "%(num)d fiches ajoutées au réseau.", done)
    except operations.OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _confirm_page(action, selection, ids, 400)
    flash(message + " " + _("Vous pouvez annuler cette action depuis le journal."), "success")
    return redirect(url_for("moderation.journal_event", event_id=event.id))


def _actor_dicts(ids: list[int]):
    for start in range(0, len(ids), 500):
        for actor in db.session.scalars(select(Actor).where(Actor.id.in_(ids[start:start + 500])).order_by(Actor.id)):
            yield actor_to_dict(actor)
        db.session.expunge_all()
