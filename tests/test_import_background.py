"""Issue 15 point 1: a large file's import report is checked in the background (a « vérification d'import » job).

The upload is stored and redirects to the job's progress page; the worker checks the rows a chunk at a time and
writes the report, which is the same as the immediate one (every row, counts adding up), paged, with the same
import choices. Unhappy paths: the file replaced or gone during the check, the directory changed between report
and import, another coordinator's job or report, forged ids, two coordinators at once, a killed worker, an import
confirmed twice.
"""
import dataclasses
import os
import re
import threading

import pytest
from sqlalchemy import func, select

from conftest import add_actor, add_user, build_app, dispose, login
from repertoire import import_report
from repertoire.extensions import db
from repertoire.models import Actor, Job
from repertoire.operations import jobs as job_operations
from test_curation import HEADER, upload
from test_import_report import ROWS, report_of
from test_jobs import Killed, job_id_of, job_of
from web import submit, text


@pytest.fixture
def app(tmp_path):
    """Files of more than 5 rows are checked by a job; 3 rows a chunk; the tests run the worker themselves."""
    app = build_app(tmp_path, REPERTOIRE_JOBS_INLINE=False, IMPORT_CHECK_CHUNK=3, IMPORT_BACKGROUND_ROWS=5)
    yield app
    dispose(app)


def die_on_chunk(monkeypatch, number):
    """Make the worker die (as by SIGKILL: nothing more runs) after doing, not committing, its ``number``-th chunk
    of an import check."""
    original = job_operations.KINDS[import_report.KIND]
    calls = []

    def chunk(session, job, ids, user):
        done = original.chunk(session, job, ids, user)
        calls.append(ids)
        if len(calls) == number:
            session.flush()
            raise Killed()
        return done
    monkeypatch.setitem(job_operations.KINDS, import_report.KIND, dataclasses.replace(original, chunk=chunk))
    return lambda: monkeypatch.setitem(job_operations.KINDS, import_report.KIND, original)


def work(runner):
    return runner.invoke(args=["jobs", "work", "--once"]).output


def fresh_rows(count, start=0, department="14"):
    return [f"Fiche {i:04d},,association,Caen,14000,{department},SN,,,,,,," for i in range(start, start + count)]


def send(client, lines):
    return upload(client, HEADER + "\n" + "\n".join(lines) + "\n")


def report_link(app, client, job_id) -> str:
    page = client.get(f"/moderation/taches/{job_id}").get_data(as_text=True)
    return re.search(r'href="(/moderation/import/rapport/[A-Za-z0-9_-]{22})"', page).group(1)


def choices_of(page: str):
    token = re.search(r'action="/moderation/import/([^"/]+)/valides"', page)
    verdict = re.search(r'name="verdict" value="([^"]+)"', page)
    return token and token.group(1), verdict and verdict.group(1)


def uploads(app):
    return os.path.join(app.instance_path, "uploads")


def actor_count(app, name_part=""):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Actor).where(Actor.name.contains(name_part)))


def test_a_large_file_is_checked_by_a_job_whose_report_is_the_immediate_one(app, coordinator_client, runner):
    """The same mixed file, checked in the request (small threshold raised) and by the job: the same rows."""
    dup = add_actor(app, name="Puits du Sahel", email="contact@puits-sahel.example.org", countries="ML")
    add_actor(app, name="Déjà Là", countries="SN", phone="02 31 00 00 01")
    add_actor(app, name="Toujours Pareil", countries="SN")
    lines = ROWS[:5] + [ROWS[0]] + fresh_rows(4)  # line 7 repeats line 2
    app.config["IMPORT_BACKGROUND_ROWS"] = 100
    immediate = send(coordinator_client, lines)
    assert immediate.status_code == 200
    app.config["IMPORT_BACKGROUND_ROWS"] = 5
    response = send(coordinator_client, lines)
    job_id = job_id_of(response)
    progress = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "Vérification d'import" in progress and "0 lignes vérifiées sur 10" in progress
    assert "<progress" in coordinator_client.get(f"/moderation/taches/{job_id}").get_data(as_text=True)
    assert "1 tâche exécutée." in work(runner)
    job = job_of(app, job_id)
    assert job.status == "done" and job.done == job.total == 10
    done = coordinator_client.get(f"/moderation/taches/{job_id}")
    assert "10 lignes vérifiées sur 10" in text(done) and "Voir le rapport d'import" in text(done)
    report = coordinator_client.get(report_link(app, coordinator_client, job_id))
    assert report.status_code == 200
    assert report_of(report) == report_of(immediate)
    rows = report_of(report)
    assert [state for _l, _n, state, _d in rows] == ["à créer", "doublon probable", "à mettre à jour", "inchangée",
                                                    "refusée", "refusée", "à créer", "à créer", "à créer", "à créer"]
    assert "même nom, même commune et même département qu&#39;à la ligne 2" in rows[5][3]
    assert f'<a href="/moderation/acteurs/{dup}">Puits du Sahel</a>' in rows[1][3]
    body = text(report)
    assert "10 lignes lues" in body and "2 lignes invalides" in body and "5 fiches à créer" in body
    # the choices are those of the immediate report: import the valid rows, download the refused ones
    token, verdict = choices_of(report.get_data(as_text=True))
    assert token and verdict == choices_of(immediate.get_data(as_text=True))[1]
    refused = coordinator_client.get(f"/moderation/import/{token}/refusees.csv")
    assert refused.status_code == 200 and "motif" in refused.get_data(as_text=True).splitlines()[0]
    assert "Nulle Part" in refused.get_data(as_text=True)
    imported = submit(coordinator_client, f"/moderation/import/{token}/valides", {"verdict": verdict},
                      form_url="/moderation/import")
    assert imported.status_code == 302  # a large file is imported by a job too: its page
    waiting = text(coordinator_client.get(imported.headers["Location"]))
    assert "Import d'un fichier" in waiting and "0 lignes importées sur 10" in waiting and "tout ou rien" in waiting
    assert actor_count(app, "Fiche 0") == 0
    assert "1 tâche exécutée." in work(runner)
    assert actor_count(app, "Fiche 0") == 4 and actor_count(app, "Amitiés Rouen-Bamako") == 1
    assert actor_count(app, "Nulle Part") == 0
    done = text(coordinator_client.get(imported.headers["Location"]))
    assert "Import terminé : 6 fiches créées, 1 mise à jour, 1 inchangée." in done, done  # the likely duplicate too
    assert "2 lignes refusées n'ont pas été importées" in done
    assert coordinator_client.get(f"/moderation/import/{token}/refusees.csv").status_code == 200


def test_a_large_report_is_paged_and_its_counts_add_up(app, coordinator_client, runner):
    lines = fresh_rows(230) + fresh_rows(20, start=500, department="99")
    job_id = job_id_of(send(coordinator_client, lines))
    work(runner)
    link = report_link(app, coordinator_client, job_id)
    first = coordinator_client.get(link)
    body = text(first)
    assert "250 lignes lues" in body and "230 fiches à créer" in body and "20 lignes invalides" in body
    assert "Page 1 sur 3" in body and len(report_of(first)) == 100
    last = coordinator_client.get(link + "?page=3")
    assert len(report_of(last)) == 50 and report_of(last)[-1][:3] == ("251", "Fiche 0519", "refusée")
    refused = coordinator_client.get(link + "?etat=refused")
    assert [int(r[0]) for r in report_of(refused)] == list(range(232, 252))
    assert coordinator_client.get(link + "?page=4").status_code == 404


def test_a_file_with_no_valid_row_is_not_kept(app, coordinator_client, runner):
    job_id = job_id_of(send(coordinator_client, fresh_rows(8, department="99")))
    work(runner)
    report = coordinator_client.get(report_link(app, coordinator_client, job_id))
    assert "8 lignes invalides" in text(report) and choices_of(report.get_data(as_text=True)) == (None, None)
    assert not [f for f in os.listdir(uploads(app)) if f.endswith(".csv") and "refusees" not in f]


def test_another_coordinators_job_and_report_are_not_found_nor_forged_ones(app, coordinator_client, runner):
    job_id = job_id_of(send(coordinator_client, fresh_rows(8)))
    work(runner)
    link = report_link(app, coordinator_client, job_id)
    add_user(app, "autre@example.org", role="coordinator")
    other = app.test_client()
    login(other, "autre@example.org")
    assert other.get(f"/moderation/taches/{job_id}").status_code == 404
    assert other.get(link).status_code == 404
    assert f"/moderation/taches/{job_id}" not in other.get("/moderation/taches").get_data(as_text=True)
    listed = coordinator_client.get("/moderation/taches")
    assert f"/moderation/taches/{job_id}" in listed.get_data(as_text=True) and "8 sur 8 lignes" in text(listed)
    for forged in (link[:-1] + ("B" if link[-1] != "B" else "C"), "/moderation/import/rapport/" + "A" * 22,
                   "/moderation/import/rapport/..%2F..%2Fsecret_key"):
        assert coordinator_client.get(forged).status_code == 404
    assert coordinator_client.get(f"/moderation/taches/{job_id + 1}").status_code == 404
    add_user(app, "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    assert member.get(link).status_code in (302, 403) and member.get(f"/moderation/taches/{job_id}").status_code == 403


def test_a_killed_worker_leaves_a_check_the_next_one_resumes(app, coordinator_client, runner, monkeypatch):
    job_id = job_id_of(send(coordinator_client, fresh_rows(8)))
    heal = die_on_chunk(monkeypatch, 2)
    with pytest.raises(Killed):
        work(runner)
    heal()
    job = job_of(app, job_id)
    assert job.status == "running" and job.done == 3  # the first chunk committed, the second lost
    assert "3 lignes vérifiées sur 8" in text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    app.config["REPERTOIRE_JOBS_STALE_SECONDS"] = 0  # time passes: the heartbeat is stale
    assert "1 tâche exécutée." in work(runner)
    job = job_of(app, job_id)
    assert job.status == "done" and job.attempts == 2
    report = coordinator_client.get(report_link(app, coordinator_client, job_id))
    assert [int(r[0]) for r in report_of(report)] == list(range(2, 10))  # each row once
    assert "8 fiches à créer" in text(report)


def test_a_file_replaced_or_gone_during_the_check_fails_with_a_french_message_and_nothing_imported(
        app, coordinator_client, runner):
    job_id = job_id_of(send(coordinator_client, fresh_rows(8)))
    [token] = [f for f in os.listdir(uploads(app)) if f.endswith(".csv")]
    with open(os.path.join(uploads(app), token), "a", encoding="utf-8") as f:
        f.write(fresh_rows(1, start=900)[0] + "\n")
    work(runner)
    assert job_of(app, job_id).status == "failed"
    page = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "Le fichier a été remplacé pendant sa vérification" in page and "Rien n'a été importé." in page
    assert os.path.exists(os.path.join(uploads(app), token))  # the file is kept
    job_id = job_id_of(send(coordinator_client, fresh_rows(8)))
    for name in os.listdir(uploads(app)):
        os.remove(os.path.join(uploads(app), name))
    work(runner)
    assert "n'est plus disponible" in text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert actor_count(app, "Fiche") == 0


def test_an_unexpected_failure_says_so_in_french_and_keeps_the_file(app, coordinator_client, runner, monkeypatch):
    job_id = job_id_of(send(coordinator_client, fresh_rows(8)))
    monkeypatch.setattr(import_report.operations, "row_outcomes", lambda *a: 1 / 0)
    work(runner)
    page = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "La vérification s'est arrêtée sur une erreur imprévue" in page and "ZeroDivision" not in page
    assert [f for f in os.listdir(uploads(app)) if f.endswith(".csv")]


def test_a_file_changed_between_report_and_import_is_checked_again_and_nothing_imported(
        app, coordinator_client, runner):
    lines = fresh_rows(6) + fresh_rows(2, start=50, department="99")
    job_id = job_id_of(send(coordinator_client, lines))
    work(runner)
    page = coordinator_client.get(report_link(app, coordinator_client, job_id)).get_data(as_text=True)
    token, verdict = choices_of(page)
    with open(os.path.join(uploads(app), token), "a", encoding="utf-8") as f:  # replaced on the server meanwhile
        f.write(fresh_rows(1, start=80, department="99")[0] + "\n")
    again = submit(coordinator_client, f"/moderation/import/{token}/valides", {"verdict": verdict},
                   form_url="/moderation/import")
    assert again.status_code == 302
    work(runner)
    page = text(coordinator_client.get(again.headers["Location"]))
    assert "ne donne plus le même résultat" in page and "Rien n'a été importé." in page
    assert "envoyez-le de nouveau" in page and actor_count(app, "Fiche") == 0


def test_a_forged_verdict_or_token_imports_nothing(app, coordinator_client, runner):
    job_id = job_id_of(send(coordinator_client, fresh_rows(6) + fresh_rows(1, start=70, department="99")))
    work(runner)
    token, verdict = choices_of(coordinator_client.get(report_link(app, coordinator_client, job_id))
                                .get_data(as_text=True))
    forged = submit(coordinator_client, f"/moderation/import/{token}/valides", {"verdict": "0" * 32},
                    form_url="/moderation/import")
    work(runner)
    assert "ne donne plus le même résultat" in text(coordinator_client.get(forged.headers["Location"]))
    assert actor_count(app, "Fiche") == 0
    response = submit(coordinator_client, "/moderation/import/" + "A" * 22 + ".csv/valides", {"verdict": verdict},
                      form_url="/moderation/import")
    assert response.status_code == 302 and actor_count(app, "Fiche") == 0


def test_an_import_confirmed_twice_imports_once(app, coordinator_client, runner):
    job_id = job_id_of(send(coordinator_client, fresh_rows(8)))
    work(runner)
    token, _verdict = choices_of(coordinator_client.get(report_link(app, coordinator_client, job_id))
                                 .get_data(as_text=True))
    assert token is None  # every row valid: the one choice is to import the whole file
    page = coordinator_client.get(report_link(app, coordinator_client, job_id)).get_data(as_text=True)
    token = re.search(r'action="/moderation/import/([^"/]+)"', page).group(1)
    first = submit(coordinator_client, f"/moderation/import/{token}", {}, form_url="/moderation/import")
    second = submit(coordinator_client, f"/moderation/import/{token}", {}, form_url="/moderation/import")
    assert first.status_code == 302 and second.status_code == 302
    assert "1 tâche exécutée." in work(runner)
    assert actor_count(app, "Fiche") == 8
    assert "plus disponible" in text(coordinator_client.get(second.headers["Location"]))


def test_two_coordinators_checking_files_at_once_each_get_their_own_report(app, coordinator_client, runner):
    add_user(app, "autre@example.org", role="coordinator")
    other = app.test_client()
    login(other, "autre@example.org")
    mine = job_id_of(send(coordinator_client, fresh_rows(7)))
    theirs = job_id_of(send(other, fresh_rows(9, start=100)))
    threads = [threading.Thread(target=work, args=(app.test_cli_runner(),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert job_of(app, mine).status == job_of(app, theirs).status == "done"
    assert "7 lignes lues" in text(coordinator_client.get(report_link(app, coordinator_client, mine)))
    assert "9 lignes lues" in text(other.get(report_link(app, other, theirs)))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 2


def test_a_small_file_keeps_its_immediate_report(app, coordinator_client):
    response = send(coordinator_client, fresh_rows(5))
    assert response.status_code == 200 and "5 lignes lues" in text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_without_a_worker_process_the_web_process_checks_the_file_after_the_upload(app, coordinator_client):
    """Inline jobs (the default outside production): the commit of the upload starts the check in a thread;
    two coordinators' checks in two threads at once each get their own file's report."""
    from repertoire.jobs import wait_inline
    app.config["REPERTOIRE_JOBS_INLINE"] = True
    add_user(app, "autre@example.org", role="coordinator")
    other = app.test_client()
    login(other, "autre@example.org")
    mine = send(coordinator_client, fresh_rows(40))
    theirs = send(other, fresh_rows(30, start=100) + fresh_rows(2, start=900, department="99"))
    wait_inline(app)
    assert "40 lignes lues" in text(coordinator_client.get(report_link(app, coordinator_client, job_id_of(mine))))
    page = text(other.get(report_link(app, other, job_id_of(theirs))))
    assert "32 lignes lues" in page and "30 fiches à créer" in page and "2 lignes invalides" in page


def test_links_to_networks_of_the_file_are_checked_as_in_the_request(app, coordinator_client, runner):
    """What needs the whole file — a member naming a network created further down, an unknown network, a network
    naming itself — gives the job's report the immediate one's rows."""
    header = HEADER + ",networks"
    lines = [
        "Membre Côtier,,association,Caen,14000,14,SN,,,,,,,,reseau-cotier:2001",  # the network is on line 4
        "Membre Perdu,,association,Caen,14000,14,SN,,,,,,,,reseau-inconnu",
        "Réseau Côtier,,reseau,Caen,14000,14,SN,,,,,,,,",
        "Réseau Narcisse,,reseau,Caen,14000,14,SN,,,,,,,,reseau-narcisse",
    ] + [line + "," for line in fresh_rows(4)]
    content = header + "\n" + "\n".join(lines) + "\n"
    app.config["IMPORT_BACKGROUND_ROWS"] = 100
    immediate = upload(coordinator_client, content)
    app.config["IMPORT_BACKGROUND_ROWS"] = 5
    job_id = job_id_of(upload(coordinator_client, content))
    work(runner)
    report = coordinator_client.get(report_link(app, coordinator_client, job_id))
    rows = report_of(report)
    assert rows == report_of(immediate)
    assert [state for _l, _n, state, _d in rows[:4]] == ["à créer", "refusée", "à créer", "refusée"]
    assert "réseau inconnu « reseau-inconnu »" in rows[1][3]
    token, verdict = choices_of(report.get_data(as_text=True))
    assert token and verdict == choices_of(immediate.get_data(as_text=True))[1]  # the same lines valid and refused
    imported = submit(coordinator_client, f"/moderation/import/{token}/valides", {"verdict": verdict},
                      form_url="/moderation/import")
    assert imported.status_code == 302
    work(runner)
    with app.app_context():
        member = db.session.scalar(select(Actor).where(Actor.name == "Membre Côtier"))
        assert [m["network"] for m in member.network_values] == ["reseau-cotier"]


def test_a_worker_killed_after_the_report_of_a_file_with_no_valid_row_leaves_a_check_the_next_one_ends(
        app, coordinator_client, runner, monkeypatch):
    """The check's last step writes the report, then deletes an upload nothing may be imported from; killed
    before its commit, the job is still running: the next worker must end it with the report, not fail it on the
    upload it finds gone."""
    job_id = job_id_of(send(coordinator_client, fresh_rows(8, department="99")))
    original = job_operations.KINDS[import_report.KIND]

    def finish(session, job, user):
        original.finish(session, job, user)
        session.flush()
        raise Killed()
    monkeypatch.setitem(job_operations.KINDS, import_report.KIND, dataclasses.replace(original, finish=finish))
    with pytest.raises(Killed):
        work(runner)
    monkeypatch.setitem(job_operations.KINDS, import_report.KIND, original)
    assert job_of(app, job_id).status == "running"
    app.config["REPERTOIRE_JOBS_STALE_SECONDS"] = 0  # time passes: the heartbeat is stale
    work(runner)
    assert job_of(app, job_id).status == "done"
    report = coordinator_client.get(report_link(app, coordinator_client, job_id))
    assert "8 lignes invalides" in text(report) and choices_of(report.get_data(as_text=True)) == (None, None)


def test_a_check_waiting_longer_than_an_upload_is_kept_still_ends_and_its_file_may_then_be_imported(
        app, coordinator_client, runner):
    """Uploads never confirmed are deleted after ``UPLOAD_MAX_AGE`` by any visit to the import page; a large file
    whose check waits (other jobs first) or runs longer than that must not be deleted under it, and once its
    report is written its coordinator has that time again to confirm."""
    job_id = job_id_of(send(coordinator_client, fresh_rows(8)))
    [token] = [f for f in os.listdir(uploads(app)) if f.endswith(".csv")]
    path = os.path.join(uploads(app), token)
    an_hour_ago = os.path.getmtime(path) - app.config["UPLOAD_MAX_AGE"] - 60
    os.utime(path, (an_hour_ago, an_hour_ago))  # the job waited an hour in the queue
    assert coordinator_client.get("/moderation/import").status_code == 200  # someone opens the import page
    assert "1 tâche exécutée." in work(runner)
    assert job_of(app, job_id).status == "done"
    report = coordinator_client.get(report_link(app, coordinator_client, job_id))
    page = report.get_data(as_text=True)
    assert "8 fiches à créer" in text(report)
    token_shown = re.search(r'action="/moderation/import/([^"/]+)"', page).group(1)
    assert coordinator_client.get("/moderation/import").status_code == 200
    done = submit(coordinator_client, f"/moderation/import/{token_shown}", {}, form_url="/moderation/import")
    assert done.status_code == 302
    work(runner)
    assert actor_count(app, "Fiche") == 8


def confirmed_import(app, client, runner, count=8):
    """A large file checked by its job, then confirmed: the import job's page address."""
    job_id = job_id_of(send(client, fresh_rows(count)))
    work(runner)
    page = client.get(report_link(app, client, job_id)).get_data(as_text=True)
    token = re.search(r'action="/moderation/import/([^"/]+)"', page).group(1)
    confirmed = submit(client, f"/moderation/import/{token}", {}, form_url="/moderation/import")
    assert confirmed.status_code == 302 and "/moderation/taches/" in confirmed.headers["Location"]
    return confirmed.headers["Location"]


def test_a_worker_killed_during_a_large_import_imports_nothing_and_the_next_one_imports_it_once(
        app, coordinator_client, runner, monkeypatch):
    job_page = confirmed_import(app, coordinator_client, runner)
    original = job_operations.KINDS[import_report.APPLY]

    def killed(session, job, ids, user):
        original.chunk(session, job, ids, user)
        session.flush()  # every actor written, not committed
        raise Killed()
    monkeypatch.setitem(job_operations.KINDS, import_report.APPLY, dataclasses.replace(original, chunk=killed))
    with pytest.raises(Killed):
        work(runner)
    monkeypatch.setitem(job_operations.KINDS, import_report.APPLY, original)
    assert actor_count(app, "Fiche") == 0
    assert "0 lignes importées sur 8" in text(coordinator_client.get(job_page))
    app.config["REPERTOIRE_JOBS_STALE_SECONDS"] = 0  # time passes: the heartbeat is stale
    assert "1 tâche exécutée." in work(runner)
    assert actor_count(app, "Fiche") == 8
    assert "Import terminé : 8 fiches créées, 0 mise à jour, 0 inchangée." in text(coordinator_client.get(job_page))
    assert not [f for f in os.listdir(uploads(app)) if f.endswith(".csv")]  # the upload is gone once imported


def test_a_large_import_is_its_coordinators_own_and_a_file_gone_meanwhile_imports_nothing(
        app, coordinator_client, runner):
    job_page = confirmed_import(app, coordinator_client, runner)
    add_user(app, "autre@example.org", role="coordinator")
    other = app.test_client()
    login(other, "autre@example.org")
    assert other.get(job_page).status_code == 404 and "Import d'un fichier" not in text(other.get("/moderation/taches"))
    for name in os.listdir(uploads(app)):  # the server's folder emptied before the worker ran
        os.remove(os.path.join(uploads(app), name))
    work(runner)
    page = text(coordinator_client.get(job_page))
    assert "n'est plus disponible" in page and "Rien n'a été importé." in page and actor_count(app, "Fiche") == 0
