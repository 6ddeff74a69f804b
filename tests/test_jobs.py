"""Issue 16 point 5: bulk actions as background jobs — queue, worker, progress page, a killed worker resumed
without double effect, two workers never running one job twice, scope of networks' coordinators, forged ids."""
import csv
import dataclasses
import io
import re
import threading

import pytest
from sqlalchemy import func, select, update

from conftest import add_actor, add_user, build_app, dispose, login
from repertoire.extensions import db
from repertoire.jobs import work
from repertoire.models import Actor, AuditEvent, Job, Revision
from repertoire.operations import jobs as job_operations
from test_networks import NORMANDY, client_of, make_curating, slug_of
from web import csrf_token, submit, text


@pytest.fixture
def app(tmp_path):
    """No inline thread: the tests run the worker themselves (``repertoire jobs work --once``), 2 actors a chunk."""
    app = build_app(tmp_path, REPERTOIRE_JOBS_INLINE=False, REPERTOIRE_JOBS_CHUNK=2)
    yield app
    dispose(app)


def queue(client, action, q="", status="", **extra):
    """Confirm ``action`` on the actors list's selection; return the response (a redirect to the job)."""
    page = client.get(f"/moderation/acteurs/lot?action={action}&q={q}&status={status}")
    html = page.get_data(as_text=True)
    count = re.search(r'name="count" value="(\d+)"', html).group(1)
    return client.post("/moderation/acteurs/lot", data={"csrf_token": csrf_token(html), "action": action,
                                                         "q": q, "status": status, "count": count, **extra})


def job_of(app, job_id) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def job_id_of(response) -> int:
    assert response.status_code == 302, response.status_code
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def archive_revisions(app, name_part) -> dict:
    with app.app_context():
        return dict(db.session.execute(select(Actor.name, func.count(Revision.id))
                                       .join(Revision, Revision.actor_id == Actor.id)
                                       .where(Actor.name.contains(name_part), Revision.action == "archive")
                                       .group_by(Actor.name)).all())


def test_queue_then_work_then_done_with_progress_page_states(app, coordinator_client, runner):
    for n in range(5):
        add_actor(app, name=f"Forages {n}")
    response = queue(coordinator_client, "archiver", q="forages")
    job_id = job_id_of(response)
    page = coordinator_client.get(response.headers["Location"])
    html, body = page.get_data(as_text=True), text(page)
    assert "Tâche lancée sur 5 fiches." in body and "en attente" in body
    assert "0 fiche traitée sur 5" in body or "0 fiches traitées sur 5" in body
    assert '<progress id="job-progress" max="5" value="0">' in html
    assert '<meta http-equiv="refresh" content="3">' in html and "Actualiser" in body  # without JavaScript
    assert app.test_client().get("/api/actors?q=forages").get_json()["total"] == 5  # nothing done yet

    result = runner.invoke(args=["jobs", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 tâche exécutée." in result.output
    page = coordinator_client.get(f"/moderation/taches/{job_id}")
    html, body = page.get_data(as_text=True), text(page)
    assert "terminée" in body and "5 fiches archivées." in body and "5 fiches traitées sur 5" in body
    assert 'http-equiv="refresh"' not in html and "Annuler cette tâche" not in body
    [event] = [e for e in AuditEventList(app) if e.kind == "bulk.archive"]
    assert f'/moderation/journal/{event.id}"' in html  # the undo is in the journal
    assert app.test_client().get("/api/actors?q=forages").get_json()["total"] == 0
    assert "Aucune tâche en attente." in runner.invoke(args=["jobs", "work", "--once"]).output  # nothing left
    listing = text(coordinator_client.get("/moderation/taches"))
    assert f"Tâche n° {job_id}" in listing and "Archivage en lot" in listing and "1 tâche" in listing

    submit(coordinator_client, f"/moderation/journal/{event.id}/annuler", {},
           form_url=f"/moderation/journal/{event.id}")
    runner.invoke(args=["jobs", "work", "--once"])  # the undo is a job too
    assert app.test_client().get("/api/actors?q=forages").get_json()["total"] == 5


def AuditEventList(app):
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return events


def test_the_confirmation_sent_twice_queues_one_job(app, coordinator_client, runner):
    for n in range(3):
        add_actor(app, name=f"Forages {n}")
    page = coordinator_client.get("/moderation/acteurs/lot?action=archiver&q=forages")
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "action": "archiver", "q": "forages",
            "status": "", "count": 3}
    first = job_id_of(coordinator_client.post("/moderation/acteurs/lot", data=data))
    assert job_id_of(coordinator_client.post("/moderation/acteurs/lot", data=data)) == first  # replayed
    runner.invoke(args=["jobs", "work", "--once"])
    assert "3 fiches archivées." in text(coordinator_client.get(f"/moderation/taches/{first}"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 1
    # once done, the same form again is a new job, which finds nothing left to do
    again = job_id_of(coordinator_client.post("/moderation/acteurs/lot", data={**data, "status": "archived"}))
    assert again != first


def test_a_list_changed_since_the_confirmation_is_shown_again_and_nothing_is_queued(app, coordinator_client):
    for n in range(3):
        add_actor(app, name=f"Forages {n}")
    page = coordinator_client.get("/moderation/acteurs/lot?action=archiver&q=forages")
    assert "3 fiches sélectionnées" in text(page)
    add_actor(app, name="Forages tardifs")  # meanwhile, someone adds one
    response = coordinator_client.post("/moderation/acteurs/lot", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "action": "archiver", "q": "forages", "status": "",
        "count": 3})
    assert response.status_code == 409
    body = text(response)
    assert "La sélection a changé depuis l'affichage : vérifiez-la de nouveau." in body
    assert "4 fiches sélectionnées" in body and 'name="count" value="4"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    assert app.test_client().get("/api/actors?q=forages").get_json()["total"] == 4  # nothing archived
    forged = coordinator_client.post("/moderation/acteurs/lot", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "action": "archiver", "q": "forages", "status": "",
        "count": "beaucoup"})
    assert forged.status_code == 400


def test_an_actor_added_after_the_confirmation_is_not_acted_on(app, coordinator_client, runner):
    for n in range(5):
        add_actor(app, name=f"Forages {n}")
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    late = add_actor(app, name="Forages ajouté après")  # the job is queued, the worker has not run yet
    result = runner.invoke(args=["jobs", "work", "--once"])
    assert result.exit_code == 0, result.output
    body = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "5 fiches archivées." in body and "5 fiches traitées sur 5" in body
    assert app.test_client().get("/api/actors?q=forages").get_json()["total"] == 1
    with app.app_context():
        assert db.session.get(Actor, late).status == "published"  # not in the confirmed selection
    assert archive_revisions(app, "Forages") == {f"Forages {n}": 1 for n in range(5)}
    export = job_id_of(queue(coordinator_client, "exporter", q="forages", status="published"))
    add_actor(app, name="Forages encore après")
    runner.invoke(args=["jobs", "work", "--once"])
    rows = list(csv.DictReader(io.StringIO(coordinator_client.get(f"/moderation/taches/{export}/fichier")
                                           .get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["name"] for row in rows] == ["Forages ajouté après"]


def test_one_actor_in_the_singular(app, coordinator_client, runner):
    add_actor(app, name="Puits Unique")
    job_id = job_id_of(queue(coordinator_client, "archiver", q="unique"))
    runner.invoke(args=["jobs", "work", "--once"])
    body = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "1 fiche archivée." in body and "1 fiche traitée sur 1" in body


class Killed(BaseException):
    """What a SIGKILL does to a worker: it stops where it is, nothing more runs (no except, no rollback hook
    of ours; the database drops the uncommitted transaction)."""


def die_on_chunk(monkeypatch, kind, number):
    """Make the worker die after doing (not committing) its ``number``-th chunk of ``kind``."""
    original = job_operations.KINDS[kind]
    calls = []

    def chunk(session, job, ids, user):
        state = original.chunk(session, job, ids, user)
        calls.append(ids)
        if len(calls) == number:
            session.flush()
            raise Killed()
        return state
    monkeypatch.setitem(job_operations.KINDS, kind, dataclasses.replace(original, chunk=chunk))
    return lambda: monkeypatch.setitem(job_operations.KINDS, kind, original)


def test_a_killed_worker_leaves_a_job_that_resumes_without_double_effect(app, coordinator_client, runner,
                                                                          monkeypatch):
    for n in range(5):
        add_actor(app, name=f"Forages {n}")
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    heal = die_on_chunk(monkeypatch, "bulk.archive", 2)
    with pytest.raises(Killed):
        runner.invoke(args=["jobs", "work", "--once"])
    heal()
    job = job_of(app, job_id)
    assert job.status == "running" and job.done == 2  # the first chunk committed, the second lost
    assert len(archive_revisions(app, "Forages")) == 2
    body = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "en cours" in body and "2 fiches traitées sur 5" in body
    # its heartbeat is fresh: another worker leaves it alone
    assert "Aucune tâche en attente." in runner.invoke(args=["jobs", "work", "--once"]).output
    app.config["REPERTOIRE_JOBS_STALE_SECONDS"] = 0  # time passes: the heartbeat is stale
    assert "1 tâche exécutée." in runner.invoke(args=["jobs", "work", "--once"]).output
    job = job_of(app, job_id)
    assert job.status == "done" and job.done == 5 and job.attempts == 2
    assert archive_revisions(app, "Forages") == {f"Forages {n}": 1 for n in range(5)}  # each archived once
    [event] = [e for e in AuditEventList(app) if e.kind == "bulk.archive"]
    assert event.after == {"archived": 5} and sorted(s for _, s in event.before["actors"]) == ["published"] * 5
    assert "5 fiches archivées." in text(coordinator_client.get(f"/moderation/taches/{job_id}"))


def test_a_killed_export_resumes_without_duplicate_rows(app, coordinator_client, runner, monkeypatch):
    for n in range(5):
        add_actor(app, name=f"Forages {n}")
    job_id = job_id_of(queue(coordinator_client, "exporter", q="forages"))
    heal = die_on_chunk(monkeypatch, "bulk.export", 2)  # dies after writing its second chunk's rows
    with pytest.raises(Killed):
        runner.invoke(args=["jobs", "work", "--once"])
    heal()
    assert coordinator_client.get(f"/moderation/taches/{job_id}/fichier").status_code == 404  # not done
    app.config["REPERTOIRE_JOBS_STALE_SECONDS"] = 0
    runner.invoke(args=["jobs", "work", "--once"])
    page = coordinator_client.get(f"/moderation/taches/{job_id}")
    assert "5 fiches exportées." in text(page) and "Télécharger le fichier" in text(page)
    export = coordinator_client.get(f"/moderation/taches/{job_id}/fichier")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(r["name"] for r in rows) == [f"Forages {n}" for n in range(5)]
    assert [e.after for e in AuditEventList(app) if e.kind == "bulk.export"] == [{"exported": 5}]


def test_two_workers_never_run_one_job_twice(app, coordinator_client):
    for n in range(6):
        add_actor(app, name=f"Forages {n}")
    jobs = [job_id_of(queue(coordinator_client, "exporter", q=f"forages {n}")) for n in range(6)]
    handled = []
    start = threading.Barrier(2)

    def worker():
        with app.app_context():
            start.wait()
            handled.append(work(once=True))
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(handled) == 6
    assert all(job_of(app, j).status == "done" and job_of(app, j).attempts == 1 for j in jobs)
    assert len([e for e in AuditEventList(app) if e.kind == "bulk.export"]) == 6


def test_two_claims_at_once_get_one_job_once(app, coordinator_client):
    for n in range(3):
        add_actor(app, name=f"Forages {n}")
        job_id = job_id_of(queue(coordinator_client, "exporter", q=f"forages {n}"))
        got = []
        start = threading.Barrier(2)

        def claim(name):
            with app.app_context():
                start.wait()
                got.append(job_operations.claim_job(db.session, name, 120))
                db.session.commit()
        threads = [threading.Thread(target=claim, args=(f"w{n}",)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(got, key=lambda x: x or 0) == [None, job_id]  # one got it, the other nothing


def test_cancel_a_waiting_job_and_not_a_finished_one(app, coordinator_client, runner):
    add_actor(app, name="Forages 1")
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    url = f"/moderation/taches/{job_id}"
    done = submit(coordinator_client, f"{url}/annuler", {}, form_url=url, follow_redirects=True)
    assert "Tâche annulée : rien n'a été modifié." in text(done) and "annulée" in text(done)
    assert "Aucune tâche en attente." in runner.invoke(args=["jobs", "work", "--once"]).output
    assert app.test_client().get("/api/actors?q=forages").get_json()["total"] == 1
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    url = f"/moderation/taches/{job_id}"
    runner.invoke(args=["jobs", "work", "--once"])
    refused = submit(coordinator_client, f"{url}/annuler", {}, form_url=url, follow_redirects=True)
    assert "ne peut plus être annulée" in text(refused)
    assert job_of(app, job_id).status == "done"


def test_a_job_whose_network_went_away_fails_with_a_clear_message(app, coordinator_client, runner):
    network = add_actor(app, name="Réseau Normand", kind="reseau")
    add_actor(app, name="Forages 1")
    job_id = job_id_of(queue(coordinator_client, "reseau", q="forages", network=network))
    submit(coordinator_client, f"/moderation/acteurs/{network}/archiver", {},
           form_url=f"/moderation/acteurs/{network}")  # archived before the worker ran
    runner.invoke(args=["jobs", "work", "--once"])
    body = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "échouée" in body and "Le réseau doit être une fiche publiée." in body
    assert [e for e in AuditEventList(app) if e.kind == "bulk.network"] == []  # nothing was done


def test_forged_job_ids(app, coordinator_client, runner):
    assert coordinator_client.get("/moderation/taches/999999").status_code == 404
    assert coordinator_client.get("/moderation/taches/999999/fichier").status_code == 404
    assert coordinator_client.get("/moderation/taches/abc").status_code == 404
    add_actor(app, name="Forages 1")
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    runner.invoke(args=["jobs", "work", "--once"])
    assert coordinator_client.get(f"/moderation/taches/{job_id}/fichier").status_code == 404  # not an export
    add_user(app, "m@example.org")
    member = app.test_client()
    login(member, "m@example.org")
    assert member.get(f"/moderation/taches/{job_id}").status_code == 403
    assert member.get("/moderation/taches").status_code == 403


@pytest.fixture
def networks(app):
    """Network A (Normandy) with coordinator A, network B (Lyon) with coordinator B, a global coordinator."""
    horizons = add_actor(app, name="Horizons Solidaires", kind="reseau")
    resacoop = add_actor(app, name="Resacoop", kind="reseau", town="Lyon", postcode="69001", department="69")
    add_user(app, "admin@example.org", role="admin")
    add_user(app, "coord.a@example.org")
    add_user(app, "coord.b@example.org")
    admin = client_of(app, "admin@example.org")
    a = make_curating(admin, slug_of(app, horizons), NORMANDY, "coord.a@example.org")
    b = make_curating(admin, slug_of(app, resacoop), "69", "coord.b@example.org")
    caen = [add_actor(app, name=f"Puits de Caen {n}") for n in range(3)]
    lyon = [add_actor(app, name=f"Puits de Lyon {n}", town="Lyon", postcode="69003", department="69")
            for n in range(2)]
    return {"a": a, "b": b, "caen": caen, "lyon": lyon, "admin": admin,
            "coord_a": client_of(app, "coord.a@example.org"), "coord_b": client_of(app, "coord.b@example.org")}


def test_a_networks_coordinator_acts_on_their_networks_actors_only(app, networks, coordinator_client, runner):
    coord_a = networks["coord_a"]
    page = coord_a.get("/moderation/acteurs/lot?action=reseau&q=puits")
    assert page.status_code == 200 and "3 fiches sélectionnées" in text(page)  # not Lyon's
    radios = re.findall(r'<label><input type="radio" name="network" value="(\d+)"[^>]*>([^<]*)</label>',
                        page.get_data(as_text=True))
    assert [(int(i), label.split(" — ")[0].strip()) for i, label in radios] == [
        (networks["a"], "Horizons Solidaires")]  # their own network only, no menu of all
    # another network's id forged in the form: refused with a message, nothing queued
    refused = queue(coord_a, "reseau", q="puits", network=networks["b"])
    assert refused.status_code == 400 and "qu'à l'un de vos réseaux" in text(refused)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    job_id = job_id_of(queue(coord_a, "archiver", q="puits"))
    assert job_of(app, job_id).networks == [networks["a"]] and job_of(app, job_id).total == 3
    runner.invoke(args=["jobs", "work", "--once"])
    public = app.test_client()
    assert public.get("/api/actors?q=puits").get_json()["total"] == 2  # Lyon's untouched
    body = text(coord_a.get(f"/moderation/taches/{job_id}"))
    assert "3 fiches archivées." in body and "demandez-leur l'annulation" in body  # the journal is global
    # coordinator B, and anybody else's ids in the URL
    coord_b = networks["coord_b"]
    assert coord_b.get(f"/moderation/taches/{job_id}").status_code == 404
    assert submit(coord_b, f"/moderation/taches/{job_id}/annuler", {},
                  form_url="/moderation/taches").status_code == 404
    assert f"Tâche n° {job_id}" not in text(coord_b.get("/moderation/taches"))
    assert f"Tâche n° {job_id}" in text(coordinator_client.get("/moderation/taches"))  # bound to no network
    export = job_id_of(queue(coordinator_client, "exporter", q="puits"))  # everything: for the global only
    runner.invoke(args=["jobs", "work", "--once"])
    for client in (coord_a, coord_b):
        assert client.get(f"/moderation/taches/{export}").status_code == 404
        assert client.get(f"/moderation/taches/{export}/fichier").status_code == 404
        assert f"Tâche n° {export}" not in text(client.get("/moderation/taches"))
    assert coordinator_client.get(f"/moderation/taches/{export}/fichier").status_code == 200


def test_an_actor_leaving_the_scope_before_the_worker_runs_is_left_alone(app, networks, runner):
    coord_a = networks["coord_a"]
    job_id = job_id_of(queue(coord_a, "archiver", q="caen"))
    moved = networks["caen"][0]
    with app.app_context():  # it moves to Lyon meanwhile: no longer network A's
        from repertoire.operations import actor_input, update_actor
        from repertoire.validation import Vocabulary
        actor = db.session.get(Actor, moved)
        data = actor_input(actor)
        data.town, data.postcode, data.department = "Lyon", "69003", "69"
        update_actor(db.session, actor, data, Vocabulary(db.session))
        db.session.commit()
    runner.invoke(args=["jobs", "work", "--once"])
    assert "2 fiches archivées." in text(coord_a.get(f"/moderation/taches/{job_id}"))
    assert app.test_client().get(f"/api/actors/{moved}").status_code == 200  # still published


def test_a_worker_process_killed_with_sigkill_leaves_a_job_the_next_one_finishes(app, coordinator_client,
                                                                                 tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from conftest import new_actor
    from repertoire.validation import Vocabulary
    from test_consistency import child_env
    many = 300
    with app.app_context():
        vocab = Vocabulary(db.session)
        for n in range(many):
            new_actor(vocab, name=f"Forages {n:03d}")
        db.session.commit()
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    command = [str(Path(sys.executable).with_name("repertoire")), "jobs", "work", "--once"]
    env = {**child_env(tmp_path), "REPERTOIRE_JOBS_CHUNK": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while process.poll() is None and job_of(app, job_id).done < 3:  # a few chunks committed
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait() == -9, process.stderr.read().decode()[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stderr.close()
    job = job_of(app, job_id)
    assert job.status == "running" and 3 <= job.done < many
    again = subprocess.run(command, env={**env, "REPERTOIRE_JOBS_STALE_SECONDS": "0", "REPERTOIRE_JOBS_CHUNK": "50"},
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "1 tâche exécutée." in again.stdout, again.stderr[-2000:]
    job = job_of(app, job_id)
    assert job.status == "done" and job.done == many and job.attempts == 2
    assert archive_revisions(app, "Forages") == {f"Forages {n:03d}": 1 for n in range(many)}
    [event] = [e for e in AuditEventList(app) if e.kind == "bulk.archive"]
    assert event.after == {"archived": many}


def test_a_worker_whose_job_was_taken_over_stops_and_changes_nothing(app, coordinator_client, runner):
    from repertoire.jobs import run
    for n in range(3):
        add_actor(app, name=f"Forages {n}")
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    with app.app_context():  # a first worker claims it, then stalls (its heartbeat goes stale)
        assert job_operations.claim_job(db.session, "slow-worker", 120) == job_id
        db.session.commit()
    app.config["REPERTOIRE_JOBS_STALE_SECONDS"] = 0
    assert "1 tâche exécutée." in runner.invoke(args=["jobs", "work", "--once"]).output
    app.config["REPERTOIRE_JOBS_STALE_SECONDS"] = 120
    with app.app_context():  # the slow worker wakes up: the job is no longer its own
        assert run(job_id, "slow-worker") == "lost"
    assert [e.after for e in AuditEventList(app) if e.kind == "bulk.archive"] == [{"archived": 3}]
    assert archive_revisions(app, "Forages") == {f"Forages {n}": 1 for n in range(3)}


def test_two_coordinators_confirming_the_same_archive_archive_it_once(app, coordinator_client, runner):
    for n in range(3):
        add_actor(app, name=f"Forages {n}")
    add_user(app, "admin@example.org", role="admin")
    admin = client_of(app, "admin@example.org")
    pages = [client.get("/moderation/acteurs/lot?action=archiver&q=forages") for client in (coordinator_client, admin)]
    first, second = (job_id_of(client.post("/moderation/acteurs/lot", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "action": "archiver", "q": "forages", "status": "",
        "count": 3})) for client, page in zip((coordinator_client, admin), pages))
    assert first != second
    runner.invoke(args=["jobs", "work", "--once"])
    assert "3 fiches archivées." in text(coordinator_client.get(f"/moderation/taches/{first}"))
    late = text(admin.get(f"/moderation/taches/{second}"))
    assert "3 fiches étaient déjà dans cet état ou hors de votre périmètre." in late
    assert archive_revisions(app, "Forages") == {f"Forages {n}": 1 for n in range(3)}


def test_the_jobs_list_is_paged_newest_first_and_a_jobs_page_shows_its_own_progress(app, coordinator_client):
    from repertoire.operations import queue_bulk, find_user
    first = add_actor(app, name="Forages Premier")
    with app.app_context():
        coordinator = find_user(db.session, "coord@example.org")
        ids = [queue_bulk(db.session, "bulk.export", [first], coordinator, {"q": f"lot {n}", "status": ""}, []).id
               for n in range(51)]
        db.session.commit()
    newest = coordinator_client.get("/moderation/taches")
    assert "51 tâches" in text(newest)
    html = newest.get_data(as_text=True)
    assert f"Tâche n° {ids[-1]}<" in html and f"Tâche n° {ids[1]}<" in html and f"Tâche n° {ids[0]}<" not in html
    oldest = coordinator_client.get("/moderation/taches?page=2").get_data(as_text=True)
    assert f"Tâche n° {ids[0]}<" in oldest and f"Tâche n° {ids[1]}<" not in oldest
    assert coordinator_client.get("/moderation/taches?page=3").status_code == 404
    assert coordinator_client.get("/moderation/taches?page=-1").status_code == 404
    body = text(coordinator_client.get(f"/moderation/taches/{ids[0]}"))
    assert f"Tâche n° {ids[0]}" in body and "0 fiche traitée sur 1" in body


def test_the_confirmation_names_the_busiest_networks_and_counts_the_others(app, coordinator_client, monkeypatch):
    from repertoire.moderation import bulk
    for letter in "ABC":
        add_actor(app, name=f"Réseau {letter}", kind="reseau")
    add_actor(app, name="Forages Un", networks="reseau-a")
    add_actor(app, name="Forages Deux", networks="reseau-a")
    add_actor(app, name="Forages Trois", networks="reseau-b")
    add_actor(app, name="Forages Quatre", networks="reseau-c")
    body = text(coordinator_client.get("/moderation/acteurs/lot?action=archiver&q=forages"))
    assert "Réseau A : 2 fiches" in body and "Réseau B : 1 fiche" in body and "autre" not in body
    monkeypatch.setattr(bulk, "NETWORKS_SHOWN", 1)
    body = text(coordinator_client.get("/moderation/acteurs/lot?action=archiver&q=forages"))
    assert "4 fiches sélectionnées" in body and "Réseau A : 2 fiches" in body and "Réseau B" not in body
    assert "et 2 autres réseaux" in body
    whole = text(coordinator_client.get("/moderation/acteurs/lot?action=archiver"))  # the whole directory
    assert "7 fiches sélectionnées" in whole and "Réseau A : 2 fiches" in whole and "et 2 autres réseaux" in whole


def test_a_large_selection_is_counted_its_networks_left_to_the_journal(app, coordinator_client, runner,
                                                                       monkeypatch):
    """Issue 15 at 1,000,000: the confirmation counts the actors always, names their networks only for a
    selection of at most ``IMPACT_NAMED_UP_TO`` actors (a grouped count over every membership otherwise), and
    says so."""
    from repertoire.operations import bulk as bulk_operations
    network = add_actor(app, name="Réseau des Puits", kind="reseau")
    for n in range(3):
        add_actor(app, name=f"Forages {n}", networks="reseau-des-puits")
    small = text(coordinator_client.get("/moderation/acteurs/lot?action=archiver&q=forages"))
    assert "3 fiches sélectionnées" in small and "Réseau des Puits : 3 fiches" in small
    monkeypatch.setattr(bulk_operations, "IMPACT_NAMED_UP_TO", 2)
    page = coordinator_client.get("/moderation/acteurs/lot?action=archiver&q=forages")
    body = text(page)
    assert "3 fiches sélectionnées" in body and 'name="count" value="3"' in page.get_data(as_text=True)
    assert "Réseau des Puits" not in body and "Aucun réseau concerné" not in body
    assert ("Au-delà de 2 fiches, les réseaux dont elles sont membres ne sont pas comptés ici ; l'action sera "
            "inscrite au journal de chacun d'eux.") in body
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    runner.invoke(args=["jobs", "work", "--once"])
    assert "3 fiches archivées." in text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    [event] = [e for e in AuditEventList(app) if e.kind == "bulk.archive"]
    journal = coordinator_client.get(f"/moderation/journal?reseau={network}").get_data(as_text=True)
    assert f'/moderation/journal/{event.id}"' in journal  # filed under the network the page did not name


def test_a_selection_grown_before_the_worker_runs_stops_the_job_before_anything_is_done(app, coordinator_client,
                                                                                         runner):
    """The request only counts; the worker writes the ids, never more than the coordinator confirmed: an
    actor edited into the selection meanwhile stops the job, nothing archived, and the page says why."""
    for n in range(3):
        add_actor(app, name=f"Forages {n}")
    other = add_actor(app, name="Puits Voisin")
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    assert "0 fiche traitée sur 3" in text(coordinator_client.get(f"/moderation/taches/{job_id}")) or \
        "0 fiches traitées sur 3" in text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    with app.app_context():  # renamed into the selection before the worker runs (an older actor: not a new id)
        from repertoire.operations import actor_input, update_actor
        from repertoire.validation import Vocabulary
        actor = db.session.get(Actor, other)
        data = actor_input(actor)
        data.name = "Forages Voisins"
        update_actor(db.session, actor, data, Vocabulary(db.session))
        db.session.commit()
    runner.invoke(args=["jobs", "work", "--once"])
    body = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "échouée" in body
    assert ("La sélection a changé entre la confirmation et le début de la tâche (4 fiches au lieu de 3) : rien "
            "n'a été fait ; vérifiez-la de nouveau depuis la liste des fiches.") in body
    assert app.test_client().get("/api/actors?q=forages").get_json()["total"] == 4  # nothing archived
    assert [e for e in AuditEventList(app) if e.kind == "bulk.archive"] == []


def test_a_worker_killed_while_writing_the_ids_leaves_them_to_the_next(app, coordinator_client, runner,
                                                                       monkeypatch):
    for n in range(5):
        add_actor(app, name=f"Forages {n}")
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    original = job_operations.freeze_items

    def killed(session, job, worker):
        original(session, job, worker)
        session.flush()
        raise Killed()
    monkeypatch.setattr(job_operations, "freeze_items", killed)
    from repertoire import operations
    monkeypatch.setattr(operations, "freeze_items", killed)
    with pytest.raises(Killed):
        runner.invoke(args=["jobs", "work", "--once"])
    monkeypatch.setattr(operations, "freeze_items", original)
    with app.app_context():  # its heartbeat grows stale: the next worker takes it over
        db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=None))
        db.session.commit()
    runner.invoke(args=["jobs", "work", "--once"])
    body = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "5 fiches archivées." in body and "5 fiches traitées sur 5" in body
    assert archive_revisions(app, "Forages") == {f"Forages {n}": 1 for n in range(5)}


def rename(app, actor_id, name):
    with app.app_context():
        from repertoire.operations import actor_input, update_actor
        from repertoire.validation import Vocabulary
        actor = db.session.get(Actor, actor_id)
        data = actor_input(actor)
        data.name = name
        update_actor(db.session, actor, data, Vocabulary(db.session))
        db.session.commit()


def test_a_selection_whose_members_swapped_before_the_worker_archives_nothing(app, coordinator_client, runner):
    """Confirmed: « archive the 3 actors named forages ». Before the worker runs (the job waits behind others),
    one leaves the selection and another enters it: the same count, but an actor written since the confirmation
    matches: nothing is archived, and the job's page says why (found by an attacker's review, session 6)."""
    ids = [add_actor(app, name=f"Forages {n}") for n in range(3)]
    other = add_actor(app, name="Puits Voisin")
    job_id = job_id_of(queue(coordinator_client, "archiver", q="forages"))
    rename(app, ids[0], "Puits Zéro")  # edited out of the selection meanwhile
    rename(app, other, "Forages Voisins")  # edited into it meanwhile
    runner.invoke(args=["jobs", "work", "--once"])
    with app.app_context():
        archived = db.session.get(Actor, other).status
    body = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert archived != "archived", f"an actor outside the confirmed selection was archived; job page: {body[:300]}"
    assert "entrées dans la sélection entre la confirmation et le début de la tâche" in body \
        and "rien n'a été fait" in body
    with app.app_context():
        assert all(db.session.get(Actor, i).status == "published" for i in ids)
