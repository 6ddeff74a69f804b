from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import actor_fields, operations
from ..auth import role_required
from ..extensions import db
from ..forms import ActorForm, form_data
from ..mail import external_url, in_language_of, send_mail
from ..partnership_display import diff_lines
from ..models import STATUSES, Actor, ChangeRequest, Revision, User
from ..notices import tell_owner_of_edit
from ..operations import networks
from ..text import fold_words
from ..validation import Vocabulary
from ..web.templating import FIELD_LABELS
from . import bp
from .forms import ConfirmForm, RejectForm, RoleForm
from .paging import paginate

COORDINATORS = ("coordinator", "admin")


@bp.app_template_global()
def link_diff(fieldname: str, old, new) -> list[tuple[str, str]]:
    """The readable lines of a change of partnerships or networks (see ``partnership_display``)."""
    slugs = {m["network"] for m in [*(old or []), *(new or [])]} if fieldname == "networks" else set()
    names = {slug: name for slug, name in db.session.execute(
        select(Actor.slug, Actor.name).where(Actor.slug.in_(sorted(slugs))))} if slugs else {}
    return diff_lines(fieldname, old, new, names)


def scoped(query, column):
    """``query`` restricted to the actors the current user curates (``column`` holds an actor id)."""
    ids = networks.scoped_actor_ids(db.session, current_user)
    return query if ids is None else query.where(column.in_(ids))


def check_scope(actor_id: int):
    """An actor outside the current user's networks does not exist for them."""
    if not networks.curates(db.session, current_user, actor_id):
        abort(404)


def scoped_requests(query):
    """``query`` (of ``ChangeRequest``) restricted to the requests the current user decides: about the actors
    they curate, or asking to join one of their networks."""
    ids = networks.network_ids_of(db.session, current_user)
    return query if not ids else query.where(networks.request_scope(ids))


def global_only():
    """Shared matters (taxonomy, imports) are for admins and coordinators attached to no network."""
    if networks.network_ids_of(db.session, current_user):
        abort(403)


@bp.app_context_processor
def network_scope():
    return {"bound_to_networks": lambda: bool(networks.network_ids_of(db.session, current_user)),
            "own_networks": lambda: db.session.execute(select(Actor.id, Actor.name).where(Actor.id.in_(
                networks.network_ids_of(db.session, current_user))).order_by(Actor.name_sort)).all()}


def open_requests_count() -> int:
    return db.session.scalar(scoped_requests(select(func.count()).select_from(ChangeRequest)
                                             .where(ChangeRequest.status == "open")))


@bp.get("/")
@role_required(*COORDINATORS)
def queue():
    # the row shows the actor's name and the member's address: loaded in the same query, without the
    # actor's collections
    query = (scoped_requests(select(ChangeRequest).where(ChangeRequest.status == "open"))
             .options(joinedload(ChangeRequest.actor).lazyload("*"), joinedload(ChangeRequest.user))
             .order_by(ChangeRequest.created_at, ChangeRequest.id))
    return render_template("moderation/queue.html", paged=paginate(query, open_requests_count()))


def get_request(request_id: int) -> ChangeRequest:
    change = db.session.get(ChangeRequest, request_id)
    if change is None or not networks.decides(db.session, current_user, change):
        abort(404)  # another network's request does not exist for them
    return change


@bp.get("/demandes/<int(max=2147483647):request_id>")
@role_required(*COORDINATORS)
def request_detail(request_id: int):
    change = get_request(request_id)
    current = operations.actor_snapshot(change.actor)
    proposed = {**current, **change.data} if change.kind == "change" and change.data else None
    diff = operations.changes_between(current, proposed) if proposed else []
    duplicates = []
    if change.kind == "new":
        duplicates = operations.find_duplicates(db.session, operations.actor_input(change.actor),
                                                exclude_id=change.actor_id)
    return render_template("moderation/request.html", change=change, current=current, diff=diff,
                           duplicates=duplicates, approve_form=ConfirmForm(), reject_form=RejectForm())


def notify_decision(change: ChangeRequest):
    """Tell the member, in the member's language (no one to tell once their account is deleted)."""
    if change.user is None:
        return
    with in_language_of(change.user):
        _notify_decision(change)


def _notify_decision(change: ChangeRequest):
    what = {"new": _("l'inscription de « %(name)s »", name=change.actor.name),
            "change": _("la modification de « %(name)s »", name=change.actor.name),
            "claim": _("le rattachement de « %(name)s » à votre compte", name=change.actor.name)}[change.kind]
    space = external_url("account.space")
    if change.status == "approved":
        subject = _("Demande acceptée — Répertoire")
        body = _("Bonjour,\n\nVotre demande concernant %(what)s a été acceptée.\n", what=what)
        if change.actor.is_published:
            body += "\n" + external_url("public.actor_page", slug=change.actor.slug) + "\n"
    else:
        subject = _("Demande refusée — Répertoire")
        body = _("Bonjour,\n\nVotre demande concernant %(what)s n'a pas été acceptée, pour la raison "
                 "suivante :\n\n%(reason)s\n\nVous pouvez corriger votre fiche depuis votre espace :\n",
                 what=what, reason=change.reason) + space + "\n"
    send_mail(change.user.email, subject, body)


def _decide(change: ChangeRequest, decide, message: str):
    """Apply a decision, commit, tell the member, go back to the queue."""
    try:
        decide()
    except operations.OperationError as exc:  # decided meanwhile, say: nothing changes, no mail
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("moderation.request_detail", request_id=change.id))
    notify_decision(change)
    flash(message, "success")
    return redirect(url_for("moderation.queue"))


@bp.post("/demandes/<int(max=2147483647):request_id>/accepter")
@role_required(*COORDINATORS)
def approve(request_id: int):
    change = get_request(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _decide(change, lambda: operations.approve_request(db.session, change, current_user, Vocabulary(db.session)),
                   _("Demande acceptée ; le demandeur a été prévenu."))


@bp.post("/demandes/<int(max=2147483647):request_id>/refuser")
@role_required(*COORDINATORS)
def reject(request_id: int):
    change = get_request(request_id)
    form = RejectForm()
    if not form.validate_on_submit():
        current = operations.actor_snapshot(change.actor)
        return render_template("moderation/request.html", change=change, current=current, diff=[],
                               duplicates=[], approve_form=ConfirmForm(), reject_form=form), 400
    return _decide(change, lambda: operations.reject_request(db.session, change, current_user, form.reason.data),
                   _("Demande refusée ; le demandeur a reçu la raison."))


@bp.post("/demandes/<int(max=2147483647):request_id>/clore")
@role_required(*COORDINATORS)
def close_report(request_id: int):
    change = get_request(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.close_report(db.session, change, current_user)
    except operations.OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("moderation.request_detail", request_id=change.id))
    flash(_("Signalement clôturé."), "success")
    return redirect(url_for("moderation.queue"))


# -- actors ----------------------------------------------------------------

@bp.get("/acteurs")
@role_required(*COORDINATORS)
def actors():
    status = request.args.get("status", "")
    text = request.args.get("q", "").strip()
    query = filtered_actors(status, text)
    sort = request.args.get("sort", "name")
    if sort not in actor_fields.SORTABLE:
        sort = "name"
    column = Actor.name_sort if sort == "name" else getattr(Actor, sort)
    ids = networks.network_ids_of(db.session, current_user)
    scope_rows = bool(ids) and sort in networks.SCOPE_SORTS  # a network's list: counted, paged over its scope's rows
    total = None
    if sort in ("founded", "town") and status in STATUSES and not scope_rows:
        # counted on the status index, paged on the sort's own index (migrations 0022, 0024)
        total = db.session.scalar(select(func.count()).select_from(query.with_only_columns(Actor.id).subquery()))
        query = filtered_actors(status, text, status_index=False)
    if sort == "name":  # never empty: the index on (status,) name_sort serves the order
        query = query.order_by(Actor.name_sort, Actor.id)
    elif sort == "town":  # required, never empty: the order ix_actor_town_order walks (migration 0024)
        query = query.order_by(Actor.town, Actor.name_sort, Actor.id)
    else:  # undated last, then by name: the order ix_actor_founded_order walks (migration 0022)
        query = query.order_by(column.is_(None), column, Actor.name_sort, Actor.id)
    if scope_rows:
        keyed = networks.scope_keys(ids, status if status in STATUSES else None, fold_words(text) if text else None,
                                    sort)
        paged = paginate(select(Actor), key=Actor.id, keyed=keyed)
    else:
        paged = paginate(query, total=total, key=Actor.id)
    shown = [name for name in actor_fields.SORTABLE if name not in ("name", "town")]  # columns of their own
    return render_template("moderation/actors.html", paged=paged, status=status, q=text, statuses=STATUSES,
                           sort=sort, sortable=actor_fields.SORTABLE, shown=shown)


def filtered_actors(status: str, text: str, status_index: bool = True):
    """The actors list's selection (also the one bulk actions act on), within the user's networks.
    ``status_index=False``: the status compared so that no index is chosen for it (`status || ''`), for a list
    whose ORDER BY walks an index of its own (SQLite, without statistics, would otherwise read every actor of
    the status through its index and sort them all)."""
    query = scoped(select(Actor), Actor.id)
    if status in STATUSES:
        query = query.where((Actor.status if status_index else Actor.status + "") == status)
    if text:
        query = query.where(Actor.name_sort.contains(fold_words(text)))
    return query


def get_actor(actor_id: int) -> Actor:
    actor = db.session.get(Actor, actor_id)
    if actor is None:
        abort(404)
    check_scope(actor.id)
    return actor


def to_kept_actor(merged: operations.ActorMerged, endpoint: str):
    """An edit of an actor merged away leads to the one it was merged into."""
    db.session.rollback()
    flash(str(merged), "error")
    return redirect(url_for(endpoint, actor_id=merged.kept.id))


@bp.route("/acteurs/<int(max=2147483647):actor_id>", methods=["GET", "POST"])
@role_required(*COORDINATORS)
def edit_actor(actor_id: int):
    actor = get_actor(actor_id)
    vocab = Vocabulary(db.session)
    if request.method == "GET":
        if actor.merged_into_id:
            kept = operations.final_actor(db.session, actor)
            flash(_("Cette fiche a été fusionnée dans « %(name)s » : c'est désormais celle-ci qu'il faut "
                    "modifier.", name=kept.name), "info")
            return redirect(url_for("moderation.edit_actor", actor_id=kept.id))
        form = ActorForm(data={**form_data(operations.actor_input(actor)),
                               "version": operations.actor_version(db.session, actor)})
    else:
        form = ActorForm()
    form.fill_choices(vocab)
    errors, conflict = {}, None
    if form.is_submitted() and not form.adding_rows():
        data, errors = form.check(vocab, need_place=False, holder_slug=actor.slug)
        if data is not None:
            try:
                changed = operations.edit_actor(db.session, actor, data, vocab, current_user, form.version_number())
            except operations.ActorMerged as merged:
                return to_kept_actor(merged, "moderation.edit_actor")
            except operations.EditConflict as exc:  # shown with what the coordinator typed
                db.session.rollback()
                conflict = exc
                form.version.data = str(exc.version)
            except operations.LinkProblem as problem:  # a network or partner withdrawn since the check
                db.session.rollback()
                errors = form.link_errors(problem, vocab, need_place=False, holder_slug=actor.slug)
            else:
                if changed:
                    tell_owner_of_edit(actor, current_user)
                flash(_("Fiche enregistrée.") if changed else _("Aucune modification à enregistrer."), "success")
                return redirect(url_for("moderation.edit_actor", actor_id=actor.id))
    return render_template("moderation/actor.html", actor=actor, form=form, errors=errors, conflict=conflict,
                           confirm_form=ConfirmForm()), 409 if conflict else 200


def _change_status(actor_id: int, operation, message: str):
    actor = get_actor(actor_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operation(db.session, actor, current_user)
    flash(message, "success")
    return redirect(url_for("moderation.edit_actor", actor_id=actor.id))


@bp.post("/acteurs/<int(max=2147483647):actor_id>/archiver")
@role_required(*COORDINATORS)
def archive(actor_id: int):
    return _change_status(actor_id, operations.archive_actor,
                          _("Fiche archivée : elle n'apparaît plus dans l'annuaire."))


@bp.post("/acteurs/<int(max=2147483647):actor_id>/restaurer")
@role_required(*COORDINATORS)
def restore(actor_id: int):
    return _change_status(actor_id, operations.restore_actor, _("Fiche restaurée et publiée."))


@bp.get("/acteurs/<int(max=2147483647):actor_id>/historique")
@role_required(*COORDINATORS)
def history(actor_id: int):
    actor = get_actor(actor_id)
    revisions = db.session.scalars(select(Revision).where(Revision.actor_id == actor.id)
                                   .order_by(Revision.id)).all()
    entries, previous = [], None
    for revision in revisions:
        entries.append((revision, operations.changes_between(previous, revision.data)))
        previous = revision.data
    entries.reverse()
    return render_template("moderation/history.html", actor=actor, entries=entries, form=ConfirmForm())


@bp.post("/revisions/<int(max=2147483647):revision_id>/restaurer")
@role_required(*COORDINATORS)
def restore_revision(revision_id: int):
    revision = db.session.get(Revision, revision_id)
    if revision is None:
        abort(404)
    check_scope(revision.actor_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        changed = operations.restore_revision(db.session, revision, Vocabulary(db.session), current_user)
    except operations.OperationError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Version restaurée.") if changed else _("Cette version est déjà la version actuelle."),
              "success")
    return redirect(url_for("moderation.history", actor_id=revision.actor_id))


# -- accounts (admins) -----------------------------------------------------

@bp.route("/comptes", methods=["GET", "POST"])
@role_required("admin")
def users():
    if request.method == "POST":
        form = RoleForm()
        user = db.session.get(User, request.form.get("user_id", type=int) or 0)
        if user is None or not form.validate_on_submit():
            abort(400)
        try:
            if request.form.get("active") in ("0", "1"):
                operations.set_active(db.session, user, request.form["active"] == "1", current_user)
                message = _("Compte %(email)s rouvert.", email=user.email) if user.active else \
                    _("Compte %(email)s fermé : il ne peut plus se connecter.", email=user.email)
            else:
                operations.set_role(db.session, user, form.role.data, current_user)
                message = _("Rôle de %(email)s : %(role)s.", email=user.email, role=user.role)
        except operations.OperationError as exc:
            flash(str(exc), "error")
        else:
            flash(message, "success")
        return redirect(url_for("moderation.users"))
    paged = paginate(select(User).order_by(User.email, User.id))
    return render_template("moderation/users.html", paged=paged, role_form=RoleForm())
