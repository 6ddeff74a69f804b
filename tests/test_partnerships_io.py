"""Partnerships and networks in files (issue 14, point 6; contract §3 and §5): the partnerships file through
`repertoire partnerships import|export` and the back office, the actors file's `networks` column, the JSON
export and backups."""
import csv
import io
import json
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from conftest import add_actor, build_app, dispose
from repertoire.extensions import db
from repertoire.models import Membership, Partnership, Revision
from web import csrf_token

HEADER = "actor,kind,status,start,end,partner_name,partner_country,partner_locality,domains,description,source"
SESTO = {"kind": "jumelage", "start": "1962", "domains": ["culture"], "source": "https://bagnolet.example.org/j",
         "partners": [{"name": "Sesto Fiorentino", "country": "IT", "locality": "Sesto Fiorentino"}]}
LINKED = {"kind": "partenariat", "status": "suspendue", "start": "2001-05", "end": "2010",
          "description": "Échanges « scolaires », avec virgule, et guillemets",
          "partners": [{"name": "Comité de jumelage", "country": "FR", "locality": "Caen",
                        "actor": "comite-de-jumelage-de-caen"},
                       {"name": "Massala", "country": "ML", "locality": ""}]}


@pytest.fixture
def directory(app):
    """A network, a partner in the directory, and two holders (one with partnerships and a membership)."""
    ids = {
        "network": add_actor(app, name="Horizons Solidaires", kind="reseau", town="Caen", department="14"),
        "partner": add_actor(app, name="Comité de jumelage de Caen", kind="comite-jumelage", town="Caen",
                             department="14"),
        "other": add_actor(app, name="Ville du Lamentin", kind="collectivite", town="Le Lamentin",
                           department="972"),
    }
    ids["holder"] = add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet",
                              department="93", partnerships=[SESTO, LINKED], networks="horizons-solidaires:1998")
    return ids


def api(client, actor_id):
    return client.get(f"/api/actors/{actor_id}").get_json()


def run(runner, tmp_path, content, name="partenariats.csv", *extra, command="partnerships"):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    args = [command, "import", str(path), *extra] if command == "partnerships" else [command, str(path), *extra]
    return runner.invoke(args=args)


def revisions(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Revision))


# -- export then import: nothing changes -------------------------------------------------------------

@pytest.mark.parametrize("name", ["partenariats.csv", "partenariats.json"])
def test_export_then_import_changes_nothing_and_keeps_ids(app, client, runner, tmp_path, directory, name):
    before = api(client, directory["holder"])
    path = tmp_path / name
    exported = runner.invoke(args=["partnerships", "export", str(path)])
    assert exported.exit_code == 0 and "2 partenariats exportés" in exported.output
    count = revisions(app)
    result = runner.invoke(args=["partnerships", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("0 modifiée, 1 inchangée.")
    assert api(client, directory["holder"]) == before  # ids, partners' links, dates: all kept
    assert revisions(app) == count


def test_the_csv_export_is_the_contract_format(app, runner, tmp_path, directory):
    path = tmp_path / "p.csv"
    assert runner.invoke(args=["partnerships", "export", str(path)]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert list(rows[0]) == HEADER.split(",")
    linked = rows[1]
    assert linked == {"actor": "ville-de-bagnolet", "kind": "partenariat", "status": "suspendue",
                      "start": "2001-05", "end": "2010", "partner_name": "Comité de jumelage;Massala",
                      "partner_country": "FR;ML", "partner_locality": "Caen;", "domains": "",
                      "description": LINKED["description"], "source": ""}
    as_json = json.loads(runner.invoke(args=["partnerships", "export", str(tmp_path / "p.json")]) and
                         (tmp_path / "p.json").read_text(encoding="utf-8"))
    assert as_json[1]["partners"][0]["actor"] == "comite-de-jumelage-de-caen"
    assert as_json[1]["actor"] == "ville-de-bagnolet" and isinstance(as_json[1]["id"], int)


def test_a_changed_row_replaces_only_what_changed(app, client, runner, tmp_path, directory):
    before = api(client, directory["holder"])["partnerships"]
    path = tmp_path / "p.csv"
    runner.invoke(args=["partnerships", "export", str(path)])
    text = path.read_text(encoding="utf-8").replace("1962", "1963")
    result = run(runner, tmp_path, text)
    assert result.exit_code == 0 and "1 modifiée, 0 inchangée" in result.output, result.output
    after = api(client, directory["holder"])["partnerships"]
    assert after[0]["start"] == "1963"
    assert after[1] == before[1]  # same id, and the partner still links to the directory


def test_the_files_rows_replace_the_holders_partnerships_and_leave_others_alone(app, client, runner, tmp_path,
                                                                                 directory):
    add_actor(app, name="Région Témoin", kind="collectivite", town="Caen", department="14",
              partnerships=[{**SESTO, "partners": [{"name": "Hampshire", "country": "GB", "locality": ""}]}])
    content = HEADER + "\r\nville-de-bagnolet,Jumelage,,2005,,Akbou,algerie,Akbou,culture;jeunesse,,\r\n"
    result = run(runner, tmp_path, content)
    assert result.exit_code == 0, result.output
    (only,) = api(client, directory["holder"])["partnerships"]
    assert only["partners"] == [{"name": "Akbou", "country": "DZ", "locality": "Akbou", "actor": None}]
    assert only["status"] == "active" and only["domains"] == ["culture", "jeunesse"]
    assert api(client, directory["holder"])["networks"] == [{"network": "horizons-solidaires", "since": 1998}]
    other = client.get("/api/actors", query_string={"name": "Région Témoin"}).get_json()["results"][0]
    assert other["partnerships"][0]["partners"][0]["name"] == "Hampshire"
    history = client.get("/acteurs/ville-de-bagnolet")
    assert history.status_code == 200


def test_a_three_party_row_with_an_unknown_locality(app, client, runner, tmp_path, directory):
    content = (HEADER + "\r\nville-du-lamentin,jumelage,active,1989-05,,Oranienburg;Massala;Le Robert,"
               "Allemagne;MLI;martinique,Oranienburg;;Le Robert,,Trois villes,\r\n")
    result = run(runner, tmp_path, content)
    assert result.exit_code == 0, result.output
    (three,) = api(client, directory["other"])["partnerships"]
    assert [(p["name"], p["country"], p["locality"]) for p in three["partners"]] == [
        ("Oranienburg", "DE", "Oranienburg"), ("Massala", "ML", ""), ("Le Robert", "MQ", "Le Robert")]


# -- bad rows: every one reported, nothing imported -------------------------------------------------

ROW = "ville-du-lamentin,jumelage,active,2010,,Carrefour,HT,Carrefour,education,,"


@pytest.mark.parametrize("row, reason", [
    ("ville-du-lamentin,jumelage,active,2010,,Carrefour,Atlantide,Carrefour,,,",
     "partners : partenaire 1 : pays inconnu « Atlantide »"),
    ("ville-du-lamentin,jumelage,active,2010,2001,Carrefour,HT,,,,", "end : la fin (2001) précède le début (2010)"),
    ("ville-du-lamentin,jumelage,active,2999,,Carrefour,HT,,,,", "start : le début « 2999 » est dans le futur"),
    ("ville-du-lamentin,jumelage,active,2010-13,,Carrefour,HT,,,,", "start : date invalide « 2010-13 »"),
    ("ville-du-lamentin,mariage,active,2010,,Carrefour,HT,,,,", "kind : type de partenariat inconnu « mariage »"),
    ("ville-du-lamentin,jumelage,morte,2010,,Carrefour,HT,,,,", "status : statut inconnu « morte »"),
    ("ville-inconnue,jumelage,active,2010,,Carrefour,HT,,,,",
     "actor : aucune fiche publiée « ville-inconnue » dans l'annuaire"),
    (",jumelage,active,2010,,Carrefour,HT,,,,", "actor : l'identifiant de la fiche qui tient le partenariat est "
                                                "obligatoire"),
    ("ville-du-lamentin,jumelage,active,2010,,Carrefour;Santiago,HT,,,,",
     "partner_name : noms de partenaires : 2, pays : 1, localités : 2 ; une valeur par partenaire"),
    ("ville-du-lamentin,jumelage,active,2010,,Carrefour,HT,,cuisine,,", "domains : domaine inconnu « cuisine »"),
    ("ville-du-lamentin,jumelage,active,2010,,Carrefour,HT,,,,pas une adresse",
     "source : adresse de la source invalide"),
    ("ville-du-lamentin,jumelage,active,2010,,Carrefour,HT", "7 valeurs au lieu de 11"),
])
def test_each_bad_row_is_reported_with_its_line_and_nothing_is_imported(app, client, runner, tmp_path,
                                                                        directory, row, reason):
    before = api(client, directory["other"])
    result = run(runner, tmp_path, "\r\n".join([HEADER, ROW, row, ROW.replace("2010", "2011")]) + "\r\n")
    assert result.exit_code == 1
    assert result.stdout.startswith("line 3: ") and reason in result.stdout, result.stdout
    assert len(result.stdout.strip().splitlines()) == 1
    assert "rien n'a été importé" in result.stderr
    assert api(client, directory["other"]) == before


def test_json_partners_must_be_published_actors_and_not_the_holder(app, client, runner, tmp_path, directory):
    items = [{"actor": "ville-du-lamentin", **SESTO,
              "partners": [{"name": "Inconnu", "country": "FR", "locality": "", "actor": "fiche-inconnue"}]},
             {"actor": "ville-du-lamentin", **SESTO,
              "partners": [{"name": "Soi", "country": "FR", "locality": "", "actor": "ville-du-lamentin"}]},
             "pas un objet"]
    result = run(runner, tmp_path, json.dumps(items), "p.json")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "line 1: partners : partenaire 1 : aucune fiche « fiche-inconnue » dans l'annuaire",
        "line 2: partners : partenaire 1 : le partenaire ne peut pas être la fiche elle-même",
        "line 3: un partenariat (objet avec actor, kind, partners…) est attendu"]
    assert api(client, directory["other"])["partnerships"] == []


def test_dry_run_changes_nothing(app, client, runner, tmp_path, directory):
    before, count = api(client, directory["holder"]), revisions(app)
    content = HEADER + "\r\nville-de-bagnolet,jumelage,active,2005,,Akbou,DZ,Akbou,,,\r\n"
    result = run(runner, tmp_path, content, "p.csv", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "1 partenariat valide pour 1 fiche, 1 à modifier" in result.output
    assert "Rien n'a été importé (--dry-run)" in result.output
    assert api(client, directory["holder"]) == before and revisions(app) == count


# -- spreadsheets ----------------------------------------------------------------------------------

def test_windows_1252_with_semicolons(app, client, runner, tmp_path, directory):
    content = (HEADER.replace(",", ";") + "\r\nville-du-lamentin;Coopération décentralisée (convention);Terminée;"
               "1996;2009;Santiago de Cuba;Cuba;Santiago de Cuba;éducation;Échanges d'élèves;\r\n")
    result = run(runner, tmp_path, content.encode("cp1252"))
    assert result.exit_code == 0, result.output
    assert "Windows-1252" in result.stderr and "point-virgule" in result.stderr
    (item,) = api(client, directory["other"])["partnerships"]
    assert (item["kind"], item["status"], item["end"], item["domains"], item["description"]) == (
        "cooperation", "terminee", "2009", ["education"], "Échanges d'élèves")


def test_xlsx(app, client, runner, tmp_path, directory):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["ville-du-lamentin", "jumelage", "active", 2010, None, "Carrefour", "Haïti", "Carrefour",
                  "sante", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    result = run(runner, tmp_path, buffer.getvalue(), "p.xlsx")
    assert result.exit_code == 0, result.output
    (item,) = api(client, directory["other"])["partnerships"]
    assert item["start"] == "2010" and item["partners"][0]["country"] == "HT"


# -- the actors file: networks ---------------------------------------------------------------------

ACTORS = "name,kind,town,department,networks"


def test_a_network_later_in_the_same_file(app, client, runner, tmp_path):
    content = "\r\n".join([ACTORS, "OMRI Témoin,association,Saint-Sébastien-sur-Loire,44,"
                                   "maison-temoin-de-l-europe:1995;reseau-existant",
                           "Maison Témoin de l'Europe,association,Nantes,44,", ""])
    add_actor(app, name="Réseau Existant", kind="reseau", town="Caen", department="14")
    result = run(runner, tmp_path, content, "a.csv", command="import")
    assert result.exit_code == 0, result.output
    omri = client.get("/api/actors", query_string={"name": "OMRI Témoin"}).get_json()["results"][0]
    assert omri["networks"] == [{"network": "maison-temoin-de-l-europe", "since": 1995},
                                {"network": "reseau-existant", "since": None}]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 2
    # imported again: nothing changes
    again = run(runner, tmp_path, content, "a.csv", command="import")
    assert "2 inchangés" in again.output


def test_a_network_in_a_later_batch_is_found(app, client, tmp_path):
    """The bulk insert writes in batches: a member's network may be inserted in a later batch."""
    from repertoire import operations
    from repertoire.validation import Vocabulary, validate_actor
    with app.test_request_context():
        vocab = Vocabulary(db.session)
        rows = [validate_actor({"name": f"Membre {n}", "kind": "association", "town": "Caen", "department": "14",
                                "networks": "reseau-tardif:2001"}, vocab)[0] for n in range(3)]
        rows.append(validate_actor({"name": "Réseau Tardif", "kind": "reseau", "town": "Caen", "department": "14"},
                                   vocab)[0])
        summary = operations.import_actors(db.session, rows, vocab, batch_size=2)
        db.session.commit()
        assert summary.created == 4
    members = client.get("/api/actors", query_string={"name": "Membre"}).get_json()["results"]
    assert [m["networks"] for m in members] == [[{"network": "reseau-tardif", "since": 2001}]] * 3


@pytest.mark.parametrize("dry", [[], ["--dry-run"]])
def test_an_unknown_network_is_a_line_error_and_nothing_is_imported(app, client, runner, tmp_path, dry):
    content = "\r\n".join([ACTORS, "Association Une,association,Caen,14,", "Association Deux,association,Caen,14,"
                           "reseau-fantome", "Association Trois,association,Caen,14,association-trois", ""])
    result = run(runner, tmp_path, content, "a.csv", *dry, command="import")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "line 3: networks : réseau inconnu « reseau-fantome » : aucune fiche publiée ne porte cet identifiant",
        "line 4: networks : une fiche ne peut pas être membre d'elle-même"]
    assert client.get("/api/actors").get_json()["total"] == 0


def test_an_update_keeps_what_the_file_does_not_carry(app, client, runner, tmp_path, directory):
    before = api(client, directory["holder"])
    content = "\r\n".join(["name,kind,town,department,description", "Ville de Bagnolet,collectivite,Bagnolet,93,"
                           "Nouvelle présentation", ""])
    result = run(runner, tmp_path, content, "a.csv", command="import")
    assert result.exit_code == 0 and "1 mis à jour" in result.output, result.output
    after = api(client, directory["holder"])
    assert after["description"] == "Nouvelle présentation"
    assert after["networks"] == before["networks"] and after["partnerships"] == before["partnerships"]
    # a networks column that is there, empty, does empty them
    content = "\r\n".join([ACTORS, "Ville de Bagnolet,collectivite,Bagnolet,93,", ""])
    assert run(runner, tmp_path, content, "a.csv", command="import").exit_code == 0
    assert api(client, directory["holder"])["networks"] == []
    assert api(client, directory["holder"])["partnerships"] == before["partnerships"]


def test_actors_json_export_imports_into_a_fresh_instance_losslessly(app, client, tmp_path, directory):
    exported = client.get("/export.json").get_data(as_text=True)
    (tmp_path / "all.json").write_text(exported, encoding="utf-8")
    fresh = build_app(tmp_path / "fresh")
    try:
        result = fresh.test_cli_runner().invoke(args=["import", str(tmp_path / "all.json")])
        assert result.exit_code == 0, result.output
        copy = fresh.test_client().get("/api/actors", query_string={"name": "Bagnolet"}).get_json()["results"][0]
        original = api(client, directory["holder"])

        def strip(actor):
            return {**{k: v for k, v in actor.items() if k not in ("id", "updated_at")},
                    "partnerships": [{k: v for k, v in p.items() if k != "id"} for p in actor["partnerships"]]}
        assert strip(copy) == strip(original)
        assert copy["partnerships"][1]["partners"][0]["actor"] == "comite-de-jumelage-de-caen"
    finally:
        dispose(fresh)


def test_backup_and_restore_keep_partnerships_and_memberships(app, client, runner, tmp_path, directory):
    assert runner.invoke(args=["backup", str(tmp_path / "b")]).exit_code == 0
    folder = next((tmp_path / "b").iterdir())
    fresh = build_app(tmp_path / "fresh")
    try:
        assert fresh.test_cli_runner().invoke(args=["restore", str(folder)]).exit_code == 0
        assert fresh.test_client().get(f"/api/actors/{directory['holder']}").get_json() == api(
            client, directory["holder"])
        with fresh.app_context():
            assert db.session.scalar(select(func.count()).select_from(Partnership)) == 2
    finally:
        dispose(fresh)


# -- the back office --------------------------------------------------------------------------------

def upload(client, content: bytes, name: str, kind="auto"):
    page = client.get("/moderation/import").get_data(as_text=True)
    return client.post("/moderation/import", data={
        "csrf_token": csrf_token(page), "kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data")


def confirm(client, report):
    page = report.get_data(as_text=True)
    action = re.search(r'action="(/moderation/import/[^"]+)"', page).group(1)
    return client.post(action, data={"csrf_token": csrf_token(page)})


def test_back_office_detects_and_imports_a_partnerships_file(app, coordinator_client, client, directory):
    content = (HEADER + "\r\nville-du-lamentin,jumelage,active,,,Santiago de Cuba,CU,Santiago de Cuba,,,\r\n"
               "ville-du-lamentin,cooperation,active,2010,,Carrefour,HT,Carrefour,,,\r\n").encode()
    report = upload(coordinator_client, content, "p.csv")
    page = report.get_data(as_text=True)
    assert report.status_code == 200, page
    assert "Fichier de partenariats" in page and "2 partenariats pour 1 fiche" in page
    assert api(client, directory["other"])["partnerships"] == []
    done = confirm(coordinator_client, report)
    assert done.status_code == 302
    assert [p["partners"][0]["name"] for p in api(client, directory["other"])["partnerships"]] == [
        "Santiago de Cuba", "Carrefour"]


def test_back_office_reports_bad_partnership_rows_and_imports_nothing(app, coordinator_client, client, directory):
    content = (HEADER + "\r\n" + ROW + "\r\nville-du-lamentin,jumelage,active,2999,,X,HT,,,,\r\n").encode()
    report = upload(coordinator_client, content, "p.csv", kind="partnerships")
    page = report.get_data(as_text=True)
    assert report.status_code == 400
    assert "le début « 2999 » est dans le futur" in page and "/moderation/import/" not in page.split("Lignes")[-1]
    assert api(client, directory["other"])["partnerships"] == []


def test_back_office_actors_file_with_networks(app, coordinator_client, client):
    content = "\r\n".join([ACTORS, "Membre Témoin,association,Caen,14,reseau-temoin:2001",
                           "Réseau Témoin,reseau,Caen,14,", ""]).encode()
    report = upload(coordinator_client, content, "a.csv")
    assert report.status_code == 200, report.get_data(as_text=True)
    assert confirm(coordinator_client, report).status_code == 302
    member = client.get("/api/actors", query_string={"name": "Membre Témoin"}).get_json()["results"][0]
    assert member["networks"] == [{"network": "reseau-temoin", "since": 2001}]


# -- the demo and generated actors (point 7) --------------------------------------------------------

def test_the_demo_holds_the_seeds_partnerships_and_memberships(app, runner, client):
    result = runner.invoke(args=["demo", "--generated", "0"])
    assert result.exit_code == 0, result.output
    bagnolet = client.get("/api/actors", query_string={"name": "Ville de Bagnolet"}).get_json()["results"][0]
    assert [(p["kind"], p["partners"][0]["name"], p["partners"][0]["country"], p["start"])
            for p in bagnolet["partnerships"]] == [
        ("jumelage", "Sesto Fiorentino", "IT", "1962"), ("jumelage", "Oranienburg", "DE", "1964"),
        ("jumelage", "Camp de réfugiés palestiniens de Chatila", "LB", "2002"), ("jumelage", "Massala", "ML", "2003"),
        ("jumelage", "Akbou", "DZ", "2005"), ("jumelage", "Le Robert", "MQ", "")]
    omri = client.get("/api/actors", query_string={"name": "OMRI"}).get_json()["results"][0]
    assert omri["networks"] == [{"network": "maison-de-l-europe-de-nantes", "since": None}]
    (convention,) = omri["partnerships"]
    assert convention["start"] == "2006-03-18" and convention["source"] == omri["website"]
    lamentin = client.get("/api/actors", query_string={"name": "Ville du Lamentin"}).get_json()["results"][0]
    assert [(p["kind"], p["start"]) for p in lamentin["partnerships"]] == [("jumelage", ""), ("cooperation", "2010")]
    # no source is invented: only the pages the seed file gives
    sources = {p["source"] for a in client.get("/api/actors", query_string={"per_page": 50}).get_json()["results"]
               for p in a["partnerships"]}
    assert sources == {"", omri["website"]}


def test_generated_actors_have_realistic_partnerships_and_networks(app, runner, client, tmp_path):
    path = tmp_path / "g.csv"
    result = runner.invoke(args=["generate", "1500", str(path), "--seed", "5"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["generate", "1500", str(tmp_path / "h.csv"), "--seed", "5"])
    assert again.exit_code == 0
    partnerships_file = tmp_path / "g-partnerships.csv"
    assert path.read_bytes() == (tmp_path / "h.csv").read_bytes()
    assert partnerships_file.read_bytes() == (tmp_path / "h-partnerships.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(partnerships_file.read_text(encoding="utf-8"))))
    assert 300 <= len(rows) <= 600  # about 0.3 an actor
    twinnings = [r for r in rows if r["kind"] == "jumelage" and r["partner_country"] in ("DE", "IT", "GB", "PL")]
    early = [r for r in twinnings if "1950" <= r["start"][:4] <= "1979"]
    assert len(early) > len(twinnings) / 2
    south = [r for r in rows if r["partner_country"] in ("ML", "SN", "BF", "MG", "HT")]
    assert south and sum(r["start"][:4] >= "1980" for r in south) > 0.7 * len(south)
    assert {r["status"] for r in rows} == {"active", "suspendue", "terminee"}
    assert all(r["source"] == "" for r in rows)
    actors = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert any(a["networks"] for a in actors)
    # both files import as they are, the networks and the partnerships included
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    result = runner.invoke(args=["partnerships", "import", str(partnerships_file)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Partnership)) == len(rows)
        assert db.session.scalar(select(func.count()).select_from(Membership)) == sum(
            len(a["networks"].split(";")) for a in actors if a["networks"])


# -- attacks and accidents --------------------------------------------------------------------------

def test_two_imports_at_once_each_replace_everything_one_after_the_other(app, client, tmp_path, directory):
    """Two processes import different files for the same holders at once: each file is applied whole,
    never a mix, and neither fails."""
    import subprocess
    import sys
    from pathlib import Path
    from test_consistency import child_env
    holders = ["ville-de-bagnolet", "ville-du-lamentin"]
    files = []
    for n, town in enumerate(["Akbou", "Carrefour"]):
        rows = [f"{h},jumelage,active,{1990 + n},,{town} {i},DZ,{town},,," for h in holders for i in range(3)]
        path = tmp_path / f"f{n}.csv"
        path.write_text("\r\n".join([HEADER, *rows, ""]), encoding="utf-8")
        files.append(path)
    repertoire = Path(sys.executable).with_name("repertoire")
    processes = [subprocess.Popen([str(repertoire), "partnerships", "import", str(f)], env=child_env(tmp_path),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    finals = {tuple(p["partners"][0]["name"] for p in api(client, directory[key])["partnerships"])
              for key in ("holder", "other")}
    assert finals in ({("Akbou 0", "Akbou 1", "Akbou 2")}, {("Carrefour 0", "Carrefour 1", "Carrefour 2")})


def test_hostile_sizes_are_refused_without_checking_each_partner(app, runner, tmp_path, directory):
    many = ";".join(["X"] * 5000)
    content = HEADER + f"\r\nville-du-lamentin,jumelage,active,,,{many},{many},,,,\r\n"
    result = run(runner, tmp_path, content)
    assert result.exit_code == 1 and result.stdout == "line 2: partner_name : 5000 partenaires : 50 au plus\n"
    items = [{"actor": "ville-du-lamentin", "kind": "jumelage",
              "partners": [{"name": "X", "country": "FR"}] * 1000}]
    result = run(runner, tmp_path, json.dumps(items), "p.json")
    assert result.exit_code == 1 and "1000 partenaires : 50 au plus" in result.stdout
