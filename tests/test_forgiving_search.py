"""Searches that forgive (issue 17, points 1 and 2): relevance first, starts of names, several values,
regions, spelling suggestions and text criteria as chips; through the API and the HTML page."""
import html
import re
from urllib.parse import quote, urlencode

import pytest

from conftest import add_actor, build_app, dispose
from directory import ACTORS

EXTRA = [
    dict(name="Les Amis du CITIM", town="Lisieux", postcode="14100", department="14"),
    dict(name="Association Horizons Solidaires du Bessin", town="Bayeux", postcode="14400", department="14",
         countries="CI"),
    dict(name="Horizons Solidaires", town="Caen", postcode="14000", department="14", countries="BF"),
    dict(name="Bagnolet Solidarité Ivoire", town="Bagnolet", postcode="93170", department="93", countries="CI",
         intervention_towns="Bouaké"),
    dict(name="Breizh Afrika", town="Rennes", postcode="35000", department="35", countries="TG"),
    dict(name="Lille Sahel", town="Lille", postcode="59000", department="59", countries="NE"),
    *(dict(name=f"Cités {n} Provence", town="Marseille", postcode="13001", department="13")
      for n in ("Unies", "Solidaires", "d'Afrique")),
    dict(name="Karukera Solidarité", town="Pointe-à-Pitre", postcode="97110", department="971", countries="HT"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = build_app(tmp_path_factory.mktemp("forgiving"))
    for actor in ACTORS + EXTRA:
        add_actor(app, **actor)
    yield app
    dispose(app)


@pytest.fixture
def api(site):
    client = site.test_client()

    def get(status=200, **params):
        response = client.get("/api/actors?" + urlencode(params))
        assert response.status_code == status, response.get_json()
        return response.get_json()
    return get


@pytest.fixture
def page(site):
    client = site.test_client()

    def get(url, status=200):
        response = client.get(url)
        assert response.status_code == status
        return response.get_data(as_text=True)
    return get


def names(body):
    return {r["name"] for r in body["results"]}


def card_names(body):
    return [html.unescape(n) for n in re.findall(r'<h3 class="card-title"><a href="[^"]+">([^<]+)</a>', body)]


def text_of(markup):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


# -- 1. relevance first ----------------------------------------------------------------------------

@pytest.mark.parametrize("params,first", [
    ({"name": "CITIM"}, "Coordination Information Tiers-Monde"),  # the acronym, before « Les Amis du CITIM »
    ({"q": "CITIM"}, "Coordination Information Tiers-Monde"),
    ({"name": "Horizons Solidaires"}, "Horizons Solidaires"),  # the name typed exactly
    ({"q": "horizons solidaires"}, "Horizons Solidaires"),
])
def test_exact_name_or_acronym_comes_first(api, params, first):
    body = api(**params)
    assert body["total"] >= 2 and body["results"][0]["name"] == first


def test_the_home_form_sends_no_sort_so_text_gives_relevance(page):
    home = page("/")
    select = re.search(r'<select id="f-sort" name="sort">(.*?)</select>', home, re.S)[1]
    assert re.findall(r'<option value="([^"]*)"( selected)?>', select) == [("", " selected"), ("updated", "")]
    assert "nom (A → Z)" in text_of(select)  # what no text means
    # the browser sends the form as it stands: the default sort is empty, so typing text gives relevance
    body = page("/?" + urlencode({"name": "CITIM", "place": "", "intervention": "", "q": "", "sort": ""}))
    assert card_names(body)[0] == "Coordination Information Tiers-Monde"
    select = re.search(r'<select id="f-sort" name="sort">(.*?)</select>', body, re.S)[1]
    assert re.search(r'<option value="" selected>pertinence</option>', select)
    assert '<option value="name">' in select
    # an explicit choice is kept, and shown
    by_name = page("/?name=Horizons+Solidaires&sort=name")
    assert card_names(by_name)[0] == "Association Horizons Solidaires du Bessin"
    assert '<option value="name" selected>' in by_name


@pytest.mark.parametrize("param", ["name", "place", "intervention", "q"])
def test_relevance_is_the_default_for_every_text_criterion(page, param):
    body = page("/?" + urlencode({param: {"name": "x", "place": "Caen", "intervention": "Mali", "q": "x"}[param]}))
    assert re.search(r'<option value="" selected>pertinence</option>', body)


# -- 2. forgiving criteria 2 and 3 ------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [
    ("Burkina", {"Écoles du Monde", "Horizons Solidaires"}),
    ("Burk", {"Écoles du Monde", "Horizons Solidaires"}),
    ("Côte", {"Association Horizons Solidaires du Bessin", "Bagnolet Solidarité Ivoire"}),
    ("cote d'iv", {"Association Horizons Solidaires du Bessin", "Bagnolet Solidarité Ivoire"}),
    ("Boua", {"Bagnolet Solidarité Ivoire"}),  # the start of a town of intervention
    ("Madag", {"Zèbre Solidaire"}),
    ("Mali, Sénégal", {"Les Amis de Ségou", "Écoles du Monde", "abeilles du sahel", "Comité de jumelage Rouen–Dakar"}),
    ("Haïti,Dakar", {"Santé Sans Frontières Caen", "Karukera Solidarité", "Comité de jumelage Rouen–Dakar"}),
    ("Corée, République de", set()),  # a name with a comma stays whole (and is a country): no error
])
def test_intervention_takes_starts_of_names_and_several_values(api, value, expected):
    assert names(api(intervention=value, per_page=100)) == expected


CAEN = {"Coordination Information Tiers-Monde", "Échanges Normandie Maroc", "Santé Sans Frontières Caen",
        "Horizons Solidaires"}
CALVADOS = CAEN | {"Les Amis de Ségou", "Les Amis du CITIM", "Association Horizons Solidaires du Bessin"}


@pytest.mark.parametrize("value,expected", [
    ("Cae", CAEN),
    ("Calva", CALVADOS),
    ("Pointe-à", {"Karukera Solidarité"}),
    ("Caen, Rouen", CAEN | {"Comité de jumelage Rouen–Dakar"}),
    ("Normandie", CALVADOS | {"Comité de jumelage Rouen–Dakar"}),
    ("Basse-Normandie", CALVADOS),
    ("Haute-Normandie", {"Comité de jumelage Rouen–Dakar"}),
    ("Bretagne", {"Breizh Afrika"}),
    ("Hauts-de-France", {"Lille Sahel"}),
    ("Nord-Pas-de-Calais", {"Lille Sahel"}),
    ("Île-de-France", {"Écoles du Monde", "Bagnolet Solidarité Ivoire"}),
    ("ile de france, bretagne", {"Écoles du Monde", "Bagnolet Solidarité Ivoire", "Breizh Afrika"}),
    ("Outre-mer", {"Karukera Solidarité"}),
    ("Guadeloupe", {"Karukera Solidarité"}),
    ("Pays de la Loire", {"abeilles du sahel"}),
    ("Rhône-Alpes", {"Ville de Vienne", "Zèbre Solidaire"}),
])
def test_place_takes_starts_of_names_several_values_and_regions(api, value, expected):
    assert names(api(place=value, per_page=100)) == expected


def test_an_exact_value_is_not_widened_to_names_starting_like_it(api):
    # « Vienne » is a town and a département: not Haute-Vienne nor Vienne-en-Val
    assert names(api(place="Vienne")) == {"Ville de Vienne", "Association Poitou Solidarité"}
    assert names(api(intervention="Caen")) == set()


def test_too_many_values_is_a_bad_request_not_a_slow_one(api, page):
    many = ", ".join(f"ville{n}" for n in range(21))
    assert "Trop de valeurs" in api(status=400, place=many)["error"]
    assert "Trop de valeurs" in text_of(page("/?" + urlencode({"intervention": many}), status=400))
    assert api(place=", ".join(["Caen"] * 200))["total"] == len(CAEN)  # repeated values count once
    assert api(place=", ".join(f"ville{n}" for n in range(20)))["total"] == 0


def suggestion(body):
    found = re.search(r'Vouliez-vous dire <a href="([^"]+)" class="did-you-mean">([^<]+)</a> \?', body)
    return (html.unescape(found[1]), html.unescape(found[2])) if found else None


@pytest.mark.parametrize("query,corrected,link", [
    ({"place": "bagnollet"}, "Bagnolet", "/?place=Bagnolet"),
    ({"intervention": "madagscar"}, "Madagascar", "/?intervention=Madagascar"),
    ({"intervention": "Marocco"}, "Maroc", "/?intervention=Maroc"),
    ({"intervention": "Senegl"}, "Sénégal", "/?intervention=S%C3%A9n%C3%A9gal"),
    ({"place": "Bretgne"}, "Bretagne", "/?place=Bretagne"),
    ({"name": "Coordinaton Tiers"}, "coordination tiers", "/?name=coordination+tiers"),
    ({"name": "citmi"}, "citim", "/?name=citim"),  # two letters swapped: one typo (« cites » is two away)
    ({"intervention": "Mali, madagscar", "name": "zebre"}, "Madagascar",
     "/?name=zebre&intervention=Mali%2C+Madagascar"),
    ({"place": "bagnollet", "intervention": "cote divoir"}, "Bagnolet · Côte d'Ivoire",
     "/?place=Bagnolet&intervention=C%C3%B4te+d%27Ivoire"),
])
def test_a_typo_finds_nothing_and_suggests_the_search_that_finds(page, query, corrected, link):
    body = page("/?" + urlencode(query))
    assert "Aucun acteur trouvé" in text_of(body)
    assert suggestion(body) == (link, corrected)
    assert "Aucun acteur trouvé" not in text_of(page(link))


def test_no_suggestion_when_something_matches_or_nothing_is_close(page):
    assert suggestion(page("/?place=Bagnolet")) is None
    assert suggestion(page("/?" + urlencode({"place": "xqzwvk"}))) is None
    # each value is spelt right, only together do they find nothing: no lie about spelling
    assert suggestion(page("/?" + urlencode({"place": "Caen", "intervention": "Mali"}))) is None
    # a correction that would still find nothing is not offered
    assert suggestion(page("/?" + urlencode({"place": "bagnollet", "country": "JP"}))) is None


def test_the_api_keeps_the_contract_fields(api):
    assert set(api(intervention="madagscar")) == {"total", "page", "per_page", "pages", "results", "facets"}


def test_text_criteria_are_chips_each_removing_itself(page):
    body = page("/?" + urlencode({"name": "amis", "intervention": "Mali, Sénégal", "q": "école",
                                  "country": "ML"}))
    chips = {" ".join(text_of(label).replace("✕", "").split()): html.unescape(href)
             for href, label in re.findall(r'<a class="chip" href="([^"]+)">(.*?)</a>', body, re.S)}
    q = "q=%C3%A9cole"
    assert chips == {
        "Recherche libre : école (retirer ce critère)": "/?name=amis&intervention=Mali%2C+S%C3%A9n%C3%A9gal&country=ML",
        "Nom ou sigle : amis (retirer ce critère)": f"/?{q}&intervention=Mali%2C+S%C3%A9n%C3%A9gal&country=ML",
        "Pays ou ville d'intervention : Mali (retirer ce critère)": f"/?{q}&name=amis&intervention=S%C3%A9n%C3%A9gal&country=ML",
        "Pays ou ville d'intervention : Sénégal (retirer ce critère)": f"/?{q}&name=amis&intervention=Mali&country=ML",
        "Pays d'intervention : Mali (retirer ce filtre)": f"/?{q}&name=amis&intervention=Mali%2C+S%C3%A9n%C3%A9gal",
    }


def test_the_no_result_hint_is_true(api, page):
    body = page("/?" + urlencode({"name": "zzz"}))
    assert "pour le nom, la ville ou le pays, le début d'un nom suffit" in text_of(body)
    # and so it is: the start of a name, of a town, of a country
    assert names(api(name="Coordin")) == {"Coordination Information Tiers-Monde"}
    assert names(api(place="Poiti")) == {"Association Poitou Solidarité"}
    assert names(api(intervention="Haït")) == {"Santé Sans Frontières Caen", "Karukera Solidarité"}



def test_hostile_texts_are_not_spell_checked(page, monkeypatch):
    from repertoire.search import spelling
    calls = []
    original = spelling.process.extractOne
    monkeypatch.setattr(spelling.process, "extractOne", lambda *a, **k: calls.append(a[0]) or original(*a, **k))
    words = " ".join(f"zq{n}x" for n in range(600))
    for query in ({"name": words}, {"place": "bagnollet" * 400}, {"intervention": "x" * 4000}):
        assert suggestion(page("/?" + urlencode(query))) is None
    assert calls == []
    page("/?place=bagnolett")  # not asked before: not served from the page cache
    assert calls == ["bagnolett"]  # a real typo is looked up


def test_a_start_that_expands_to_many_terms_for_many_candidates_goes_by_name(app, monkeypatch):
    """Scoring costs a matcher per term for each candidate: past the bound, name order (names exact first)."""
    from repertoire.search.whoosh import query as index
    add_actor(app, name="Amis de Saint-Malo", town="Saint-Malo", postcode="35400", department="35")
    add_actor(app, name="Bateaux de Saint-Malo", town="Saint-Malo", postcode="35400", department="35")
    add_actor(app, name="Zèbre", town="Saint-Lô", postcode="50000", department="50")
    client = app.test_client()

    def order():
        return [r["name"] for r in client.get("/api/actors?place=sain").get_json()["results"]]
    assert order()[0] == "Zèbre"  # BM25: the rarer town weighs more
    monkeypatch.setattr(index, "SCORED_STEPS", 2)
    assert order() == ["Amis de Saint-Malo", "Bateaux de Saint-Malo", "Zèbre"]
