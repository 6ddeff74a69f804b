"""Issue 14 point 3: the partnership and network filters of the actor search, criterion 3 through partners,
and the partnerships search (``GET /api/partnerships``, ``/partenariats``), through HTTP (contract §5)."""
import pytest

from conftest import add_actor, edit_actor
from repertoire.extensions import db
from repertoire.models import Actor
from repertoire.operations import archive_actor, merge_actors

NETWORK = "maison-de-l-europe-de-nantes"


def twinning(name, country, year, locality=None, kind="jumelage", status="active", end="", actor=None):
    return {"kind": kind, "status": status, "start": year, "end": end,
            "partners": [{"name": name, "country": country, "locality": locality if locality is not None else name,
                          **({"actor": actor} if actor else {})}]}


def clean(*partnerships):
    """Partnerships as ``ActorInput.partnerships`` holds them (for ``edit_actor``, which skips validation)."""
    return [{**p, "partners": [{"actor": None, **partner} for partner in p["partners"]], "domains": [],
             "description": "", "source": ""} for p in partnerships]


@pytest.fixture
def directory(app):
    """Two Calvados holders, one in Seine-Saint-Denis, one unpublished; two networks; one partner in the directory."""
    ids = {}
    ids["nantes"] = add_actor(app, name="Maison de l'Europe de Nantes", kind="reseau", town="Nantes",
                              postcode="44000", department="44")
    ids["horizons"] = add_actor(app, name="Horizons Solidaires", kind="reseau", town="Caen", department="14")
    ids["amis"] = add_actor(app, name="Amis de Sesto Fiorentino", town="Caen", department="14")
    ids["falaise"] = add_actor(app, name="Ville de Falaise", kind="collectivite", town="Falaise", department="14",
                               networks=f"{NETWORK}:1998", partnerships=[
                                   twinning("Sesto Fiorentino", "IT", "1962", actor="amis-de-sesto-fiorentino"),
                                   twinning("Massala", "ML", "2003", kind="cooperation")])
    ids["lisieux"] = add_actor(app, name="Comité de jumelage de Lisieux", kind="comite-jumelage", town="Lisieux",
                               department="14", networks="horizons-solidaires", partnerships=[
                                   twinning("Taunton", "GB", "1975", status="terminee", end="1999"),
                                   twinning("Città di Prato", "IT", "1968", locality="Prato")])
    ids["honfleur"] = add_actor(app, name="Comité de Honfleur", kind="comite-jumelage", town="Honfleur",
                                department="14", partnerships=[
                                    twinning("Sandwich", "GB", "1980", status="terminee", end="1990")])
    ids["bagnolet"] = add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93",
                                networks=NETWORK, partnerships=[twinning("Oranienburg", "DE", "1964"),
                                                                twinning("Sesto Fiorentino", "IT", "1962")])
    ids["hidden"] = add_actor(app, status="pending", name="Ville Cachée", town="Vire", department="14",
                              partnerships=[twinning("Pisa", "IT", "1960")])
    return ids


def names(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(actor["name"] for actor in response.get_json()["results"])


def facet(response, name):
    return {f["value"]: f["count"] for f in response.get_json()["facets"][name]}


def partners(response):
    assert response.status_code == 200, response.get_json()
    return sorted(p["partners"][0]["name"] for p in response.get_json()["results"])


# -- the actor search: partnership and network filters, criterion 3 ----------

def test_partnership_filter_keeps_holders_of_an_active_partnership_of_that_kind(client, directory):
    assert names(client.get("/api/actors?partnership=jumelage")) == [
        "Comité de jumelage de Lisieux", "Ville de Bagnolet", "Ville de Falaise"]  # not Honfleur: ended
    assert names(client.get("/api/actors?partnership=cooperation")) == ["Ville de Falaise"]
    assert names(client.get("/api/actors?partnership=cooperation&partnership=jumelage&department=93")) == [
        "Ville de Bagnolet"]


def test_partnership_facet_is_disjunctive_and_labelled(client, directory):
    response = client.get("/api/actors?partnership=cooperation")
    assert facet(response, "partnership") == {"jumelage": 3, "cooperation": 1}
    labels = {f["value"]: f["label"] for f in response.get_json()["facets"]["partnership"]}
    assert labels == {"jumelage": "Jumelage", "cooperation": "Coopération décentralisée (convention)"}
    assert facet(response, "department") == {"14": 1}  # the other facets count under the filter
    assert facet(client.get("/api/actors?partnership=jumelage&department=93"), "partnership") == {"jumelage": 1}
    assert facet(client.get("/api/actors?partnership=amitie"), "partnership") == {
        "jumelage": 3, "cooperation": 1, "amitie": 0}  # a selected value is listed


def test_network_filter_and_facet_named_after_the_network(client, directory):
    assert names(client.get(f"/api/actors?network={NETWORK}")) == ["Ville de Bagnolet", "Ville de Falaise"]
    assert names(client.get(f"/api/actors?network={NETWORK}&network=horizons-solidaires")) == [
        "Comité de jumelage de Lisieux", "Ville de Bagnolet", "Ville de Falaise"]
    response = client.get(f"/api/actors?network={NETWORK}&department=14")
    assert names(response) == ["Ville de Falaise"]
    assert response.get_json()["facets"]["network"] == [
        {"value": "horizons-solidaires", "label": "Horizons Solidaires", "count": 1},
        {"value": NETWORK, "label": "Maison de l'Europe de Nantes", "count": 1}]


@pytest.mark.parametrize("query, words", [
    ("network=reseau-inconnu", "Valeur inconnue pour le filtre network (réseau) : « reseau-inconnu »"),
    ("network=ville-cachee", "Valeur inconnue pour le filtre network"),  # not published
    ("partnership=mariage", "Valeur inconnue pour le filtre partnership (type de partenariat)"),
])
def test_unknown_partnership_or_network_is_a_400_in_french(client, directory, query, words):
    for path in ("/api/actors", "/export.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400 and words in response.get_json()["error"]
    assert client.get(f"/?{query}").status_code == 400


def test_intervention_finds_an_actor_through_its_partners(client, directory):
    assert names(client.get("/api/actors?intervention=Italie")) == [
        "Comité de jumelage de Lisieux", "Ville de Bagnolet", "Ville de Falaise"]  # not the unpublished one
    assert names(client.get("/api/actors?intervention=Sesto")) == ["Ville de Bagnolet", "Ville de Falaise"]
    assert names(client.get("/api/actors?intervention=Sesto Fiorentino&place=Calvados")) == ["Ville de Falaise"]
    assert names(client.get("/api/actors?intervention=Mali")) == ["Ville de Falaise"]
    # partners' countries are not the actor's own countries of intervention
    assert facet(client.get("/api/actors?intervention=Italie"), "country") == {}


def test_free_text_finds_partner_names(client, directory):
    assert names(client.get("/api/actors?q=Oranienburg")) == ["Ville de Bagnolet"]


def test_search_page_and_export_take_the_new_filters(client, directory):
    html = client.get(f"/?partnership=jumelage&network={NETWORK}").get_data(as_text=True)
    assert 'id="facette-partnership"' in html and 'id="facette-network"' in html
    assert 'name="network" value="maison-de-l-europe-de-nantes" checked' in html
    assert "Membre du réseau : Maison de l&#39;Europe de Nantes" in html  # the active filter's chip
    assert "Ville de Falaise" in html and "Comité de jumelage de Lisieux" not in html
    csv = client.get(f"/export.csv?network={NETWORK}").get_data(as_text=True)
    assert "Ville de Falaise" in csv and "Ville de Bagnolet" in csv and "Lisieux" not in csv


# -- the partnerships search: GET /api/partnerships --------------------------

def test_partnerships_of_published_holders_with_their_holder(client, directory):
    response = client.get("/api/partnerships")
    data = response.get_json()
    assert data["total"] == 7 and data["page"] == 1 and data["pages"] == 1 and data["per_page"] == 20
    assert "Pisa" not in partners(response)  # its holder is not published
    first = data["results"][0]  # the oldest first
    assert first["start"] == "1962" and first["actor"] in ("ville-de-bagnolet", "ville-de-falaise")
    falaise = next(p for p in data["results"] if p["actor"] == "ville-de-falaise" and p["kind"] == "jumelage")
    assert falaise["partners"] == [{"name": "Sesto Fiorentino", "country": "IT", "locality": "Sesto Fiorentino",
                                    "actor": "amis-de-sesto-fiorentino",
                                    "url": "/acteurs/amis-de-sesto-fiorentino"}]
    assert falaise["holder"] == {"name": "Ville de Falaise", "town": "Falaise", "department": "14",
                                 "url": "/acteurs/ville-de-falaise"}
    assert {"id", "status", "end", "domains", "description", "source"} <= falaise.keys()
    assert [p["start"] for p in data["results"]] == ["1962", "1962", "1964", "1968", "1975", "1980", "2003"]


def test_each_partnership_filter(client, directory):
    assert partners(client.get("/api/partnerships?kind=cooperation")) == ["Massala"]
    assert partners(client.get("/api/partnerships?status=terminee")) == ["Sandwich", "Taunton"]
    assert partners(client.get("/api/partnerships?country=it")) == [
        "Città di Prato", "Sesto Fiorentino", "Sesto Fiorentino"]
    assert partners(client.get("/api/partnerships?department=93")) == ["Oranienburg", "Sesto Fiorentino"]
    assert partners(client.get("/api/partnerships?actor=ville-de-falaise")) == ["Massala", "Sesto Fiorentino"]
    assert partners(client.get("/api/partnerships?since=1964&until=1975")) == ["Città di Prato", "Oranienburg",
                                                                              "Taunton"]
    assert partners(client.get("/api/partnerships?since=1990&until=1960")) == []  # an empty range
    assert partners(client.get("/api/partnerships?decade=1960&decade=2000")) == [
        "Città di Prato", "Massala", "Oranienburg", "Sesto Fiorentino", "Sesto Fiorentino"]
    assert partners(client.get("/api/partnerships?q=prato")) == ["Città di Prato"]
    assert partners(client.get("/api/partnerships?q=italie falaise")) == ["Sesto Fiorentino"]  # country, holder
    assert partners(client.get("/api/partnerships?q=royaume-uni&status=active")) == []
    assert partners(client.get("/api/partnerships?kind=jumelage&country=IT&department=14&until=1969")) == [
        "Città di Prato", "Sesto Fiorentino"]


def test_partnership_facets_are_disjunctive(client, directory):
    response = client.get("/api/partnerships?kind=jumelage&country=IT")
    assert response.get_json()["total"] == 3
    assert facet(response, "kind") == {"jumelage": 3}
    assert facet(response, "country") == {"IT": 3, "GB": 2, "DE": 1}  # every jumelage, whatever its country
    assert facet(response, "department") == {"14": 2, "93": 1}
    assert facet(response, "status") == {"active": 3}
    assert facet(response, "decade") == {"1960": 3}
    response = client.get("/api/partnerships?department=14&status=terminee")
    assert facet(response, "status") == {"active": 3, "terminee": 2}
    assert facet(response, "department") == {"14": 2}
    assert facet(response, "decade") == {"1970": 1, "1980": 1}
    labels = {f["value"]: f["label"] for f in response.get_json()["facets"]["status"]}
    assert labels == {"active": "Active", "terminee": "Terminée"}
    sorted_facet = client.get("/api/partnerships").get_json()["facets"]["country"]
    assert [f["value"] for f in sorted_facet] == ["IT", "GB", "DE", "ML"]  # count, then label


@pytest.mark.parametrize("query, words", [
    ("kind=mariage", "Valeur inconnue pour le filtre kind"),
    ("status=morte", "Valeur inconnue pour le filtre status"),
    ("country=XX", "Valeur inconnue pour le filtre country"),
    ("department=00", "Valeur inconnue pour le filtre department"),
    ("decade=1965", "Valeur inconnue pour le filtre decade"),
    ("since=soixante", "Le paramètre since doit être une année sur 4 chiffres"),
    ("until=19690", "Le paramètre until doit être une année"),
    ("page=0", "Le paramètre page doit être un nombre entier positif"),
    ("per_page=101", "Le paramètre per_page doit être un nombre entier de 1 à 100"),
    ("q=" + "x" * 5001, "trop long"),
])
def test_bad_partnership_parameters_are_a_400_in_french(client, directory, query, words):
    response = client.get(f"/api/partnerships?{query}")
    assert response.status_code == 400 and words in response.get_json()["error"]
    assert client.get(f"/partenariats?{query}").status_code == 400


@pytest.mark.parametrize("slug", ["personne", "ville-cachee"])
def test_an_unknown_or_unpublished_holder_is_not_found(client, directory, slug):
    response = client.get(f"/api/partnerships?actor={slug}")
    assert response.status_code == 404
    assert response.get_json()["error"] == f"Acteur inconnu pour le paramètre actor : « {slug} »."
    assert client.get(f"/partenariats?actor={slug}").status_code == 404


def test_openapi_lists_the_networks(client, directory):
    document = client.get("/api/openapi.json").get_json()
    (network,) = [p for p in document["paths"]["/api/actors"]["get"]["parameters"] if p["name"] == "network"]
    assert network["schema"]["items"]["enum"] == ["", "horizons-solidaires", NETWORK]


def test_partnerships_paging(client, directory):
    seen = []
    for page in (1, 2, 3, 4):
        data = client.get(f"/api/partnerships?per_page=2&page={page}").get_json()
        assert data["total"] == 7 and data["pages"] == 4 and data["per_page"] == 2
        assert len(data["results"]) == (2 if page < 4 else 1)
        seen += [p["id"] for p in data["results"]]
    assert len(set(seen)) == 7
    past = client.get("/api/partnerships?per_page=2&page=5").get_json()
    assert past["results"] == [] and past["total"] == 7


# -- the index follows edits, archives and merges -----------------------------

def test_the_index_follows_an_edit_an_archive_and_a_publication(app, client, directory):
    edit_actor(app, directory["bagnolet"], partnerships=clean(
        twinning("Oranienburg", "DE", "1964"), twinning("Chatila", "LB", "2002", kind="amitie")))
    assert partners(client.get("/api/partnerships?department=93")) == ["Chatila", "Oranienburg"]
    assert names(client.get("/api/actors?partnership=amitie")) == ["Ville de Bagnolet"]
    assert names(client.get("/api/actors?intervention=Sesto")) == ["Ville de Falaise"]
    assert names(client.get("/api/actors?intervention=Liban")) == ["Ville de Bagnolet"]
    edit_actor(app, directory["bagnolet"], networks=[])
    assert names(client.get(f"/api/actors?network={NETWORK}")) == ["Ville de Falaise"]
    with app.app_context():
        archive_actor(db.session, db.session.get(Actor, directory["falaise"]))
        db.session.commit()
    assert partners(client.get("/api/partnerships?country=IT")) == ["Città di Prato"]
    assert names(client.get("/api/actors?intervention=Italie")) == ["Comité de jumelage de Lisieux"]


def test_a_merge_moves_members_and_partner_links_to_the_kept_actor(app, client, directory):
    with app.app_context():
        keep, drop = db.session.get(Actor, directory["horizons"]), db.session.get(Actor, directory["nantes"])
        merge_actors(db.session, keep, drop, {}, None)
        db.session.commit()
    assert names(client.get("/api/actors?network=horizons-solidaires")) == [
        "Comité de jumelage de Lisieux", "Ville de Bagnolet", "Ville de Falaise"]
    assert client.get(f"/api/actors?network={NETWORK}").status_code == 400  # no longer published
    add_actor(app, name="Comité Sesto Fiorentino", town="Falaise", department="14")
    with app.app_context():
        keep = db.session.scalar(db.select(Actor).where(Actor.slug == "comite-sesto-fiorentino"))
        merge_actors(db.session, keep, db.session.get(Actor, directory["amis"]), {}, None)
        db.session.commit()
    (sesto,) = client.get("/api/partnerships?actor=ville-de-falaise&country=IT").get_json()["results"]
    assert sesto["partners"][0]["actor"] == "comite-sesto-fiorentino"
    assert sesto["partners"][0]["url"] == "/acteurs/comite-sesto-fiorentino"


# -- the HTML page /partenariats -------------------------------------------------

def test_partnerships_page_facets_results_and_links(client, directory):
    response = client.get("/partenariats?kind=jumelage&country=IT&department=14&until=1969")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "2 partenariats trouvés" in html
    for name in ("kind", "status", "country", "department", "decade"):
        assert f'id="facette-{name}"' in html
    assert 'name="country" value="IT" checked' in html and 'value="1969"' in html
    assert '<a href="/acteurs/ville-de-falaise">Ville de Falaise</a>' in html
    assert '<a href="/acteurs/amis-de-sesto-fiorentino">Sesto Fiorentino</a>' in html  # the partner's page
    assert "Città di Prato" in html and "Oranienburg" not in html
    assert "années 1960" in html
    # a chip removes one filter and keeps the others (shareable URLs)
    assert 'href="/partenariats?q=&' not in html
    assert "/partenariats?until=1969&amp;kind=jumelage&amp;department=14" in html


def test_partnerships_page_paging_links(client, directory):
    html = client.get("/partenariats?per_page=2&page=2").get_data(as_text=True)
    assert "/partenariats?per_page=2&amp;page=3" in html and 'rel="prev"' in html
    assert "Page 2 sur 4" in html
    assert client.get("/partenariats?kind=x").status_code == 400


def test_a_renamed_network_is_shown_under_its_new_name(app, client, directory):
    edit_actor(app, directory["nantes"], name="Maison de l'Europe Nantes Atlantique")
    html = client.get(f"/?network={NETWORK}").get_data(as_text=True)
    assert "Maison de l&#39;Europe Nantes Atlantique" in html  # the facet and its chip, not a cached page
    labels = {f["value"]: f["label"] for f in client.get("/api/actors").get_json()["facets"]["network"]}
    assert labels[NETWORK] == "Maison de l'Europe Nantes Atlantique"
    with app.app_context():
        archive_actor(db.session, db.session.get(Actor, directory["horizons"]))
        db.session.commit()
    assert "horizons-solidaires" not in facet(client.get("/api/actors"), "network")  # no longer offered


def test_many_matches_are_ordered_as_few_across_segments(client, directory, monkeypatch):
    """Past SORTED_AT_MOST matches the order is merged from each index segment's: the same order."""
    from repertoire.search.whoosh import query
    few = [p["id"] for p in client.get("/api/partnerships?per_page=100").get_json()["results"]]
    monkeypatch.setattr(query, "SORTED_AT_MOST", 0)
    many = [p["id"] for p in client.get("/api/partnerships?per_page=100").get_json()["results"]]
    paged = [p["id"] for page in (1, 2, 3) for p in
             client.get(f"/api/partnerships?per_page=3&page={page}").get_json()["results"]]
    assert many == few == paged and len(few) == 7
