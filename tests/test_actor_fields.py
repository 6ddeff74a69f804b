"""The field table (repertoire/actor_fields.py) and every place that lists an actor's fields agree."""
import csv
import io
import json

from conftest import add_actor
from repertoire import actor_fields, geo
from repertoire.actor_fields import FIELDS
from repertoire.operations import merge_actors
from repertoire.extensions import db
from repertoire.models import Actor
from repertoire.records import published_records
from repertoire.search.documents import index_document, taxonomy_labels
from repertoire.search.whoosh.schema import to_fields
from repertoire.serialize import actor_to_dict

PARTNERSHIP = {"kind": "jumelage", "status": "active", "start": "1962", "end": "",
               "partners": [{"name": "Sesto Fiorentino", "country": "IT", "locality": "Sesto Fiorentino",
                             "actor": None}],
               "domains": ["culture"], "description": "Jumelage témoin", "source": "https://temoin.example.org/j"}
PARTNERSHIP_CELL = {**PARTNERSHIP, "kind": "Jumelage",
                    "partners": [{"name": "Sesto Fiorentino", "country": "Italie", "locality": "Sesto Fiorentino"}]}

# One distinctive value per field, as a CSV cell, and as the JSON API gives it back.
SAMPLE = {
    "name": ("Association Témoin", "Association Témoin"),
    "acronym": ("ATEM", "ATEM"),
    "kind": ("fondation", "fondation"),
    "town": ("Bayeux", "Bayeux"),
    "postcode": ("14400", "14400"),
    "department": ("14", "14"),
    "countries": ("Mali", ["ML"]),
    "intervention_towns": ("Ségou", ["Ségou"]),
    "domains": ("eau", ["eau"]),
    "activities": ("ecsi", ["ecsi"]),
    "description": ("Une présentation singulière", "Une présentation singulière"),
    "website": ("https://temoin.example.org", "https://temoin.example.org"),
    "email": ("contact@temoin.example.org", "contact@temoin.example.org"),
    "phone": ("02 31 92 00 00", "02 31 92 00 00"),
    "founded": ("1993", 1993),
    "networks": ("reseau-temoin:1998", [{"network": "reseau-temoin", "since": 1998}]),
    "partnerships": ([PARTNERSHIP_CELL], [PARTNERSHIP]),  # not a CSV column: its own file (contract §5)
}
OTHER = {
    "name": "Autre Structure", "acronym": "AUS", "kind": "association", "town": "Lisieux", "postcode": "14100",
    "department": "14", "countries": "Sénégal", "intervention_towns": "Thiès", "domains": "sante",
    "activities": "projets", "description": "Une autre présentation", "website": "https://autre.example.org",
    "email": "contact@autre.example.org", "phone": "02 31 62 00 00", "founded": "1979",
    "networks": "", "partnerships": [{"kind": "cooperation", "partners": [{"name": "Thiès", "country": "SN"}]}],
}
NAMES = [f.name for f in FIELDS]


def sample_actor(app):
    add_actor(app, name="Réseau Témoin", kind="reseau", town="Caen", department="14")
    return add_actor(app, **{name: cell for name, (cell, _value) in SAMPLE.items()})


def test_samples_cover_the_table():
    assert list(SAMPLE) == NAMES and set(OTHER) == set(NAMES)


def test_every_field_reaches_the_api_the_record_and_the_openapi_schema(app, client):
    actor_id = sample_actor(app)
    data = client.get(f"/api/actors/{actor_id}").get_json()
    data["partnerships"] = [{k: v for k, v in p.items() if k != "id"} for p in data["partnerships"]]
    assert {name: data[name] for name in NAMES} == {name: value for name, (_cell, value) in SAMPLE.items()}
    with app.app_context():
        actor = db.session.get(Actor, actor_id)
        (record,) = published_records(db.session.connection(), [actor_id])
        assert actor_to_dict(record) == actor_to_dict(actor)
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]["Actor"]
    for name in NAMES:
        assert name in schema["properties"] and name in schema["required"]


def test_every_field_round_trips_through_csv_and_json_exports(app, client, runner, tmp_path):
    sample_actor(app)
    exported = client.get("/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert list(rows[0]) == actor_fields.CSV_COLUMNS
    assert set(actor_fields.CSV_COLUMNS) == set(NAMES) - {"partnerships"}
    (as_json,) = [a for a in json.loads(client.get("/export.json").get_data(as_text=True))
                  if a["name"] == "Association Témoin"]
    assert all(name in as_json for name in NAMES)
    path = tmp_path / "back.csv"
    path.write_text(exported.replace("Association Témoin", "Association Témoin bis"), encoding="utf-8")
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    copy = client.get("/api/actors", query_string={"name": "Témoin bis"}).get_json()["results"][0]
    csv_names = [n for n in actor_fields.CSV_COLUMNS if n != "name"]
    assert {n: copy[n] for n in csv_names} == {n: SAMPLE[n][1] for n in csv_names}


def test_every_field_is_in_the_form_and_its_template(app, coordinator_client):
    actor_id = sample_actor(app)
    page = coordinator_client.get(f"/moderation/acteurs/{actor_id}").get_data(as_text=True)
    for f in FIELDS:
        assert f'name="{f.name}"' in page or f'name="{f.name}-0' in page, f.name


def test_every_indexed_field_reaches_the_index_document(app):
    actor_id = sample_actor(app)
    with app.app_context():
        actor = db.session.get(Actor, actor_id)
        document = to_fields(index_document(actor, taxonomy_labels(db.session.connection())))  # Whoosh's fields
    everything = "\n".join(str(value) for value in document.values())
    for f in FIELDS:
        assert f.index in ("name", "place", "itown", "facet", "text", None), f.name
        if f.index is not None:
            value = SAMPLE[f.name][1]
            for item in value if isinstance(value, list) else [value]:
                assert str(item) in everything, f.name
    assert geo.french_country_name("ML") in document["text"]


def test_a_merge_can_take_every_mergeable_field_from_either_side(app):
    keep_id = add_actor(app, **OTHER)
    drop_id = sample_actor(app)
    with app.app_context():
        keep, drop = db.session.get(Actor, keep_id), db.session.get(Actor, drop_id)
        merge_actors(db.session, keep, drop, dict.fromkeys(actor_fields.MERGEABLE, "drop"), None)
        db.session.commit()
        merged = actor_to_dict(db.session.get(Actor, keep_id))
    merged["partnerships"] = [{k: v for k, v in p.items() if k != "id"} for p in merged["partnerships"]]
    assert set(actor_fields.MERGEABLE) == set(NAMES)
    assert {n: merged[n] for n in NAMES} == {n: v for n, (_c, v) in SAMPLE.items()}


def test_moderation_labels_name_every_field(app, coordinator_client):
    from repertoire.moderation.views import FIELD_LABELS
    assert all(name in FIELD_LABELS for name in NAMES)


# -- CSV columns (contract §2): required ones only, optional ones may be absent, unknown ones refused

def count(app):
    with app.app_context():
        return db.session.query(Actor).count()


def test_a_file_with_only_the_required_columns_imports(app, runner, client, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("town,name,department,kind\nBayeux,Association Courte,14,association\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    (actor,) = client.get("/api/actors").get_json()["results"]
    assert (actor["name"], actor["town"], actor["acronym"], actor["countries"]) == ("Association Courte", "Bayeux",
                                                                                 "", [])


def test_a_missing_required_column_is_refused_by_name(app, runner, tmp_path):
    path = tmp_path / "no-dept.csv"
    path.write_text("name,kind,town,acronym\nAssociation Courte,association,Bayeux,AC\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1 and "line 1:" in result.output and "department" in result.output
    assert "acronym" not in result.output.split("—")[0]
    assert count(app) == 0


def test_an_unknown_column_is_refused_by_name_and_nothing_is_imported(app, runner, tmp_path):
    path = tmp_path / "unknown.csv"
    path.write_text("name,kind,town,department,fax\nAssociation Courte,association,Bayeux,14,0231\n"
                    "Autre,association,Caen,14,0231\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1 and "« fax »" in result.output
    assert count(app) == 0


def test_the_back_office_sorts_actors_by_a_sortable_field(app, coordinator_client):
    add_actor(app, name="Alpha", town="Vire")
    add_actor(app, name="Bravo", town="Aunay")
    by_name = coordinator_client.get("/moderation/acteurs").get_data(as_text=True)
    by_town = coordinator_client.get("/moderation/acteurs?sort=town").get_data(as_text=True)
    assert by_name.index("Alpha") < by_name.index("Bravo")
    assert by_town.index("Bravo") < by_town.index("Alpha")
    assert coordinator_client.get("/moderation/acteurs?sort=password_hash").status_code == 200
