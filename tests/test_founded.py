"""The year an actor was founded (contract §2 and §5): form, page, API, CSV and JSON, back office, demo."""
import json
from datetime import date

from sqlalchemy import inspect

from conftest import add_actor
from repertoire.extensions import db
from web import ACTOR_FORM, submit

HEAD = "name,kind,town,department,founded\n"


def import_csv(runner, tmp_path, text):
    path = tmp_path / "actors.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["import", str(path)])


def test_the_migrated_schema_has_the_column(app):
    with app.app_context():
        assert "founded" in {c["name"] for c in inspect(db.engine).get_columns("actor")}


def test_founded_is_imported_shown_and_exported(app, runner, client, tmp_path):
    result = import_csv(runner, tmp_path, HEAD + "Association Ancienne,association,Caen,14,1979\n"
                                                 "Association Sans Date,association,Caen,14,\n")
    assert result.exit_code == 0, result.output
    by_name = {a["name"]: a for a in client.get("/api/actors").get_json()["results"]}
    assert by_name["Association Ancienne"]["founded"] == 1979 and by_name["Association Sans Date"]["founded"] is None
    one = client.get(f"/api/actors/{by_name['Association Ancienne']['id']}").get_json()
    assert one["founded"] == 1979
    page = client.get(by_name["Association Ancienne"]["url"]).get_data(as_text=True)
    assert "Année de création" in page and "1979" in page
    assert "Année de création" not in client.get(by_name["Association Sans Date"]["url"]).get_data(as_text=True)
    lines = client.get("/export.csv").get_data(as_text=True).splitlines()
    assert lines[0].endswith(",phone,founded,networks")  # networks: contract §5
    assert lines[1].startswith("Association Ancienne,") and lines[1].endswith(",1979,")
    assert lines[2].endswith(",,")
    exported = json.loads(client.get("/export.json").get_data(as_text=True))
    assert [a["founded"] for a in exported] == [1979, None]


def test_a_bad_year_is_refused_in_french_and_nothing_is_imported(app, runner, client, tmp_path):
    future = date.today().year + 1
    rows = ["Un,association,Caen,14,93", f"Deux,association,Caen,14,{future}", "Trois,association,Caen,14,1799",
            "Quatre,association,Caen,14,19a3", "Cinq,association,Caen,14,１９９３", "Six,association,Caen,14,1993"]
    result = import_csv(runner, tmp_path, HEAD + "\n".join(rows) + "\n")
    assert result.exit_code == 1
    for line in range(2, 7):
        assert f"line {line}: founded : année de création invalide" in result.output
    assert "line 7:" not in result.output
    assert client.get("/api/actors").get_json()["total"] == 0


def test_the_json_export_imports_back_with_the_year(app, runner, client, tmp_path):
    add_actor(app, name="Association Ancienne", founded="1979")
    path = tmp_path / "out.json"
    assert runner.invoke(args=["export", str(path)]).exit_code == 0
    path.write_text(path.read_text(encoding="utf-8").replace("Association Ancienne", "Association Copie"),
                    encoding="utf-8")
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    by_name = {a["name"]: a["founded"] for a in client.get("/api/actors").get_json()["results"]}
    assert by_name == {"Association Ancienne": 1979, "Association Copie": 1979}


def test_the_form_sets_and_checks_the_year(app, coordinator_client, client):
    actor_id = add_actor(app, name="Association Puits du Sahel")
    url = f"/moderation/acteurs/{actor_id}"
    response = submit(coordinator_client, url, {**ACTOR_FORM, "founded": "3000"})
    assert response.status_code == 200 and "année de création invalide" in response.get_data(as_text=True)
    assert client.get(f"/api/actors/{actor_id}").get_json()["founded"] is None
    assert submit(coordinator_client, url, {**ACTOR_FORM, "founded": "1994"}).status_code == 302
    assert client.get(f"/api/actors/{actor_id}").get_json()["founded"] == 1994
    assert 'value="1994"' in coordinator_client.get(url).get_data(as_text=True)
    history = coordinator_client.get(f"{url}/historique").get_data(as_text=True)
    assert "Année de création" in history


def test_the_back_office_sorts_by_year_founded_unknown_last(app, coordinator_client):
    add_actor(app, name="Alpha", founded="1994")
    add_actor(app, name="Bravo")
    add_actor(app, name="Charlie", founded="1979")
    page = coordinator_client.get("/moderation/acteurs?sort=founded").get_data(as_text=True)
    assert page.index("Charlie") < page.index("Alpha") < page.index("Bravo")
    assert "Année de création" in page


def test_the_demo_s_real_actors_have_their_year(app, runner, client):
    assert runner.invoke(args=["demo", "--generated", "0"]).exit_code == 0
    years = {a["acronym"] or a["name"]: a["founded"]
             for a in client.get("/api/actors", query_string={"per_page": 100}).get_json()["results"]}
    assert (years["OMRI"], years["CITIM"], years["Horizons Solidaires"]) == (1993, 1979, 1994)
