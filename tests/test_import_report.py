"""The back-office import report lists every row (issue 15 point 5).

Created, updated (with the changed fields named), unchanged, likely duplicate of a published actor (with a
link to it, found by the one detector), or refused (line and reason); the counts add up to the rows read;
a large file is shown a hundred rows at a time.
"""
import re

from sqlalchemy import func, select

from conftest import add_actor, add_user, login
from repertoire.extensions import db
from repertoire.models import Actor, Revision
from test_curation import HEADER, upload
from web import submit, text

ROWS = [
    # line 2: new, like nothing
    "Amitiés Rouen-Bamako,,association,Rouen,76000,76,ML,,,,,,,",
    # line 3: new, same e-mail as the published « Puits du Sahel »: a likely duplicate
    "Les Amis des Puits,,association,Caen,14000,14,ML,,,,,,CONTACT@puits-sahel.example.org,",
    # line 4: existing, another phone and description: updated
    "Déjà Là,,association,Caen,14000,14,SN,,,,Nouvelle présentation.,,,02 31 99 99 99",
    # line 5: existing, the same values: unchanged
    "Toujours Pareil,,association,Caen,14000,14,SN,,,,,,,",
    # line 6: refused, unknown département
    "Nulle Part,,association,Caen,14000,99,,,,,,,,",
    # line 7: refused, a cell too many
    "Trop De Cases,,association,Caen,14000,14,ML,,,,,,,,,",
]


def report_of(response) -> list[tuple[str, str, str, str]]:
    """(line, name, result, detail) of each row shown."""
    page = response.get_data(as_text=True)
    rows = re.findall(r'<tr class="row-\w+"><td>(\d+)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>', page,
                      re.S)
    return [(line, name, state, re.sub(r"\s+", " ", detail).strip()) for line, name, state, detail in rows]


def test_every_row_is_listed_with_what_importing_does_and_the_counts_add_up(app, coordinator_client):
    dup = add_actor(app, name="Puits du Sahel", email="contact@puits-sahel.example.org", countries="ML")
    add_actor(app, name="Déjà Là", countries="SN", phone="02 31 00 00 01")
    add_actor(app, name="Toujours Pareil", countries="SN")
    response = upload(coordinator_client, HEADER + "\n" + "\n".join(ROWS) + "\n")
    assert response.status_code == 400  # a line that could not be read: nothing may be imported
    body = text(response)
    assert "6 lignes lues" in body
    for count in ("1 fiche à créer", "1 doublon probable d'une fiche publiée", "1 fiche existante à mettre à jour",
                  "1 fiche existante inchangée", "2 lignes invalides"):
        assert count in body, count
    rows = report_of(response)
    assert [(line, state) for line, _name, state, _detail in rows] == [
        ("2", "à créer"), ("3", "doublon probable"), ("4", "à mettre à jour"), ("5", "inchangée"),
        ("6", "refusée"), ("7", "refusée")]
    assert rows[2][3] == "champs modifiés : Présentation, Téléphone"
    assert f'<a href="/moderation/acteurs/{dup}">Puits du Sahel</a>' in rows[1][3]
    assert "même adresse électronique" in rows[1][3]
    assert "département inconnu « 99 »" in rows[4][3] and "16 valeurs au lieu de 14" in rows[5][3]
    assert rows[4][1] == "Nulle Part"
    # without the unreadable line, importing the valid rows does what the report said
    response = upload(coordinator_client, HEADER + "\n" + "\n".join(ROWS[:5]) + "\n")
    assert response.status_code == 200 and "5 lignes lues" in text(response)
    token = re.search(r'action="/moderation/import/([^"]+)/valides"', response.get_data(as_text=True)).group(1)
    verdict = re.search(r'name="verdict" value="([^"]+)"', response.get_data(as_text=True)).group(1)
    done = submit(coordinator_client, f"/moderation/import/{token}/valides", {"verdict": verdict},
                  form_url="/moderation/import")
    assert done.status_code == 302
    with app.app_context():
        names = set(db.session.scalars(select(Actor.name)))
        assert {"Amitiés Rouen-Bamako", "Les Amis des Puits"} <= names and "Nulle Part" not in names
        same = db.session.scalar(select(Actor).where(Actor.name == "Toujours Pareil"))
        assert db.session.scalar(select(func.count()).select_from(Revision).where(Revision.actor_id == same.id)) == 2
        assert db.session.scalar(select(Actor.phone).where(Actor.name == "Déjà Là")) == "02 31 99 99 99"


def test_a_large_report_is_paged_and_filtered_by_result(app, coordinator_client):
    add_actor(app, name="Fiche 0007", countries="SN")
    lines = [f"Fiche {i:04d},,association,Caen,14000,14,SN,,,,,,," for i in range(240)]
    lines += [f"Mauvaise {i},,association,Caen,14000,99,,,,,,,," for i in range(15)]
    response = upload(coordinator_client, HEADER + "\n" + "\n".join(lines) + "\n")
    body = text(response)
    assert "255 lignes lues" in body and "239 fiches à créer" in body and "1 fiche existante inchangée" in body
    assert "15 lignes invalides" in body and "Page 1 sur 3" in body
    assert len(report_of(response)) == 100
    report = re.search(r'href="(/moderation/import/rapport/[A-Za-z0-9_-]{22})\?page=2"',
                       response.get_data(as_text=True)).group(1)
    last = coordinator_client.get(report + "?page=3")
    assert last.status_code == 200 and len(report_of(last)) == 55
    assert report_of(last)[-1][:3] == ("256", "Mauvaise 14", "refusée")
    refused = coordinator_client.get(report + "?etat=refused")
    assert [row[0] for row in report_of(refused)] == [str(n) for n in range(242, 257)]
    assert "255 lignes lues" in text(refused)  # the counts stay those of the whole file
    assert [row[:3] for row in report_of(coordinator_client.get(report + "?etat=unchanged"))] == [
        ("9", "Fiche 0007", "inchangée")]
    assert coordinator_client.get(report + "?page=4").status_code == 404
    assert coordinator_client.get(report + "?page=-1").status_code == 404


def test_a_report_is_only_for_coordinators_and_its_name_cannot_be_forged(app, coordinator_client):
    response = upload(coordinator_client, HEADER + "\n" + ROWS[0] + "\n")
    report = re.search(r'href="(/moderation/import/rapport/[A-Za-z0-9_-]{22})', response.get_data(as_text=True)).group(1)
    assert coordinator_client.get(report).status_code == 200
    for forged in ("/moderation/import/rapport/..%2F..%2Fsecret_key", "/moderation/import/rapport/" + "A" * 22,
                   report[:-1] + ("B" if report[-1] != "B" else "C")):
        assert coordinator_client.get(forged).status_code == 404
    add_user(app, "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    assert member.get(report).status_code in (302, 403)
    assert app.test_client().get(report).status_code in (302, 401, 403)


def test_a_row_without_partnerships_or_networks_columns_does_not_report_them_changed(app, coordinator_client,
                                                                                       tmp_path):
    """An actors file never carries partnerships: its rows leave them as they are, and the report says so."""
    add_actor(app, name="Réseau Témoin", kind="reseau", town="Caen", department="14")
    add_actor(app, name="Ville Témoin", kind="collectivite", town="Caen", department="14",
              networks="reseau-temoin:1998",
              partnerships=[{"kind": "jumelage", "partners": [{"name": "Sesto", "country": "IT"}]}])
    response = upload(coordinator_client, "name,kind,town,department\nVille Témoin,collectivite,Caen,14\n")
    report = response.get_data(as_text=True)
    assert response.status_code == 200, report[:300]
    assert "champs modifiés" not in report
    assert "1 fiche existante inchangée" in report
