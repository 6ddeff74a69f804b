"""Suggestions as one types: names and head-office towns, from the index, never unpublished."""
from conftest import add_actor, edit_actor


def suggestions(client, field, q, **extra):
    response = client.get("/api/suggest", query_string={"field": field, "q": q, **extra})
    assert response.status_code == 200, response.get_json()
    return [s["value"] for s in response.get_json()["suggestions"]]


def test_names_start_like_any_word_of_the_name(app, client):
    add_actor(app, name="Horizons Solidaires", acronym="HS", town="Rouen", postcode="76000", department="76")
    add_actor(app, name="Solidarité Sahel", town="Caen")
    add_actor(app, name="Comité de jumelage Ifs-Nouna", town="Ifs")
    assert set(suggestions(client, "name", "soli")) == {"Horizons Solidaires", "Solidarité Sahel"}
    assert suggestions(client, "name", "jum") == ["Comité de jumelage Ifs-Nouna"]
    first = client.get("/api/suggest?field=name&q=horiz").get_json()["suggestions"][0]
    assert first == {"value": "Horizons Solidaires", "acronym": "HS", "url": "/acteurs/horizons-solidaires"}


def test_towns_and_departements_without_accents_most_actors_first(app, client):
    for n in range(3):
        add_actor(app, name=f"Asso Saint-Lô {n}", town="Saint-Lô", postcode="50000", department="50")
    add_actor(app, name="Asso Saint-Denis", town="Saint-Denis", postcode="93200", department="93")
    add_actor(app, name="Asso Seine", town="Rouen", postcode="76000", department="76")
    assert suggestions(client, "town", "saint") == ["Saint-Lô", "Saint-Denis"]
    assert "Seine-Maritime" in suggestions(client, "town", "seine m")
    assert suggestions(client, "town", "SAINT LO") == ["Saint-Lô"]
    assert suggestions(client, "town", "s") == []  # two letters at least


def test_unpublished_and_edited_away_values_are_not_suggested(app, client):
    add_actor(app, name="Fiche en attente", town="Bayeux", status="pending")
    moved = add_actor(app, name="Association Voyageuse", town="Lisieux")
    assert suggestions(client, "name", "fiche") == [] and suggestions(client, "town", "bayeu") == []
    assert suggestions(client, "town", "lisi") == ["Lisieux"]
    edit_actor(app, moved, town="Honfleur")
    assert suggestions(client, "town", "lisi") == [] and suggestions(client, "town", "honf") == ["Honfleur"]


def test_bad_parameters_are_explained(client):
    for query in ("field=email&q=ab", "field=name&q=ab&limit=0", "field=name&q=ab&limit=x", "q=ab",
                  "field=town&q=" + "a" * 101):
        response = client.get("/api/suggest?" + query)
        assert response.status_code == 400 and response.get_json()["error"], query


def test_forms_ask_for_suggestions(client):
    page = client.get("/").get_data(as_text=True)
    assert 'id="f-name" name="name"' in page and 'data-suggest="name" data-suggest-url="/api/suggest"' in page
    assert 'data-suggest="town" data-suggest-url="/api/suggest"' in page
