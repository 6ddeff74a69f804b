"""Each network's own directory (issue 16, point 2): /reseaux/<slug>/ is the search among its members."""
import csv
import html
import io
import re

import pytest

from conftest import add_actor
from repertoire.extensions import db
from repertoire.models import Actor
from repertoire.operations import merge_actors


@pytest.fixture
def network(app):
    add_actor(app, name="Horizons Solidaires", kind="reseau", town="Caen", department="14",
              website="https://horizons-solidaires.example.org")
    add_actor(app, name="Amis de Ségou", kind="association", town="Bayeux", department="14", countries="ML",
              networks="horizons-solidaires:1998")
    add_actor(app, name="Puits du Sahel", kind="association", town="Alençon", department="61", countries="NE",
              networks="horizons-solidaires")
    add_actor(app, name="Hors Réseau", kind="association", town="Caen", department="14", countries="ML")
    return "horizons-solidaires"


def links(page: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', page)]


def test_the_directory_lists_only_members_under_the_networks_name(client, network):
    page = client.get(f"/reseaux/{network}/").get_data(as_text=True)
    assert "Horizons Solidaires" in page and "Annuaire du réseau" in page
    assert "https://horizons-solidaires.example.org" in page and "/acteurs/horizons-solidaires" in page
    assert "Amis de Ségou" in page and "Puits du Sahel" in page and "Hors Réseau" not in page
    assert 'id="facette-network"' not in page  # implied here


def test_its_links_stay_in_the_directory(client, network):
    page = client.get(f"/reseaux/{network}/?department=14").get_data(as_text=True)
    assert "Amis de Ségou" in page and "Puits du Sahel" not in page
    facet_links = [h for h in links(page) if "department=" in h or "country=" in h]
    assert facet_links and all(h.startswith(f"/reseaux/{network}/") for h in facet_links if "export" not in h
                               and "embed" not in h)
    assert not [h for h in links(page) if h.startswith(f"/reseaux/{network}/") and "network=" in h]


def test_its_exports_and_embed_preset_hold_only_members(client, network):
    page = client.get(f"/reseaux/{network}/").get_data(as_text=True)
    (csv_link,) = [h for h in links(page) if h.startswith("/export.csv")]
    rows = list(csv.DictReader(io.StringIO(client.get(csv_link).get_data(as_text=True))))
    assert sorted(r["name"] for r in rows) == ["Amis de Ségou", "Puits du Sahel"]
    (json_link,) = [h for h in links(page) if h.startswith("/export.json")]
    assert sorted(a["name"] for a in client.get(json_link).get_json()) == ["Amis de Ségou", "Puits du Sahel"]
    snippet = html.unescape(re.search(r'<textarea id="embed-snippet"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    src = re.search(r'src="([^"]+)"', snippet).group(1)
    assert "network=horizons-solidaires" in src
    framed = client.get(src.split("localhost", 1)[-1]).get_data(as_text=True)
    assert "Amis de Ségou" in framed and "Hors Réseau" not in framed


def test_its_statistics_count_only_members(client, network):
    page = client.get(f"/reseaux/{network}/statistiques").get_data(as_text=True)
    assert "Horizons Solidaires" in page and "2 acteurs publiés" in page
    assert f'href="/reseaux/{network}/?department=61"' in page
    assert f'href="/reseaux/{network}/?country=ML"' in page


def test_the_networks_page_lists_each_network_with_its_members(client, network):
    add_actor(app=client.application, name="Réseau Sans Membre", kind="reseau", town="Rouen", department="76")
    page = client.get("/reseaux/").get_data(as_text=True)
    assert f'href="/reseaux/{network}/"' in page and "Réseau Sans Membre" not in page
    assert re.search(r"Horizons Solidaires</a></th>\s*<td class=\"num\">2</td>", page)
    assert 'href="/reseaux/"' in client.get("/").get_data(as_text=True)  # in the header of every page


def test_the_networks_page_from_the_cache_never_shows_a_network_no_longer_published(app, client, network,
                                                                                     monkeypatch):
    from sqlalchemy import update
    from repertoire.public import networks as views
    rendered = []
    original = views.search_actors
    monkeypatch.setattr(views, "search_actors", lambda *args, **kwargs: rendered.append(1) or original(*args, **kwargs))
    first = client.get("/reseaux/").get_data(as_text=True)
    assert client.get("/reseaux/").get_data(as_text=True) == first and len(rendered) == 1  # from the cache
    assert "Horizons Solidaires" in first
    with app.app_context():  # behind the application's back: no index task, the cache still holds the page
        db.session.execute(update(Actor).where(Actor.slug == network).values(status="archived"))
        db.session.commit()
    page = client.get("/reseaux/").get_data(as_text=True)
    assert "Horizons Solidaires" not in page and len(rendered) == 2


def test_the_national_search_keeps_the_network_facet(client, network):
    page = client.get("/").get_data(as_text=True)
    assert 'id="facette-network"' in page and "Horizons Solidaires" in page


def test_unknown_unpublished_merged_and_bad_requests(app, client, network):
    assert client.get("/reseaux/inconnu/").status_code == 404
    add_actor(app, name="Réseau En Attente", kind="reseau", town="Rouen", department="76", status="pending")
    assert client.get("/reseaux/reseau-en-attente/").status_code == 404
    assert client.get("/reseaux/inconnu/statistiques").status_code == 404
    response = client.get(f"/reseaux/{network}/?domain=nope")
    assert response.status_code == 400 and "Horizons Solidaires" in response.get_data(as_text=True)
    add_actor(app, name="Horizons Solidaires Normandie", kind="reseau", town="Caen", department="14")
    with app.app_context():
        keep = db.session.query(Actor).filter_by(slug="horizons-solidaires-normandie").one()
        drop = db.session.query(Actor).filter_by(slug=network).one()
        merge_actors(db.session, keep, drop, {}, None)
        db.session.commit()
    response = client.get(f"/reseaux/{network}/?country=ML")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/reseaux/horizons-solidaires-normandie/?country=ML")
    page = client.get("/reseaux/horizons-solidaires-normandie/").get_data(as_text=True)
    assert "Amis de Ségou" in page and "Puits du Sahel" in page  # the members followed the merge


def test_a_networks_statistics_do_not_show_the_whole_directorys_partnerships(client, network):
    assert "Partenariats, jumelages et coopérations" in client.get("/statistiques").get_data(as_text=True)
    page = client.get(f"/reseaux/{network}/statistiques").get_data(as_text=True)
    assert "Partenariats, jumelages et coopérations" not in page
