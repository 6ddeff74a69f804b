"""The audit log in the back office: browse, filter, export, undo (routes only; rules in operations.audit)."""
import csv
import io
import json
import re
from datetime import datetime, time, timedelta, timezone

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import defer

from .. import operations
from ..auth import role_required
from .views import global_only
from ..extensions import db
from ..interchange import spreadsheet_safe
from ..models import Actor, AuditEvent, Kind, NetworkCoordinator, User
from ..operations import networks
from . import bp
from .forms import ConfirmForm
from .views import COORDINATORS

PER_PAGE = 50
KINDS = {
    "request.approve": _l("Demande acceptée"), "request.reject": _l("Demande refusée"),
    "report.close": _l("Signalement clôturé"), "actor.edit": _l("Fiche modifiée"),
    "actor.revert": _l("Version restaurée"), "actor.merge": _l("Fiches fusionnées"),
    "actor.archive": _l("Fiche archivée"), "actor.restore": _l("Fiche restaurée"),
    "actor.publish": _l("Fiche publiée"), "duplicate.dismiss": _l("Doublon écarté"),
    "term.add": _l("Valeur ajoutée"), "term.rename": _l("Valeur renommée"), "term.move": _l("Valeur déplacée"),
    "term.retire": _l("Valeur retirée"), "term.unretire": _l("Valeur rétablie"),
    "term.merge": _l("Valeurs fusionnées"), "import": _l("Import"), "account.role": _l("Rôle changé"),
    "account.activate": _l("Compte rouvert"), "account.close": _l("Compte fermé"),
    "account.create": _l("Compte créé"), "bulk.archive": _l("Archivage en lot"),
    "bulk.network": _l("Ajout en lot à un réseau"), "bulk.export": _l("Export en lot"),
    "undo": _l("Annulation"), "publish-own": _l("Fiche d'un coordinateur publiée"),
    "network.curate": _l("Réseau modérateur créé"), "network.territory": _l("Territoire d'un réseau changé"),
    "network.coordinator.add": _l("Coordinateur ajouté à un réseau"),
    "network.coordinator.remove": _l("Coordinateur retiré d'un réseau"),
    "network.label": _l("Libellé propre à un réseau changé"),
}
CSV_COLUMNS = ("id", "date", "person", "kind", "target_type", "target_id", "target", "networks", "before", "after",
               "undoes")


def _filters() -> dict:
    """The journal's filters from the query string; 400 on a value that is not one."""
    args, filters = request.args, {}
    for name, key in (("reseau", "network"), ("avant", "before")):
        value = args.get(name, "")
        if value:
            if not value.isdigit() or int(value) > 2**31:
                abort(400)
            filters[key] = int(value)
    person = args.get("personne", "")
    if person:
        if person != "cli" and (not person.isdigit() or int(person) > 2**31):
            abort(400)
        filters["user"] = person if person == "cli" else int(person)
    kind = args.get("type", "")
    if kind:
        if not re.fullmatch(r"[a-z0-9._-]{1,40}", kind):  # kinds other features add are filterable too
            abort(400)
        filters["kind"] = kind
    for name, key, shift in (("du", "since", 0), ("au", "until", 1)):
        value = args.get(name, "")
        if value:
            try:
                day = datetime.strptime(value, "%Y-%m-%d").date()
            except ValueError:
                abort(400)
            filters[key] = datetime.combine(day, time(), timezone.utc) + timedelta(days=shift)
    return filters


def _people(events) -> dict:
    """Account id -> address, for the authors and the accounts acted upon."""
    ids = {e.user_id for e in events if e.user_id is not None} | \
        {e.target_id for e in events if e.target_type == "account" and e.target_id is not None}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all()) if ids else {}


def person_label(people: dict, user_id) -> str:
    if user_id is None:
        return _("ligne de commande")
    return people.get(user_id) or _("compte supprimé n° %(id)d", id=user_id)


def target_label(people: dict, event: AuditEvent) -> str:
    if event.target_type == "account" and event.target_id is not None:
        return person_label(people, event.target_id)
    return event.target_label


def _own_networks() -> list[int] | None:
    """The networks whose journal the current user reads: None for all (admins, global coordinators)."""
    return networks.network_ids_of(db.session, current_user) or None


def _scoped_filters() -> tuple[dict, list[int] | None]:
    """The filters, and the current user's networks; a network coordinator naming another network: 403."""
    filters, own = _filters(), _own_networks()
    if own is not None and filters.get("network") is not None and filters["network"] not in own:
        abort(403)
    return filters, own


@bp.get("/journal")
@role_required(*COORDINATORS)
def journal():
    # admins and global coordinators read everything; a network's coordinators the events concerning it
    filters, own = _scoped_filters()
    events = operations.audit_events(db.session, PER_PAGE + 1, own, **filters)
    more = len(events) > PER_PAGE
    events = events[:PER_PAGE]
    args = {k: v for k, v in request.args.items() if k != "avant"}
    next_url = url_for("moderation.journal", **args, avant=events[-1].id) if more else None
    undone = set(db.session.scalars(select(AuditEvent.undo_of_id).where(
        AuditEvent.undo_of_id.in_([e.id for e in events])))) if events else set()
    if own is None:
        # the networks some event is filed under, not every network of the directory (40,000 at 1,000,000
        # actors: a 3 MB menu); another network's id in the URL still filters (to nothing)
        choices = db.session.execute(select(Actor.id, Actor.name).where(Actor.id.in_(
            operations.networks_in_journal(db.session))).order_by(Actor.name_sort)).all()
        staff = db.session.execute(select(User.id, User.email).where(User.role.in_(COORDINATORS))
                                   .order_by(User.email)).all()
    else:  # their networks, their colleagues and the admins (who act on their network too)
        choices = db.session.execute(select(Actor.id, Actor.name).where(Actor.id.in_(own))
                                     .order_by(Actor.name_sort)).all()
        staff = db.session.execute(select(User.id, User.email).where(or_(
            User.role == "admin", User.id.in_(select(NetworkCoordinator.user_id)
                                              .where(NetworkCoordinator.network_id.in_(own)))))
                                   .order_by(User.email)).all()
    return render_template("moderation/journal.html", events=events, next_url=next_url, kinds=KINDS,
                           people=_people(events), person_label=person_label, target_label=target_label, undone=undone,
                           undoable=operations.UNDOABLE if own is None else (), networks=choices, staff=staff,
                           args=request.args,
                           first_page="avant" in request.args, latest_url=url_for("moderation.journal", **args), export_url=url_for("moderation.journal_csv", **args),
                           form=ConfirmForm())


@bp.get("/journal.csv")
@role_required(*COORDINATORS)
def journal_csv():
    """Every event matching the filters, newest first, streamed; cells safe to open in a spreadsheet."""
    filters, own = _scoped_filters()
    filters.pop("before", None)

    def rows():
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        before = None
        while True:
            batch = operations.audit_events(db.session, 1000, own, **filters, before=before)
            if not batch:
                break
            people = _people(batch)
            for e in batch:
                values = operations.event_for_networks(db.session, e, own)  # their scope's actors only
                writer.writerow(spreadsheet_safe({
                    "id": e.id, "date": e.created_at.isoformat(), "person": person_label(people, e.user_id),
                    "kind": e.kind, "target_type": e.target_type, "target_id": e.target_id or "",
                    "target": target_label(people, e), "networks": ";".join(str(n) for n in e.networks or []),
                    "before": _json(values[0]), "after": _json(values[1]), "undoes": e.undo_of_id or ""}))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            before = batch[-1].id
            db.session.expunge_all()
        yield buffer.getvalue()

    return Response(stream_with_context(rows()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=journal.csv"})


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def get_event(event_id: int) -> AuditEvent:
    event = db.session.get(AuditEvent, event_id)
    if event is None:
        abort(404)
    return event


@bp.get("/journal/<int(max=2147483647):event_id>")
@role_required(*COORDINATORS)
def journal_event(event_id: int):
    event = get_event(event_id)
    own = _own_networks()
    if own is not None and not operations.event_concerns(db.session, event, own):
        abort(404)  # another network's event does not exist for them
    undo = db.session.scalar(select(AuditEvent).where(AuditEvent.undo_of_id == event.id))
    people = _people([event])
    before, after, hidden = operations.event_for_networks(db.session, event, own)  # their scope's actors only
    undo_job = operations.active_undo_job(db.session, event) if own is None and undo is None else None
    return render_template("moderation/journal_event.html", event=event, kinds=KINDS, undo=undo,
                           before=before, after=after, hidden=hidden,
                           person=person_label(people, event.user_id), target=target_label(people, event),
                           json=_json,
                           can_undo=own is None and event.kind in operations.UNDOABLE and undo is None
                           and undo_job is None, undo_job=undo_job,
                           form=ConfirmForm())


@bp.post("/journal/<int(max=2147483647):event_id>/annuler")
@role_required(*COORDINATORS)
def undo_event(event_id: int):
    global_only()  # shared with every network: for admins and coordinators bound to none
    # its values (a bulk action's: every actor of it) are read only if undone here, not when queued as a job
    event = db.session.get(AuditEvent, event_id, options=[defer(AuditEvent.before)])
    if event is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    in_job = operations.undo_in_job(event)  # thousands of actors maybe: a job, its progress page
    try:
        if in_job:
            job = operations.queue_undo(db.session, event, current_user)
        else:
            undo = operations.undo_event(db.session, event, current_user)
    except operations.OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("moderation.journal_event", event_id=event_id))
    if in_job:
        flash(ngettext("Annulation lancée sur %(num)d fiche.", "Annulation lancée sur %(num)d fiches.", job.total),
              "success")
        return redirect(url_for("moderation.job_detail", job_id=job.id))
    skipped = undo.after["skipped"]
    message = _("Action annulée.")
    if skipped:
        message += " " + ngettext("%(num)d élément modifié depuis garde ses valeurs actuelles.",
                                  "%(num)d éléments modifiés depuis gardent leurs valeurs actuelles.", skipped)
    flash(message, "success")
    return redirect(url_for("moderation.journal_event", event_id=undo.id))
