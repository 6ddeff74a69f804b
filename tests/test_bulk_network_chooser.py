"""Issue 15 point 1: « ajouter à un réseau » in bulk without a menu of every network — the name typed, looked
up on submit (one match: that network; several: a short list of radio buttons with town and département; none:
a French message, what was typed kept); a network's coordinator picks among their own; forged ids refused."""
import re

import pytest
from sqlalchemy import func, select

from conftest import add_actor, add_user, build_app, dispose
from repertoire.extensions import db
from repertoire.models import Job
from test_jobs import job_of, job_id_of
from test_networks import NORMANDY, client_of, make_curating, slug_of
from web import csrf_token, submit, text


@pytest.fixture
def app(tmp_path):
    app = build_app(tmp_path, REPERTOIRE_JOBS_INLINE=False, REPERTOIRE_JOBS_CHUNK=2)
    yield app
    dispose(app)


def confirm(client, q="forages"):
    page = client.get(f"/moderation/acteurs/lot?action=reseau&q={q}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, {"csrf_token": csrf_token(html), "action": "reseau", "q": q, "status": "",
                  "count": re.search(r'name="count" value="(\d+)"', html).group(1)}


def post(client, data, **form):
    return client.post("/moderation/acteurs/lot", data={**data, **form})


def radios(response) -> list[tuple[int, str]]:
    """The networks offered as radio buttons: (id, label)."""
    return [(int(i), re.sub(r"\s+", " ", label).strip()) for i, label in re.findall(
        r'<input type="radio" name="network" value="(\d+)"[^>]*>([^<]*)</label>', response.get_data(as_text=True))]


def jobs(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Job))


def members(client, actor_id) -> list[str]:
    return [n["network"] for n in client.get(f"/api/actors/{actor_id}").get_json()["networks"]]


def test_no_menu_of_every_network_and_one_name_typed_is_that_network(app, coordinator_client, runner):
    for n in range(25):
        add_actor(app, name=f"Réseau Sahel {n:02d}", kind="reseau")
    normand = add_actor(app, name="Réseau Normand de Solidarité", acronym="RNS", kind="reseau")
    forages = [add_actor(app, name=f"Forages {n}") for n in range(3)]
    html, data = confirm(coordinator_client)
    assert 'id="bulk-network-name"' in html and "<select" not in html and "Réseau Sahel" not in html
    # accents, case and punctuation aside, the whole name: queued on it at once
    job_id = job_id_of(post(coordinator_client, data, network_name="  reseau normand de SOLIDARITE "))
    assert job_of(app, job_id).params["network"] == normand and job_of(app, job_id).total == 3
    runner.invoke(args=["jobs", "work", "--once"])
    public = app.test_client()
    assert all(members(public, i) == ["reseau-normand-de-solidarite"] for i in forages)
    # its acronym designates it too
    html, data = confirm(coordinator_client)
    job_id = job_id_of(post(coordinator_client, data, network_name="rns"))
    assert job_of(app, job_id).params["network"] == normand


def test_several_matches_a_short_list_with_town_and_departement_then_the_one_picked(app, coordinator_client):
    caen = add_actor(app, name="Réseau Eau Normandie", kind="reseau")
    rouen = add_actor(app, name="Réseau Eau Seine", kind="reseau", town="Rouen", postcode="76000",
                      department="76")
    add_actor(app, name="Réseau Eau Archivé", kind="reseau", status="archived")  # never offered
    add_actor(app, name="Eau Vive Caen")  # not a network: never offered
    add_actor(app, name="Forages 1")
    html, data = confirm(coordinator_client)
    page = post(coordinator_client, data, network_name="eau")
    assert page.status_code == 200 and jobs(app) == 0
    assert "2 réseaux correspondent à ce nom : choisissez le bon." in text(page)
    assert radios(page) == [(caen, "Réseau Eau Normandie — Caen (Calvados)"),
                            (rouen, "Réseau Eau Seine — Rouen (Seine-Maritime)")]
    shown = page.get_data(as_text=True)
    assert 'name="network_name" value="eau"' in shown and 'name="q" value="forages"' in shown  # all kept
    data["csrf_token"] = csrf_token(shown)
    job_id = job_id_of(post(coordinator_client, data, network_name="eau", looked_up="eau", network=rouen))
    assert job_of(app, job_id).params["network"] == rouen
    # a name changed after the list was shown is looked up again, the stale choice ignored
    html, data = confirm(coordinator_client)
    again = post(coordinator_client, data, network_name="seine", looked_up="eau", network=caen)
    assert job_id_of(again) == job_id and jobs(app) == 1  # Rouen's, already queued: not Caen's, not twice


def test_two_networks_of_the_same_name_are_both_offered(app, coordinator_client):
    one = add_actor(app, name="Comité de Jumelage", kind="reseau")
    two = add_actor(app, name="Comité de jumelage", kind="reseau", town="Lyon", postcode="69001", department="69")
    add_actor(app, name="Forages 1")
    html, data = confirm(coordinator_client)
    page = post(coordinator_client, data, network_name="Comité de jumelage")
    assert page.status_code == 200 and sorted(i for i, _ in radios(page)) == sorted([one, two]) and jobs(app) == 0


def test_more_than_twenty_matches_twenty_offered_and_the_count_said(app, coordinator_client):
    for n in range(23):
        add_actor(app, name=f"Réseau Sahel {n:02d}", kind="reseau")
    add_actor(app, name="Forages 1")
    html, data = confirm(coordinator_client)
    page = post(coordinator_client, data, network_name="sahel")
    assert page.status_code == 200 and len(radios(page)) == 20
    assert "23 réseaux correspondent à ce nom ; en voici 20 : précisez le nom pour voir les autres." in text(page)


def test_no_match_or_nothing_typed_a_french_message_and_nothing_queued(app, coordinator_client):
    add_actor(app, name="Réseau Normand", kind="reseau")
    add_actor(app, name="Forages 1")
    html, data = confirm(coordinator_client)
    page = post(coordinator_client, data, network_name="Réseau Breton")
    assert page.status_code == 400
    assert "Aucun réseau publié ne correspond à « Réseau Breton » : vérifiez le nom." in text(page)
    assert 'name="network_name" value="Réseau Breton"' in page.get_data(as_text=True)
    page = post(coordinator_client, data, network_name="  ")
    assert page.status_code == 400 and "Indiquez le nom du réseau." in text(page)
    assert jobs(app) == 0


def test_forged_network_ids_are_refused_with_a_message(app, coordinator_client):
    archived = add_actor(app, name="Réseau Fermé", kind="reseau", status="archived")
    pending = add_actor(app, name="Réseau En Attente", kind="reseau", status="pending")
    not_a_network = add_actor(app, name="Association Forages", kind="association")
    add_actor(app, name="Forages 1")
    html, data = confirm(coordinator_client)
    for forged in (archived, pending, not_a_network, 999999):
        page = post(coordinator_client, data, network=forged)
        assert page.status_code == 400 and "Le réseau doit être une fiche publiée." in text(page), forged
    assert post(coordinator_client, data, network="abc", network_name="").status_code == 400
    assert jobs(app) == 0


def test_a_networks_coordinator_chooses_among_their_own_networks(app, coordinator_client):
    horizons = add_actor(app, name="Horizons Solidaires", kind="reseau")
    second = add_actor(app, name="Normandie Coopération", kind="reseau", town="Rouen", postcode="76000",
                       department="76")
    resacoop = add_actor(app, name="Resacoop", kind="reseau", town="Lyon", postcode="69001", department="69")
    add_user(app, "admin@example.org", role="admin")
    add_user(app, "coord.a@example.org")
    admin = client_of(app, "admin@example.org")
    make_curating(admin, slug_of(app, horizons), NORMANDY, "coord.a@example.org")
    make_curating(admin, slug_of(app, second), "76", "coord.a@example.org")
    make_curating(admin, slug_of(app, resacoop), "69")
    add_actor(app, name="Forages 1")
    coord = client_of(app, "coord.a@example.org")
    html, data = confirm(coord)
    page = coord.get("/moderation/acteurs/lot?action=reseau&q=forages")
    assert radios(page) == [(horizons, "Horizons Solidaires — Caen (Calvados)"),
                            (second, "Normandie Coopération — Rouen (Seine-Maritime)")]
    assert 'id="bulk-network-name"' not in html
    assert post(coord, data).status_code == 400  # none chosen
    refused = post(coord, data, network=resacoop)  # another network's id
    assert refused.status_code == 400 and "qu'à l'un de vos réseaux" in text(refused)
    typed = post(coord, data, network_name="Resacoop")  # nor by its name
    assert typed.status_code == 400 and jobs(app) == 0
    submit(admin, f"/moderation/acteurs/{second}/archiver", {}, form_url=f"/moderation/acteurs/{second}")
    refused = post(coord, data, network=second)  # their own, archived since the page was shown
    assert refused.status_code == 400 and "Le réseau doit être une fiche publiée." in text(refused)
    assert [i for i, _ in radios(coord.get("/moderation/acteurs/lot?action=reseau&q=forages"))] == [horizons]
    assert job_of(app, job_id_of(post(coord, data, network=horizons))).params["network"] == horizons


def test_an_acronym_with_an_accent_typed_in_another_case_designates_its_network(app, coordinator_client):
    """SQLite's lower() folds ASCII letters only (PostgreSQL's folds all): « cérès » must find « CÉRÈS » on both."""
    ceres = add_actor(app, name="Collectif pour l'Entraide Rurale et Solidaire", acronym="CÉRÈS", kind="reseau")
    add_actor(app, name="Forages 1")
    _html, data = confirm(coordinator_client)
    job_id = job_id_of(post(coordinator_client, data, network_name="cérès"))
    assert job_of(app, job_id).params["network"] == ceres


def test_an_actor_whose_entry_cannot_be_saved_as_it_is_does_not_stop_the_others_being_added(
        app, coordinator_client, runner):
    """One actor of the selection is a member of a network archived since (its entry can no longer be saved as it
    is): the others are added all the same, it keeps its values, and the job ends (not failed half-way)."""
    from repertoire.models import Actor
    from repertoire.operations import archive_actor
    normand = add_actor(app, name="Réseau Normand", kind="reseau")
    sahel = add_actor(app, name="Réseau Sahel", kind="reseau")
    forages = [add_actor(app, name=f"Forages {n}", networks=slug_of(app, sahel) if n == 1 else "")
               for n in range(4)]  # 2 a chunk: the stuck one in the first
    with app.app_context():
        archive_actor(db.session, db.session.get(Actor, sahel))
        db.session.commit()
    _html, data = confirm(coordinator_client)
    job_id = job_id_of(post(coordinator_client, data, network_name="Réseau Normand"))
    runner.invoke(args=["jobs", "work", "--once"])
    page = text(coordinator_client.get(f"/moderation/taches/{job_id}"))
    assert job_of(app, job_id).status == "done", page
    assert "3 fiches ajoutées au réseau." in page
    public = app.test_client()
    assert [members(public, i) for i in forages if i != forages[1]] == [["reseau-normand"]] * 3
