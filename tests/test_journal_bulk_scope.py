"""Issue 15 point 1 (bulk actions' leaks): a network's coordinator reading the journal event of a bulk action a
global coordinator made sees the ids of the actors within their networks only, and how many others."""
import csv
import html as html_lib
import io
import json
import re

import pytest
from sqlalchemy import select

from conftest import add_actor, add_user, build_app, dispose
from repertoire.extensions import db
from repertoire.models import AuditEvent
from repertoire.operations import audit
from test_jobs import job_id_of, queue
from test_networks import NORMANDY, client_of, make_curating, slug_of
from web import text


@pytest.fixture
def app(tmp_path):
    app = build_app(tmp_path, REPERTOIRE_JOBS_INLINE=False, REPERTOIRE_JOBS_CHUNK=2)
    yield app
    dispose(app)


@pytest.fixture
def world(app):
    """Network A (Normandy) and B (Lyon), each with its coordinator; 3 wells in Caen (members of A), 2 in Lyon
    (members of B)."""
    horizons = add_actor(app, name="Horizons Solidaires", kind="reseau")
    resacoop = add_actor(app, name="Resacoop", kind="reseau", town="Lyon", postcode="69001", department="69")
    add_user(app, "admin@example.org", role="admin")
    add_user(app, "coord.a@example.org")
    add_user(app, "coord.b@example.org")
    admin = client_of(app, "admin@example.org")
    a = make_curating(admin, slug_of(app, horizons), NORMANDY, "coord.a@example.org")
    b = make_curating(admin, slug_of(app, resacoop), "69", "coord.b@example.org")
    caen = [add_actor(app, name=f"Puits de Caen {n}", networks=slug_of(app, horizons)) for n in range(3)]
    lyon = [add_actor(app, name=f"Puits de Lyon {n}", town="Lyon", postcode="69003", department="69",
                      networks=slug_of(app, resacoop)) for n in range(2)]
    return {"a": a, "b": b, "caen": caen, "lyon": lyon,
            "coord_a": client_of(app, "coord.a@example.org"), "coord_b": client_of(app, "coord.b@example.org")}


def shown_values(response) -> list:
    """The event's values as the page shows them (before, after)."""
    return [json.loads(html_lib.unescape(block)) for block in
            re.findall(r'<pre class="json">(.*?)</pre>', response.get_data(as_text=True), re.S)]


def archived_ids(values) -> list[int]:
    return sorted(i for i, _status in values["actors"])


@pytest.mark.parametrize("read_scope_above", [1, 2000])  # the scope's ids read once, or the ids checked by chunks
def test_a_networks_coordinator_reads_only_their_actors_ids_in_a_global_bulk_event(app, world, coordinator_client,
                                                                                    runner, monkeypatch,
                                                                                    read_scope_above):
    monkeypatch.setattr(audit, "SCOPE_READ_ABOVE", read_scope_above)
    job_id = job_id_of(queue(coordinator_client, "archiver", q="puits"))  # a global coordinator, all five
    runner.invoke(args=["jobs", "work", "--once"])
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "bulk.archive"))
        event_id = event.id
        assert sorted(event.networks) == sorted([world["a"], world["b"]]) and len(event.before["actors"]) == 5
    url = f"/moderation/journal/{event_id}"
    # the global coordinator: every id
    before, _after = shown_values(coordinator_client.get(url))
    assert archived_ids(before) == sorted(world["caen"] + world["lyon"]) and "actors_outside_scope" not in before
    # coordinator A: Caen's ids, Lyon's counted only; coordinator B the other way round
    for client, mine, others in ((world["coord_a"], world["caen"], world["lyon"]),
                                 (world["coord_b"], world["lyon"], world["caen"])):
        page = client.get(url)
        assert page.status_code == 200
        before, after = shown_values(page)
        assert archived_ids(before) == sorted(mine) and before["actors_outside_scope"] == len(others)
        assert after == {"archived": 5}
        assert ("Seules les fiches de vos réseaux sont nommées : %d autres fiches de cette action ne sont que "
                "comptées." % len(others)) in text(page)
        rows = list(csv.DictReader(io.StringIO(client.get("/moderation/journal.csv").get_data(as_text=True)
                                               .lstrip("\ufeff"))))
        [row] = [r for r in rows if r["id"] == str(event_id)]
        exported = json.loads(row["before"])
        assert archived_ids(exported) == sorted(mine) and exported["actors_outside_scope"] == len(others)
    rows = list(csv.DictReader(io.StringIO(coordinator_client.get("/moderation/journal.csv").get_data(as_text=True)
                                           .lstrip("\ufeff"))))
    [row] = [r for r in rows if r["id"] == str(event_id)]
    assert len(json.loads(row["before"])["actors"]) == 5  # the global coordinator's export: everything


def test_one_other_actor_is_said_in_the_singular(app, world, coordinator_client, runner):
    job_id_of(queue(coordinator_client, "archiver", q="0"))  # Puits de Caen 0 (A) and Puits de Lyon 0 (B)
    runner.invoke(args=["jobs", "work", "--once"])
    with app.app_context():
        event_id = db.session.scalar(select(AuditEvent.id).where(AuditEvent.kind == "bulk.archive"))
    page = world["coord_a"].get(f"/moderation/journal/{event_id}")
    assert archived_ids(shown_values(page)[0]) == [world["caen"][0]]
    assert "Seules les fiches de vos réseaux sont nommées : 1 autre fiche de cette action n'est que comptée." \
        in text(page)


def test_a_global_bulk_action_on_actors_of_a_networks_territory_only_is_in_its_coordinators_journal(
        app, world, coordinator_client, runner):
    """Actors within network A's scope through its territory only (members of no network): archived, or added to
    another network, in bulk by a global coordinator, the events are filed under A too — an event about an actor
    is filed under the curating networks whose scope holds it — and A's coordinator reads their ids there."""
    bayeux = [add_actor(app, name=f"Forage de Bayeux {n}", town="Bayeux", postcode="14400", department="14")
              for n in range(2)]
    lyon = add_actor(app, name="Forage de Lyon", town="Lyon", postcode="69003", department="69")
    sahel = add_actor(app, name="Réseau Sahel", kind="reseau", town="Paris", postcode="75010", department="75")
    job_id_of(queue(coordinator_client, "reseau", q="forage", network_name="Réseau Sahel"))
    job_id_of(queue(coordinator_client, "archiver", q="forage"))
    runner.invoke(args=["jobs", "work", "--once"])
    with app.app_context():
        events = {e.kind: e.id for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.kind.in_(("bulk.archive", "bulk.network"))))}
    assert len(events) == 2
    journal = world["coord_a"].get("/moderation/journal").get_data(as_text=True)
    for kind, event_id in events.items():
        assert f"/moderation/journal/{event_id}" in journal, kind
        page = world["coord_a"].get(f"/moderation/journal/{event_id}")
        assert page.status_code == 200
        before, _after = shown_values(page)
        ids = archived_ids(before) if kind == "bulk.archive" else sorted(before["actors"])
        assert ids == sorted(bayeux) and before["actors_outside_scope"] == 1
    assert world["coord_b"].get(f"/moderation/journal/{events['bulk.network']}").status_code == 200  # Lyon's
    assert sahel and lyon
