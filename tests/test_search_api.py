"""The JSON search API against a directory whose answers are known (contract §4)."""
from urllib.parse import quote

import pytest

from conftest import add_actor, build_app, dispose
from directory import ACTORS, ARCHIVED, NAMES_IN_FRENCH_ORDER, PENDING


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    app = build_app(tmp_path_factory.mktemp("directory"))
    ids = {a["name"]: add_actor(app, **a) for a in ACTORS}
    ids[PENDING["name"]] = add_actor(app, status="pending", **PENDING)
    ids[ARCHIVED["name"]] = add_actor(app, status="archived", **ARCHIVED)
    yield app, ids
    dispose(app)


@pytest.fixture
def api(directory):
    client = directory[0].test_client()

    def get(query="", status=200):
        response = client.get("/api/actors" + ("?" + query if query else ""))
        assert response.status_code == status, response.get_json()
        return response.get_json()
    return get


def names(body):
    return {r["name"] for r in body["results"]}


def facet(body, name):
    return {f["value"]: f["count"] for f in body["facets"][name]}


def test_browse_all_lists_only_published_actors_in_french_name_order(api):
    body = api("per_page=100")
    assert body["total"] == 10
    assert [r["name"] for r in body["results"]] == NAMES_IN_FRENCH_ORDER
    assert body["page"] == 1 and body["per_page"] == 100 and body["pages"] == 1


def test_result_fields_follow_the_contract(api):
    result = api("name=SSFC")["results"][0]
    assert set(result) == {"id", "slug", "name", "acronym", "kind", "town", "postcode", "department",
                           "countries", "intervention_towns", "domains", "activities", "description",
                           "website", "email", "phone", "founded", "networks", "partnerships", "url", "updated_at"}
    assert result["founded"] is None  # contract §5: int or null
    assert result["networks"] == [] and result["partnerships"] == []
    assert result["countries"] == ["HT"]
    assert result["intervention_towns"] == ["Carrefour", "Port-au-Prince"]
    assert result["domains"] == ["sante", "urgence"]
    assert result["url"] == "/acteurs/" + result["slug"]
    assert result["updated_at"].endswith("+00:00")


def test_pagination(api):
    first = api("per_page=3")
    assert first["total"] == 10 and first["pages"] == 4 and len(first["results"]) == 3
    last = api("per_page=3&page=4")
    assert [r["name"] for r in last["results"]] == ["Zèbre Solidaire"]
    beyond = api("per_page=3&page=9")
    assert beyond["results"] == [] and beyond["total"] == 10


@pytest.mark.parametrize("query", ["cooperation", "coopération", "COOPERATION", "Coopérations"])
def test_free_text_ignores_accents_case_and_plural(api, query):
    assert names(api("q=" + quote(query))) == {"Coordination Information Tiers-Monde"}


def test_plural_finds_singular_and_back(api):
    expected = {"Les Amis de Ségou", "Écoles du Monde"}  # "une école" and "écoles"
    assert names(api("q=" + quote("écoles"))) == expected
    assert names(api("q=ecole")) == expected


def test_free_text_covers_labels_places_and_countries(api):
    assert names(api("q=Madagascar")) == {"Zèbre Solidaire"}
    assert names(api("q=" + quote("assainissement"))) == {"Les Amis de Ségou"}  # domain label
    assert names(api("q=Bayeux")) == {"Les Amis de Ségou"}


def test_free_text_operators_and_phrases(api):
    assert names(api("q=" + quote('"écoles rurales"'))) == {"Écoles du Monde"}
    assert names(api("q=" + quote("Dakar OU Ouagadougou"))) == {"Comité de jumelage Rouen–Dakar", "Écoles du Monde"}
    assert names(api("q=" + quote("école SAUF forages"))) == {"Écoles du Monde"}


@pytest.mark.parametrize("query,expected", [
    ("name=citim", {"Coordination Information Tiers-Monde"}),
    ("name=CIT", {"Coordination Information Tiers-Monde"}),  # acronym prefix
    ("name=amis%20seg", {"Les Amis de Ségou"}),  # word prefixes, no accents
    ("name=zebre", {"Zèbre Solidaire"}),
    ("name=solida", {"Zèbre Solidaire", "Association Poitou Solidarité"}),
])
def test_name_criterion_matches_names_acronyms_and_prefixes(api, query, expected):
    assert names(api(query)) == expected


@pytest.mark.parametrize("place,expected", [
    ("Caen", {"Coordination Information Tiers-Monde", "Échanges Normandie Maroc", "Santé Sans Frontières Caen"}),
    ("14", {"Coordination Information Tiers-Monde", "Échanges Normandie Maroc", "Santé Sans Frontières Caen",
            "Les Amis de Ségou"}),
    ("calvados", {"Coordination Information Tiers-Monde", "Échanges Normandie Maroc",
                  "Santé Sans Frontières Caen", "Les Amis de Ségou"}),
    ("14400", {"Les Amis de Ségou"}),
    ("Vienne", {"Ville de Vienne", "Association Poitou Solidarité"}),  # the town and the département
    ("Loire-Atlantique", {"abeilles du sahel"}),
])
def test_place_criterion_is_the_head_office(api, place, expected):
    assert names(api("place=" + quote(place))) == expected


@pytest.mark.parametrize("value,expected", [
    ("Mali", {"Les Amis de Ségou", "Écoles du Monde", "abeilles du sahel"}),
    ("MLI", {"Les Amis de Ségou", "Écoles du Monde", "abeilles du sahel"}),
    ("ml", {"Les Amis de Ségou", "Écoles du Monde", "abeilles du sahel"}),
    ("segou", {"Les Amis de Ségou"}),
    ("Port-au-Prince", {"Santé Sans Frontières Caen"}),
    ("haiti", {"Santé Sans Frontières Caen"}),
    ("Maroc", {"Association Poitou Solidarité", "Échanges Normandie Maroc"}),
])
def test_intervention_criterion_is_country_or_town_of_intervention(api, value, expected):
    assert names(api("intervention=" + quote(value))) == expected


def test_head_office_and_intervention_are_different_things(api):
    assert names(api("intervention=Caen")) == set()
    assert names(api("place=Dakar")) == set()


def test_repeated_filter_values_are_or_and_different_filters_are_and(api):
    assert names(api("country=SN&country=MG")) == {"Comité de jumelage Rouen–Dakar", "Zèbre Solidaire"}
    assert names(api("country=ML&domain=education")) == {"Écoles du Monde"}
    assert names(api("department=14&activity=projets&activity=echanges")) == {
        "Les Amis de Ségou", "Échanges Normandie Maroc", "Santé Sans Frontières Caen"}
    assert names(api("kind=collectivite")) == {"Ville de Vienne"}
    assert names(api("q=solidarite&department=86")) == {"Association Poitou Solidarité"}


def test_facets_count_every_published_actor(api):
    body = api()
    assert facet(body, "country") == {"ML": 3, "MA": 2, "BF": 1, "DE": 1, "HT": 1, "MG": 1, "NE": 1, "SN": 1}
    assert facet(body, "department") == {"14": 4, "76": 1, "75": 1, "38": 1, "86": 1, "69": 1, "44": 1}
    assert facet(body, "domain") == {"education": 4, "agriculture": 3, "sante": 3, "culture": 1, "droits": 1,
                                     "eau": 1, "gouvernance": 1, "urgence": 1}
    assert facet(body, "kind") == {"association": 8, "comite-jumelage": 1, "collectivite": 1}


def test_facets_are_disjunctive(api):
    body = api("country=ML&domain=education")
    # country counts ignore the country filter but apply the domain filter
    assert facet(body, "country") == {"ML": 1, "BF": 1, "SN": 1, "MA": 1}
    # domain counts ignore the domain filter but apply the country filter
    assert facet(body, "domain") == {"education": 1, "agriculture": 1, "eau": 1, "sante": 1}
    # other facets apply both
    assert facet(body, "department") == {"75": 1}


def test_facet_entries_sorted_by_count_then_label_and_labelled(api):
    entries = api()["facets"]["country"]
    assert entries[0] == {"value": "ML", "label": "Mali", "count": 3}
    assert entries[1] == {"value": "MA", "label": "Maroc", "count": 2}
    ones = [e["label"] for e in entries if e["count"] == 1]
    assert ones == ["Allemagne", "Burkina Faso", "Haïti", "Madagascar", "Niger", "Sénégal"]
    domains = {e["value"]: e["label"] for e in api()["facets"]["domain"]}
    assert domains["eau"] == "Eau et assainissement"
    assert {e["value"]: e["label"] for e in api()["facets"]["department"]}["14"] == "Calvados"


def test_selected_value_listed_even_with_no_match(api):
    body = api("country=JP")
    assert body["total"] == 0
    assert {"value": "JP", "label": "Japon", "count": 0} in body["facets"]["country"]


def test_text_criteria_combine_with_and(api):
    assert names(api("place=caen&intervention=haiti&name=sante")) == {"Santé Sans Frontières Caen"}
    assert names(api("place=caen&intervention=mali")) == set()


def test_relevance_is_default_with_text_and_name_otherwise(api):
    body = api("q=caen")
    assert body["results"][0]["name"] == "Santé Sans Frontières Caen"  # the name matches, not only the town
    by_name = api("q=caen&sort=name")
    assert [r["name"] for r in by_name["results"]] == [
        "Coordination Information Tiers-Monde", "Échanges Normandie Maroc", "Santé Sans Frontières Caen"]


def test_unpublished_actors_never_appear(api, directory):
    app, ids = directory
    assert api("q=secret")["total"] == 0
    assert api("intervention=dakar")["total"] == 1
    client = app.test_client()
    assert client.get(f"/api/actors/{ids[PENDING['name']]}").status_code == 404
    assert client.get(f"/api/actors/{ids[ARCHIVED['name']]}").status_code == 404


def test_one_actor_by_id(directory):
    app, ids = directory
    client = app.test_client()
    body = client.get(f"/api/actors/{ids['Zèbre Solidaire']}").get_json()
    assert body["name"] == "Zèbre Solidaire" and body["department"] == "69"
    missing = client.get("/api/actors/999999")
    assert missing.status_code == 404 and missing.is_json and missing.get_json()["error"]


@pytest.mark.parametrize("query", [
    "per_page=101", "per_page=0", "per_page=-5", "per_page=abc", "per_page=2.5", "page=0", "page=-1",
    "page=x", "country=XX", "country=Mali", "department=99", "department=975", "domain=inconnu",
    "activity=peche", "kind=club", "sort=random", "q=" + "a" * 5001,
])
def test_bad_parameters_give_400_with_a_french_message(api, query):
    body = api(query, status=400)
    assert set(body) == {"error"}
    assert any(word in body["error"] for word in ("paramètre", "Valeur inconnue", "Tri inconnu", "trop long"))


@pytest.mark.parametrize("text", [
    '"', '"eau', "*", "?", "eau*", "*eau", "AND", "OR", "NOT", "eau AND", "(((", ")))", "\\", "name:citim",
    "[a TO z]", "eau^3", "eau~2", "{}", "'; DROP TABLE actor; --", "<script>alert(1)</script>",
    "écoles " * 700, "x" * 5000, "é" * 5000, "%00", "💧 eau", "ET OU SAUF NON", "-", "+eau -sante",
])
def test_no_query_text_causes_an_error(api, text):
    for param in ("q", "name", "place", "intervention"):
        body = api(f"{param}={quote(text)}")
        assert body["total"] >= 0


def test_stale_index_never_leaks_an_unpublished_actor(tmp_path):
    from sqlalchemy import update

    from repertoire.extensions import db
    from repertoire.models import Actor

    app = build_app(tmp_path)
    actor_id = add_actor(app, name="Fuite Potentielle", countries="ML")
    with app.app_context():  # a bulk UPDATE bypasses the index hooks: the index is now stale
        db.session.execute(update(Actor).where(Actor.id == actor_id).values(status="pending"))
        db.session.commit()
    client = app.test_client()
    body = client.get("/api/actors?q=fuite").get_json()
    assert body["results"] == []
    assert client.get("/acteurs/fuite-potentielle").status_code == 404
    assert "Fuite" not in client.get("/export.csv").get_data(as_text=True)
    dispose(app)


def test_openapi_document(directory):
    body = directory[0].test_client().get("/api/openapi.json").get_json()
    assert body["openapi"].startswith("3.")
    assert {"/api/actors", "/api/actors/{id}", "/api/partnerships"} <= set(body["paths"])
    params = {p["name"] for p in body["paths"]["/api/actors"]["get"]["parameters"]}
    assert params == {"q", "name", "place", "intervention", "country", "department", "domain", "activity",
                      "kind", "partnership", "network", "sort", "page", "per_page"}
    params = {p["name"] for p in body["paths"]["/api/partnerships"]["get"]["parameters"]}
    assert params == {"q", "kind", "status", "country", "department", "decade", "actor", "since", "until", "page",
                      "per_page"}


def test_ids_beyond_the_database_integers_are_not_found(directory):
    client = directory[0].test_client()
    for url in ("/api/actors/2147483648", "/api/actors/24105754334338", "/api/actors/99999999999999999999999"):
        response = client.get(url)
        assert response.status_code == 404 and response.get_json()["error"]


def test_very_common_words_keep_names_first_then_alphabetical_order(app, monkeypatch):
    """Past the scoring bound (words in thousands of entries), matches in names still come first."""
    from repertoire.search.whoosh import query as index
    add_actor(app, name="Zèbres et puits", description="Forages.")
    add_actor(app, name="Amis du Sahel", description="Un puits.")
    add_actor(app, name="Puits du Nord", description="Forages.")
    add_actor(app, name="Bergers unis", description="Des puits, des puits et encore des puits.")
    client = app.test_client()
    scored = [r["name"] for r in client.get("/api/actors?q=puits").get_json()["results"]]
    assert set(scored[:2]) == {"Puits du Nord", "Zèbres et puits"} and scored[2:] == ["Bergers unis", "Amis du Sahel"]
    monkeypatch.setattr(index, "SCORING_POSTINGS", 0)
    bounded = [r["name"] for r in client.get("/api/actors?q=puits").get_json()["results"]]
    assert bounded == ["Puits du Nord", "Zèbres et puits", "Amis du Sahel", "Bergers unis"]


def test_an_empty_page_number_is_a_bad_number(client):
    for key in ("page", "per_page"):
        response = client.get(f"/api/actors?{key}=")
        assert response.status_code == 400 and key in response.get_json()["error"]
    assert client.get("/api/actors?page=1&per_page=5").status_code == 200
