"""Issue 15 point 1 (bulk actions): undoing a bulk action is a job like the action itself — the undo button
queues it and shows its progress; a replayed form queues nothing twice; a killed worker's undo resumes without
double effect; an undo is still never undone; only global coordinators undo."""
import threading

import pytest
from sqlalchemy import func, select

from conftest import add_actor, add_user, build_app, dispose
from repertoire.extensions import db
from repertoire.models import AuditEvent, Job, Membership
from test_jobs import Killed, archive_revisions, die_on_chunk, job_id_of, job_of, queue
from test_networks import NORMANDY, client_of, make_curating, slug_of
from web import csrf_token, submit, text


@pytest.fixture
def app(tmp_path):
    """No inline thread: the tests run the worker themselves, 2 actors a chunk."""
    app = build_app(tmp_path, REPERTOIRE_JOBS_INLINE=False, REPERTOIRE_JOBS_CHUNK=2)
    yield app
    dispose(app)


def event_of(app, kind) -> AuditEvent:
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)).all()
        [event] = event
        db.session.expunge(event)
        return event


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def undo(client, event_id):
    return submit(client, f"/moderation/journal/{event_id}/annuler", {}, form_url=f"/moderation/journal/{event_id}")


def archived_five(app, client, runner) -> AuditEvent:
    for n in range(5):
        add_actor(app, name=f"Forages {n}")
    job_id_of(queue(client, "archiver", q="forages"))
    runner.invoke(args=["jobs", "work", "--once"])
    return event_of(app, "bulk.archive")


def public_total(app, q="forages") -> int:
    return app.test_client().get(f"/api/actors?q={q}").get_json()["total"]


def test_the_undo_button_queues_a_job_then_its_page_shows_what_was_restored(app, coordinator_client, runner):
    bulk = archived_five(app, coordinator_client, runner)
    response = undo(coordinator_client, bulk.id)
    job_id = job_id_of(response)
    assert response.headers["Location"].endswith(f"/moderation/taches/{job_id}")
    page = coordinator_client.get(response.headers["Location"])
    body = text(page)
    assert "Annulation lancée sur 5 fiches." in body and "Annulation d'une action en lot" in body
    assert "en attente" in body and 'http-equiv="refresh"' in page.get_data(as_text=True)
    assert public_total(app) == 0 and count(app, AuditEvent, AuditEvent.kind == "undo") == 0  # nothing yet
    journal = text(coordinator_client.get(f"/moderation/journal/{bulk.id}"))
    assert f"Annulation en cours : tâche n° {job_id}" in journal and "Annuler" not in journal.replace(
        "Annulation", "")  # no second button while it waits
    assert "1 tâche exécutée." in runner.invoke(args=["jobs", "work", "--once"]).output
    assert public_total(app) == 5
    body = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "terminée" in body and "5 fiches rétablies." in body and "5 fiches traitées sur 5" in body
    undo_event = event_of(app, "undo")
    assert undo_event.undo_of_id == bulk.id and undo_event.after == {"undone": 5, "skipped": 0}
    assert job_of(app, job_id).result["event"] == undo_event.id
    journal = text(coordinator_client.get(f"/moderation/journal/{bulk.id}"))
    assert f"Annulée par l'action n° {undo_event.id}" in journal


def test_a_replayed_undo_form_queues_nothing_twice(app, coordinator_client, runner):
    bulk = archived_five(app, coordinator_client, runner)
    page = coordinator_client.get(f"/moderation/journal/{bulk.id}").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page)}
    first = job_id_of(coordinator_client.post(f"/moderation/journal/{bulk.id}/annuler", data=form))
    again = job_id_of(coordinator_client.post(f"/moderation/journal/{bulk.id}/annuler", data=form))  # replayed
    add_user(app, "autre@example.org", role="coordinator")
    other = client_of(app, "autre@example.org")  # another global coordinator, at the same time
    assert job_id_of(undo(other, bulk.id)) == first == again
    assert count(app, Job, Job.kind == "bulk.undo") == 1
    runner.invoke(args=["jobs", "work", "--once"])
    late = coordinator_client.post(f"/moderation/journal/{bulk.id}/annuler", data=form, follow_redirects=True)
    assert "Cette action a déjà été annulée." in text(late)
    assert count(app, Job, Job.kind == "bulk.undo") == 1 and count(app, AuditEvent, AuditEvent.kind == "undo") == 1
    assert archive_revisions(app, "Forages") == {f"Forages {n}": 1 for n in range(5)}


def test_an_undo_is_never_undone_and_changes_since_are_kept(app, coordinator_client, runner):
    bulk = archived_five(app, coordinator_client, runner)
    with app.app_context():  # one restored by hand meanwhile: it keeps its present state
        from repertoire.models import Actor
        from repertoire.operations import restore_actor
        restore_actor(db.session, db.session.scalar(select(Actor).where(Actor.name == "Forages 3")))
        db.session.commit()
    job_id = job_id_of(undo(coordinator_client, bulk.id))
    runner.invoke(args=["jobs", "work", "--once"])
    body = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert "4 fiches rétablies. 1 élément modifié depuis garde ses valeurs actuelles." in body
    undo_event = event_of(app, "undo")
    page = text(coordinator_client.get(f"/moderation/journal/{undo_event.id}"))
    assert f"Annule l'action n° {bulk.id}" in page and "Annuler" not in page.replace("Annulation", "").replace(
        "Annule l'action", "")
    refused = coordinator_client.post(f"/moderation/journal/{undo_event.id}/annuler",
                                      data={"csrf_token": csrf_token(
                                          coordinator_client.get("/moderation/journal").get_data(as_text=True))},
                                      follow_redirects=True)
    assert "Cette action ne peut pas être annulée." in text(refused)
    assert count(app, Job, Job.kind == "bulk.undo") == 1 and public_total(app) == 5


def test_a_killed_worker_resumes_the_undo_without_double_effect(app, coordinator_client, runner, monkeypatch):
    bulk = archived_five(app, coordinator_client, runner)
    job_id = job_id_of(undo(coordinator_client, bulk.id))
    heal = die_on_chunk(monkeypatch, "bulk.undo", 2)
    with pytest.raises(Killed):
        runner.invoke(args=["jobs", "work", "--once"])
    heal()
    job = job_of(app, job_id)
    assert job.status == "running" and job.done == 2 and public_total(app) == 2  # the first chunk committed
    assert count(app, AuditEvent, AuditEvent.kind == "undo") == 0
    app.config["REPERTOIRE_JOBS_STALE_SECONDS"] = 0  # the heartbeat grows stale: taken over
    assert "1 tâche exécutée." in runner.invoke(args=["jobs", "work", "--once"]).output
    job = job_of(app, job_id)
    assert job.status == "done" and job.attempts == 2 and job.result["count"] == 5
    assert public_total(app) == 5 and event_of(app, "undo").after == {"undone": 5, "skipped": 0}
    with app.app_context():  # each actor restored once: one "undo" revision each
        from repertoire.models import Revision
        assert db.session.scalar(select(func.count()).select_from(Revision).where(Revision.action == "undo")) == 5


def test_undo_of_a_bulk_add_to_a_network_as_a_job(app, coordinator_client, runner):
    network = add_actor(app, name="Réseau Normand", kind="reseau")
    for n in range(3):
        add_actor(app, name=f"Forages {n}")
    job_id_of(queue(coordinator_client, "reseau", q="forages", network_name="Réseau Normand"))
    runner.invoke(args=["jobs", "work", "--once"])
    assert count(app, Membership, Membership.network_id == network) == 3
    job_id = job_id_of(undo(coordinator_client, event_of(app, "bulk.network").id))
    assert count(app, Membership, Membership.network_id == network) == 3  # not in the request
    runner.invoke(args=["jobs", "work", "--once"])
    assert count(app, Membership, Membership.network_id == network) == 0
    assert "3 fiches rétablies." in text(coordinator_client.get(f"/moderation/taches/{job_id}"))


def test_a_networks_coordinator_neither_undoes_nor_sees_the_undo_job(app, coordinator_client, runner):
    horizons = add_actor(app, name="Horizons Solidaires", kind="reseau")
    add_user(app, "admin@example.org", role="admin")
    add_user(app, "coord.a@example.org")
    admin = client_of(app, "admin@example.org")
    make_curating(admin, slug_of(app, horizons), NORMANDY, "coord.a@example.org")
    coord_a = client_of(app, "coord.a@example.org")
    bulk = archived_five(app, coordinator_client, runner)
    page = coord_a.get("/moderation/journal").get_data(as_text=True)
    forged = coord_a.post(f"/moderation/journal/{bulk.id}/annuler", data={"csrf_token": csrf_token(page)})
    assert forged.status_code in (403, 404) and count(app, Job, Job.kind == "bulk.undo") == 0
    job_id = job_id_of(undo(coordinator_client, bulk.id))
    assert coord_a.get(f"/moderation/taches/{job_id}").status_code == 404
    assert f"Tâche n° {job_id}" not in text(coord_a.get("/moderation/taches"))


def test_two_coordinators_undoing_at_the_same_instant_get_one_job(app, coordinator_client, runner):
    bulk = archived_five(app, coordinator_client, runner)
    add_user(app, "autre@example.org", role="coordinator")
    clients = [coordinator_client, client_of(app, "autre@example.org")]
    tokens = [csrf_token(c.get(f"/moderation/journal/{bulk.id}").get_data(as_text=True)) for c in clients]
    start = threading.Barrier(2)
    answers = []

    def press(client, token):
        start.wait()
        answers.append(client.post(f"/moderation/journal/{bulk.id}/annuler", data={"csrf_token": token}))
    threads = [threading.Thread(target=press, args=pair) for pair in zip(clients, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({job_id_of(a) for a in answers}) == 1 and count(app, Job, Job.kind == "bulk.undo") == 1
    runner.invoke(args=["jobs", "work", "--once"])
    assert public_total(app) == 5 and count(app, AuditEvent, AuditEvent.kind == "undo") == 1


def test_an_undo_meeting_an_actor_it_cannot_change_goes_on_with_the_others(app, coordinator_client, runner):
    """One actor of a bulk « add to a network » is also a member of a network archived since (its entry can no
    longer be saved as it is): undoing must not stop on it — neither failing every time it is queued again nor,
    once a chunk is done, being recorded as undone with the others of later chunks still members (an undo is
    never undone: they could never be taken out). It keeps its values and is counted as such."""
    from repertoire.operations import archive_actor
    from repertoire.models import Actor
    network = add_actor(app, name="Réseau Normand", kind="reseau")
    other = add_actor(app, name="Réseau Sahel", kind="reseau")
    for n in range(5):  # 2 a chunk: the stuck one is in the second
        add_actor(app, name=f"Forages {n}", networks=slug_of(app, other) if n == 2 else "")
    job_id_of(queue(coordinator_client, "reseau", q="forages", network_name="Réseau Normand"))
    runner.invoke(args=["jobs", "work", "--once"])
    assert count(app, Membership, Membership.network_id == network) == 5
    with app.app_context():
        archive_actor(db.session, db.session.get(Actor, other))
        db.session.commit()
    job_id = job_id_of(undo(coordinator_client, event_of(app, "bulk.network").id))
    runner.invoke(args=["jobs", "work", "--once"])
    page = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert job_of(app, job_id).status == "done", page
    assert "4 fiches rétablies." in page and "1 élément modifié depuis garde ses valeurs actuelles." in page
    assert count(app, Membership, Membership.network_id == network) == 1


def test_an_undo_failed_half_way_is_not_recorded_as_done_and_may_be_queued_again(
        app, coordinator_client, runner, monkeypatch):
    """An undo that stops on an error after a chunk must not be recorded as the undo of the action (an undo is
    done once, never undone: the actors of its later chunks could never be restored); queued again, it restores
    them, those restored the first time keeping their state."""
    from repertoire.operations import OperationError, jobs as job_operations
    bulk = archived_five(app, coordinator_client, runner)
    job_id = job_id_of(undo(coordinator_client, bulk.id))
    original = job_operations.KINDS["bulk.undo"]
    calls = []

    def chunk(session, job, ids, user):
        calls.append(ids)
        if len(calls) == 2:
            raise OperationError("panne")
        return original.chunk(session, job, ids, user)
    monkeypatch.setitem(job_operations.KINDS, "bulk.undo", job_operations.JobKind(chunk=chunk, finish=original.finish))
    runner.invoke(args=["jobs", "work", "--once"])
    monkeypatch.setitem(job_operations.KINDS, "bulk.undo", original)
    assert job_of(app, job_id).status == "failed" and public_total(app) == 2
    assert count(app, AuditEvent, AuditEvent.kind == "undo") == 0
    assert "L'annulation n'est pas allée jusqu'au bout" in text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    page = coordinator_client.get(f"/moderation/journal/{bulk.id}")
    assert "déjà annulée" not in text(page)
    again = job_id_of(undo(coordinator_client, bulk.id))
    assert again != job_id
    runner.invoke(args=["jobs", "work", "--once"])
    assert job_of(app, again).status == "done" and public_total(app) == 5
    assert count(app, AuditEvent, AuditEvent.kind == "undo") == 1
