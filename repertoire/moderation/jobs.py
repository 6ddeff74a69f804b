"""Jobs (bulk actions run in the background): the list, a job's progress page, its file, cancelling one still
waiting. A network's coordinator sees only the jobs of their networks; any other id is a 404."""
from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import import_report, operations
from ..auth import role_required
from ..extensions import db
from ..jobs import inline_enabled, start_inline
from ..models import Job
from ..operations import networks
from . import bp
from .forms import ConfirmForm
from .paging import paginate
from .views import COORDINATORS


def get_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or not operations.may_see_job(db.session, current_user, job):
        abort(404)
    return job


@bp.get("/taches")
@role_required(*COORDINATORS)
def jobs():
    paged = paginate(operations.visible_jobs(db.session, current_user).order_by(Job.id.desc()), key=Job.id)
    return render_template("moderation/jobs.html", paged=paged)


@bp.get("/taches/<int(max=2147483647):job_id>")
@role_required(*COORDINATORS)
def job_detail(job_id: int):
    job = get_job(job_id)
    stale = operations.is_stale(job, float(current_app.config.get("REPERTOIRE_JOBS_STALE_SECONDS", 120)))
    if inline_enabled(current_app) and (job.status == "queued" or stale):
        start_inline(current_app._get_current_object())  # a job left by a stopped server goes on
    journal = not networks.network_ids_of(db.session, current_user)  # the journal is for global coordinators
    return render_template("moderation/job.html", job=job, form=ConfirmForm(), journal=journal,
                           has_file=operations.export_file_of(job) is not None,
                           refused_kept=job.kind == import_report.APPLY and import_report.refused_file_kept(job))


@bp.get("/taches/<int(max=2147483647):job_id>/fichier")
@role_required(*COORDINATORS)
def job_file(job_id: int):
    job = get_job(job_id)
    path = operations.export_file_of(job)
    if path is None:
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name=f"repertoire-selection-{job.id}.csv", max_age=0)


@bp.post("/taches/<int(max=2147483647):job_id>/annuler")
@role_required(*COORDINATORS)
def cancel_job(job_id: int):
    job = get_job(job_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.cancel_job(db.session, job)
    except operations.OperationError as exc:
        flash(str(exc), "error")
    else:
        if job.kind == import_report.APPLY:  # its upload may be confirmed again from its report
            import_report.give_back(job)
        flash(_("Tâche annulée : rien n'a été modifié."), "success")
    return redirect(url_for("moderation.job_detail", job_id=job_id))
