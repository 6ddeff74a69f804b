"""Admins: which networks curate their own entries, their territory and their coordinators."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import select

from .. import operations
from ..auth import role_required
from ..extensions import db
from ..geo import department_name, resolve_department
from ..models import Actor, CuratingNetwork
from ..operations import networks
from ..operations.network_labels import network_labels as network_labels_of, set_network_labels
from .toolbox import TAXONOMY_TITLES
from .views import COORDINATORS
from . import bp
from .forms import ConfirmForm, CoordinatorForm, NetworkForm, TerritoryForm


def get_curating(network_id: int) -> CuratingNetwork:
    curating = db.session.get(CuratingNetwork, network_id)
    if curating is None:
        abort(404)
    return curating


@bp.route("/reseaux", methods=["GET", "POST"])
@role_required("admin")
def networks_page():
    form = NetworkForm()
    if form.validate_on_submit():
        actor = db.session.scalar(select(Actor).where(Actor.slug == form.network.data.strip().lower()))
        if actor is None:
            form.network.errors.append(_("Aucune fiche n'a ce code."))
        else:
            try:
                networks.make_curating(db.session, actor, current_user)
            except operations.OperationError as exc:
                form.network.errors.append(str(exc))
            else:
                flash(_("« %(name)s » modère désormais ses fiches : indiquez son territoire et ses "
                        "coordinateurs.", name=actor.name), "success")
                return redirect(url_for("moderation.network_detail", network_id=actor.id))
    # sorted here: an ORDER BY actor.name_sort has SQLite walk that index over the whole directory (1,000,000
    # entries) to find the few curating networks
    curating = sorted(db.session.scalars(select(CuratingNetwork)).all(),
                      key=lambda network: (network.actor.name_sort, network.actor_id))
    return render_template("moderation/networks.html", curating=curating, form=form), \
        400 if form.is_submitted() and form.errors else 200


@bp.route("/reseaux/<int(max=2147483647):network_id>", methods=["GET", "POST"])
@role_required("admin")
def network_detail(network_id: int):
    curating = get_curating(network_id)
    territory = TerritoryForm(prefix="territory")
    coordinator = CoordinatorForm(prefix="coordinator")
    if request.method == "GET":
        territory.departments.data = " ".join(d.department for d in curating.departments)
    elif "territory-submit" in request.form and territory.validate_on_submit():
        words = territory.departments.data.replace(",", " ").replace(";", " ").split()
        codes = [resolve_department(word) for word in words]
        unknown = [word for word, code in zip(words, codes) if code is None]
        if unknown:
            territory.departments.errors.append(_("Départements inconnus : %(codes)s", codes=", ".join(unknown)))
        else:
            networks.set_territory(db.session, curating, codes, current_user)
            flash(_("Territoire enregistré."), "success")
            return redirect(url_for("moderation.network_detail", network_id=network_id))
    elif "coordinator-submit" in request.form and coordinator.validate_on_submit():
        try:
            user = networks.add_coordinator(db.session, curating, coordinator.email.data, current_user)
        except operations.OperationError as exc:
            db.session.rollback()  # the other admin's addition may have failed this flush
            coordinator.email.errors.append(str(exc))
        else:
            flash(_("%(email)s coordonne désormais ce réseau.", email=user.email), "success")
            return redirect(url_for("moderation.network_detail", network_id=network_id))
    elif "remove" in request.form and ConfirmForm().validate_on_submit():
        try:
            user = networks.remove_coordinator(db.session, curating, request.form.get("remove", type=int) or 0,
                                               current_user)
        except operations.OperationError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            if user.role == "member":
                flash(_("%(email)s ne coordonne plus ce réseau ; sans autre réseau, son compte redevient celui "
                        "d'un membre.", email=user.email), "success")
            else:
                flash(_("%(email)s ne coordonne plus ce réseau.", email=user.email), "success")
        return redirect(url_for("moderation.network_detail", network_id=network_id))
    elif request.method == "POST" and not (territory.errors or coordinator.errors):
        abort(400)
    status = 400 if territory.errors or coordinator.errors else 200
    return render_template("moderation/network.html", curating=curating, territory=territory,
                           coordinator=coordinator, confirm_form=ConfirmForm(),
                           department_name=department_name), status


@bp.route("/reseaux/<int(max=2147483647):network_id>/libelles", methods=["GET", "POST"])
@role_required(*COORDINATORS)
def network_labels(network_id: int):
    """A network's own taxonomy labels: for its coordinators, admins and coordinators bound to no network."""
    curating = get_curating(network_id)
    own = networks.network_ids_of(db.session, current_user)
    if own and network_id not in own:
        abort(404)  # another network's page does not exist for them
    terms = {name: db.session.scalars(select(model).where(model.retired.is_(False))
                                      .order_by(model.position, model.id)).all()
             for name, model in operations.TAXONOMIES.items()}
    form, status = ConfirmForm(), 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        wanted = {(name, term.id): (request.form.get(f"{name}-{term.id}", ""),
                                    request.form.get(f"{name}-{term.id}-en", ""))
                  for name, rows in terms.items() for term in rows}
        try:
            changed = set_network_labels(db.session, curating, wanted, current_user)
        except operations.OperationError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            status = 400
        else:
            flash(ngettext("%(num)d libellé enregistré.", "%(num)d libellés enregistrés.", changed) if changed
                  else _("Aucun libellé n'a changé."), "success")
            return redirect(url_for("moderation.network_labels", network_id=network_id))
    own_labels = {key: row for key, row in network_labels_of(db.session, network_id).items()}
    return render_template("moderation/network_labels.html", curating=curating, terms=terms, titles=TAXONOMY_TITLES,
                           own_labels=own_labels, form=form, values=request.form if status == 400 else None), status
