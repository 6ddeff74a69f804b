"""The import of a large file as a job (import.apply), on unhappy paths: a long import and a second worker, a
failure after its commit, a cancel, its refused rows kept (found by an attacker's review, session 6)."""
import dataclasses
import os
import re
import time

from sqlalchemy.orm import Session

from repertoire import import_report
from repertoire.extensions import db
from repertoire.models import Job
from repertoire.operations import jobs as job_operations
from test_import_background import (actor_count, app, choices_of, fresh_rows, report_link, send, uploads,  # noqa: F401
                                    work)
from test_jobs import job_id_of, job_of
from web import submit, text


def partial_confirmed(app, client, runner):
    """A large file with 2 refused rows, checked, then its valid rows confirmed: the import job's page."""
    job_id = job_id_of(send(client, fresh_rows(6) + fresh_rows(2, start=50, department="99")))
    work(runner)
    token, verdict = choices_of(client.get(report_link(app, client, job_id)).get_data(as_text=True))
    confirmed = submit(client, f"/moderation/import/{token}/valides", {"verdict": verdict},
                       form_url="/moderation/import")
    assert confirmed.status_code == 302 and "/moderation/taches/" in confirmed.headers["Location"]
    return token, confirmed.headers["Location"]


def test_the_refused_rows_of_an_import_that_waited_in_the_queue_may_still_be_downloaded(app, coordinator_client, runner):
    """An import confirmed near the end of UPLOAD_MAX_AGE, or queued behind other jobs: its refused rows' CSV is
    kept with its upload while it waits, and its page's « Télécharger les lignes refusées » link works."""
    token, job_page = partial_confirmed(app, coordinator_client, runner)
    refused = os.path.join(uploads(app), token + import_report.REFUSED)
    assert os.path.exists(refused)
    old = time.time() - app.config["UPLOAD_MAX_AGE"] - 60
    for name in os.listdir(uploads(app)):  # the import job waited an hour in the queue
        os.utime(os.path.join(uploads(app), name), (old, old))
    assert coordinator_client.get("/moderation/import").status_code == 200  # anyone opens the import page
    work(runner)
    page = coordinator_client.get(job_page).get_data(as_text=True)
    assert "6 fiches créées" in text(coordinator_client.get(job_page))  # the import itself was kept and ran
    link = re.search(r'href="(/moderation/import/[^"]+/refusees.csv)"', page).group(1)
    assert coordinator_client.get(link).status_code == 200, "the job page links to a deleted file"


def test_a_cancelled_queued_import_gives_its_upload_back_to_be_confirmed_again(app, coordinator_client, runner):
    """Cancel the import job while it waits: « rien n'a été modifié », and the report's confirmation still
    works (the upload is given back under its name)."""
    job_id = job_id_of(send(coordinator_client, fresh_rows(8)))
    work(runner)
    report = report_link(app, coordinator_client, job_id)
    token = re.search(r'action="/moderation/import/([^"/]+)"', coordinator_client.get(report).get_data(as_text=True)).group(1)
    confirmed = submit(coordinator_client, f"/moderation/import/{token}", {}, form_url="/moderation/import")
    apply_id = job_id_of(confirmed)
    cancelled = submit(coordinator_client, f"/moderation/taches/{apply_id}/annuler", {},
                       form_url=f"/moderation/taches/{apply_id}")
    assert job_of(app, apply_id).status == "cancelled", cancelled.status_code
    again = submit(coordinator_client, f"/moderation/import/{token}", {}, form_url=report)
    work(runner)
    assert actor_count(app, "Fiche") == 8, ("confirming again after a cancel imports nothing: "
                                            + str(os.listdir(uploads(app))))


def test_a_live_worker_whose_whole_import_outlasts_the_stale_delay_keeps_its_job(app, coordinator_client, runner,
                                                                                   monkeypatch):
    """An import longer than REPERTOIRE_JOBS_STALE_SECONDS (120 s; a 20,000-row file takes minutes): a thread
    keeps its heartbeat fresh, so another worker polling meanwhile does not take it over and start it again."""
    job_id = job_id_of(send(coordinator_client, fresh_rows(8)))
    work(runner)
    page = coordinator_client.get(report_link(app, coordinator_client, job_id)).get_data(as_text=True)
    token = re.search(r'action="/moderation/import/([^"/]+)"', page).group(1)
    apply_id = job_id_of(submit(coordinator_client, f"/moderation/import/{token}", {}, form_url="/moderation/import"))
    original = job_operations.KINDS[import_report.APPLY]
    app.config["REPERTOIRE_JOBS_STALE_SECONDS"] = 1
    stolen = []

    def slow(session, job, ids, user):
        if not stolen:  # the first worker's import is long: meanwhile another worker polls for jobs
            time.sleep(1.5)
            with Session(db.engine) as other:
                stolen.append(job_operations.claim_job(other, "other-worker", 1))
                other.commit()
        return original.chunk(session, job, ids, user)
    monkeypatch.setitem(job_operations.KINDS, import_report.APPLY, dataclasses.replace(original, chunk=slow))
    first_run = work(runner)
    job = job_of(app, apply_id)
    assert stolen == [None], f"a live worker's import job was claimed by another worker: {stolen}; after the " \
                             f"first worker's whole import: attempts={job.attempts}, status={job.status}, " \
                             f"done={job.done}/{job.total}, worker={job.worker}, actors imported=" \
                             f"{actor_count(app, 'Fiche')}, output={first_run.strip()!r}"


def test_a_failure_after_the_imports_commit_never_says_nothing_was_imported(app, coordinator_client, runner,
                                                                     monkeypatch):
    """The chunk (the whole import) is committed; then the claimed upload cannot be removed (a read-only or
    busy folder): the import is done and said so, never « rien n'a été importé »."""
    job_id = job_id_of(send(coordinator_client, fresh_rows(8)))
    work(runner)
    page = coordinator_client.get(report_link(app, coordinator_client, job_id)).get_data(as_text=True)
    token = re.search(r'action="/moderation/import/([^"/]+)"', page).group(1)
    job_page = submit(coordinator_client, f"/moderation/import/{token}", {}, form_url="/moderation/import") \
        .headers["Location"]
    real_remove = os.remove

    def remove(path, *args, **kwargs):
        if "claimed-" in os.path.basename(path):
            raise PermissionError(13, "Permission denied", path)
        return real_remove(path, *args, **kwargs)
    monkeypatch.setattr(import_report.os, "remove", remove)
    work(runner)
    monkeypatch.undo()
    body = text(coordinator_client.get(job_page))
    assert actor_count(app, "Fiche") == 8  # imported
    assert "rien n'a été importé" not in body.lower(), body[body.find("erreur"):][:400]
