"""The public HTML pages, as a citizen without JavaScript uses them."""
import html
import re

import pytest

from conftest import add_actor, build_app, dispose
from directory import ACTORS, PENDING


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = build_app(tmp_path_factory.mktemp("site"))
    for actor in ACTORS:
        add_actor(app, **actor)
    add_actor(app, status="pending", **PENDING)
    yield app
    dispose(app)


@pytest.fixture
def page(site):
    client = site.test_client()

    def get(url, status=200, **kwargs):
        response = client.get(url, **kwargs)
        assert response.status_code == status
        return response.get_data(as_text=True)
    return get


def text_of(markup):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


def test_home_offers_the_five_criteria_with_labels(page):
    body = page("/")
    for label, field in [("Nom ou sigle", "f-name"), ("Ville ou département du siège", "f-place"),
                         ("Pays ou ville d'intervention", "f-intervention")]:
        assert f'<label for="{field}">' in body and html.escape(label, quote=False) in html.unescape(body)
    text = text_of(body)
    assert "Domaine d'intervention" in text and "Type d'activité" in text
    assert 'role="search"' in body and '<main id="contenu"' in body and 'class="skip-link"' in body
    assert "10 acteurs trouvés" in text


def test_facets_show_counts_and_selection_is_kept(page):
    body = page("/?country=ML&domain=education")
    assert re.search(r'name="country" value="ML" checked', body)
    assert re.search(r'name="domain" value="education" checked', body)
    assert "1 acteur trouvé" in text_of(body)
    assert re.search(r'for="facet-country-BF">Burkina Faso <span class="count">1', body)


def test_each_active_filter_can_be_removed(page):
    body = page("/?country=ML&country=BF&domain=education")
    chips = re.findall(r'<a class="chip" href="([^"]+)"', body)
    assert len(chips) == 3
    decoded = [html.unescape(c) for c in chips]
    assert "/?country=BF&domain=education" in decoded
    assert "/?country=ML&domain=education" in decoded
    assert "/?country=ML&country=BF" in decoded


def test_results_link_to_actor_pages_and_search_is_a_shareable_url(page):
    body = page("/?intervention=Mali&sort=name")
    assert [html.unescape(n) for n in re.findall(r'<h3 class="card-title"><a href="[^"]+">([^<]+)</a>', body)] == [
        "abeilles du sahel", "Écoles du Monde", "Les Amis de Ségou"]
    assert 'value="Mali"' in body


def test_pagination_keeps_the_search(page):
    body = page("/?per_page=3&kind=association")
    assert "8 acteurs trouvés" in text_of(body)
    assert 'aria-current="page">1<' in body
    assert html.escape("/?kind=association&per_page=3&page=2") in body
    second = page("/?kind=association&per_page=3&page=2")
    assert 'aria-current="page">2<' in second


def test_empty_result_gives_advice_and_ways_out(page):
    body = page("/?intervention=Mali&country=HT")
    text = text_of(body)
    assert "Aucun acteur trouvé" in text
    assert "retirez le texte « Mali »" in text
    assert "retirez le filtre « Haïti »" in text
    assert html.escape("/?country=HT") in body


def test_bad_parameter_shows_a_french_error_page_with_status_400(page):
    body = page("/?per_page=1000", status=400)
    assert "per_page" in body and "Cette recherche ne peut pas être faite" in text_of(body)


def test_actor_page_separates_head_office_and_intervention(page):
    body = page("/acteurs/sante-sans-frontieres-caen")
    text = text_of(body)
    assert "<h1" in body and "Santé Sans Frontières Caen" in text and "(SSFC)" in text
    assert "Siège" in text and "Lieux d'intervention" in text
    assert 'href="/?country=HT"' in body and "Haïti" in text
    assert 'href="/?domain=sante"' in body and 'href="/?domain=urgence"' in body
    assert 'href="/?department=14"' in body and "Calvados (14)" in text
    assert 'href="mailto:contact@ssfc.example.org"' in body and 'href="tel:0231000000"' in body
    assert "Fiche mise à jour le" in text


def test_actor_page_returns_to_the_search_it_came_from(page):
    body = page("/acteurs/les-amis-de-segou", headers={"Referer": "http://localhost/?intervention=Mali&domain=eau"})
    assert html.escape("/?intervention=Mali&domain=eau") in body


def test_unknown_or_unpublished_actor_is_a_404_page(page):
    assert "Page introuvable" in page("/acteurs/nexiste-pas", status=404)
    assert "Page introuvable" in page("/acteurs/projet-secret-mali", status=404)


def test_export_of_a_search_as_csv(site):
    response = site.test_client().get("/export.csv?country=ML&sort=name")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "name,acronym,kind,town,postcode,department,countries,intervention_towns,domains,activities,description,website,email,phone,founded,networks"
    assert [line.split(",")[0] for line in lines[1:]] == ["abeilles du sahel", "Écoles du Monde", "Les Amis de Ségou"]


def test_export_with_a_bad_parameter_is_a_400(site):
    response = site.test_client().get("/export.csv?domain=nope")
    assert response.status_code == 400 and "error" in response.get_json()


def test_user_text_is_escaped(tmp_path):
    app = build_app(tmp_path)
    add_actor(app, name="<script>alert('x')</script> Asso", description="<img src=x onerror=alert(1)>")
    client = app.test_client()
    listing = client.get("/?q=asso").get_data(as_text=True)
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing
    actor = client.get("/acteurs/script-alert-x-script-asso").get_data(as_text=True)
    assert "<img src=x" not in actor
    dispose(app)


def test_pages_are_in_french_whatever_the_browser_asks(page):
    body = page("/acteurs/les-amis-de-segou", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="fr">' in body
    assert re.search(r"Fiche mise à jour le \d{1,2} \w+ 20\d\d", text_of(body))
    assert not re.search(r"(January|February|March|April|May|June|July|August|September|October|November|December)", body)


def test_long_facets_show_the_top_values_and_a_link_to_all(tmp_path):
    app = build_app(tmp_path)
    departments = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]
    for i, dept in enumerate(departments):
        add_actor(app, name=f"Acteur {i:02d}", department=dept, postcode="")
    client = app.test_client()
    body = client.get("/").get_data(as_text=True)
    assert len(re.findall(r'name="department" value=', body)) == 10
    link = re.search(r'<a href="([^"]*voir=department[^"]*)">Voir les 12 valeurs', body)
    assert link
    expanded = client.get(html.unescape(link.group(1)).split("#")[0]).get_data(as_text=True)
    assert len(re.findall(r'name="department" value=', expanded)) == 12
    selected = client.get("/?department=12").get_data(as_text=True)
    assert 'name="department" value="12" checked' in selected
    dispose(app)
