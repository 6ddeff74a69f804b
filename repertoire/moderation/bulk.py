"""Confirmation pages before changes that touch many actors: merging or retiring a term, bulk actions on the
actors list (archive, add to a network, export), queued as jobs (``moderation/jobs.py`` shows them). Routes only;
rules in operations."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import select

from .. import operations
from ..auth import role_required
from .views import global_only
from ..extensions import db
from ..models import Actor
from ..operations import networks
from . import bp
from .forms import ConfirmForm
from .toolbox import get_term
from .views import COORDINATORS

BULK_ACTIONS = {"archiver": "bulk.archive", "reseau": "bulk.network", "exporter": "bulk.export"}  # form → job kind


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

def _selection() -> dict:
    """The selection's filters, as the actors list's (``operations.selection_ids``: counted, never listed)."""
    args = request.values
    return {"status": args.get("status", ""), "q": args.get("q", "").strip()}


NETWORKS_SHOWN = 20  # the busiest networks named on the confirmation page, the others counted


def _confirm_page(action: str, selection: dict, status: int = 200, typed: str = "",
                  lookup: operations.NetworkLookup | None = None, chosen: int | None = None):
    """The confirmation page: how many actors (counted), in which networks (up to
    ``IMPACT_NAMED_UP_TO`` actors). « Add to a network »: a network's coordinator picks one of theirs
    (a few radio buttons); anybody else types its name, looked up on submit (``lookup``: the matches)."""
    mine = networks.network_ids_of(db.session, current_user)
    told = operations.bulk_confirmation(db.session, selection, mine, NETWORKS_SHOWN)
    own = operations.network_choices(db.session, mine) if action == "reseau" and mine else []
    return render_template("moderation/confirm_bulk.html", action=action, selection=selection,
                           count=told["count"], impact=told["impact"], named_up_to=told["named_up_to"],
                           form=ConfirmForm(), own=own, restricted=bool(mine), typed=typed, lookup=lookup,
                           chosen=chosen), status


def _chosen_network(action: str, selection: dict):
    """The network the form designates, or the page to show instead (a choice to make, a French message).
    Any id is checked again when queued (``check_network``: published, a network); a network's coordinator's
    must be one of theirs."""
    mine = networks.network_ids_of(db.session, current_user)
    network_id = request.form.get("network", type=int)
    typed = request.form.get("network_name", "").strip()[:200]
    if mine:
        if not network_id:
            flash(_("Choisissez un réseau."), "error")
            return None, _confirm_page(action, selection, 400)
        if network_id not in mine:  # another network's id, forged in the form
            flash(_("Vous ne pouvez ajouter des fiches qu'à l'un de vos réseaux."), "error")
            return None, _confirm_page(action, selection, 400)
        return db.session.get(Actor, network_id), None
    if network_id and typed == request.form.get("looked_up", "").strip()[:200]:
        return db.session.get(Actor, network_id), None  # picked among the matches of the name typed
    if not typed:
        flash(_("Indiquez le nom du réseau."), "error")
        return None, _confirm_page(action, selection, 400)
    lookup = operations.find_networks(db.session, typed)
    if lookup.total == 1:
        return lookup.networks[0], None
    if not lookup.total:
        flash(_("Aucun réseau publié ne correspond à « %(name)s » : vérifiez le nom.", name=typed), "error")
        return None, _confirm_page(action, selection, 400, typed=typed)
    if lookup.total > len(lookup.networks):
        flash(ngettext("%(num)d réseau correspond à ce nom ; en voici %(shown)d : précisez le nom pour voir "
                       "les autres.", "%(num)d réseaux correspondent à ce nom ; en voici %(shown)d : précisez "
                       "le nom pour voir les autres.", lookup.total, shown=len(lookup.networks)), "info")
    else:
        flash(ngettext("%(num)d réseau correspond à ce nom : choisissez-le.",
                       "%(num)d réseaux correspondent à ce nom : choisissez le bon.", lookup.total), "info")
    return None, _confirm_page(action, selection, 200, typed=typed, lookup=lookup, chosen=network_id)


@bp.get("/acteurs/lot")
@role_required(*COORDINATORS)
def bulk():
    """The confirmation page; a network's coordinator acts on their networks' actors only (``selection_ids``)."""
    action = request.args.get("action", "")
    if action not in BULK_ACTIONS:
        abort(400)
    return _confirm_page(action, _selection())


@bp.post("/acteurs/lot")
@role_required(*COORDINATORS)
def bulk_apply():
    """Queue the confirmed action as a job on the selection as it is now, if it still has the number of actors
    confirmed; then show its progress."""
    action = request.form.get("action", "")
    if action not in BULK_ACTIONS or not ConfirmForm().validate_on_submit():
        abort(400)
    selection = _selection()
    confirmed = request.form.get("count", type=int)
    if confirmed is None or confirmed < 0:  # no count: not a form of the confirmation page
        abort(400)
    mine = networks.network_ids_of(db.session, current_user)
    network = None
    if action == "reseau":
        network, page = _chosen_network(action, selection)
        if page is not None:
            return page
    try:
        job = operations.queue_selection(db.session, BULK_ACTIONS[action], selection, current_user, mine, network,
                                         expected=confirmed)
    except operations.SelectionChanged:  # the list changed since the confirmation page
        db.session.rollback()
        flash(_("La sélection a changé depuis l'affichage : vérifiez-la de nouveau."), "error")
        return _confirm_page(action, selection, 409, typed=request.form.get("network_name", ""))
    except operations.OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _confirm_page(action, selection, 400, typed=request.form.get("network_name", ""))
    flash(ngettext("Tâche lancée sur %(num)d fiche.", "Tâche lancée sur %(num)d fiches.", job.total), "success")
    return redirect(url_for("moderation.job_detail", job_id=job.id))
