"""The partnerships search page is kept for anonymous visitors like the actor search (issue 14, speed),
never stale on what is published: holders and partners with a page are checked at every serve."""
import pytest
from sqlalchemy import update

from conftest import add_actor, add_user, edit_actor, login
from repertoire.extensions import db
from repertoire.models import Actor
from repertoire.operations import actor_input
from web import text

TWINNING = {"kind": "jumelage", "start": "1962",
            "partners": [{"name": "Sesto Fiorentino", "country": "IT", "locality": "Sesto Fiorentino"},
                         {"name": "Comité de Sesto", "country": "FR", "locality": "Rouen",
                          "actor": "comite-de-sesto"}]}


@pytest.fixture
def renders(app, monkeypatch):
    """Counts the partnerships pages really rendered (the others came from the cache)."""
    from repertoire.public import partnerships
    count = []
    original = partnerships.render_template

    def counting(name, **context):
        if name == "partnerships.html":
            count.append(name)
        return original(name, **context)
    monkeypatch.setattr(partnerships, "render_template", counting)
    return count


@pytest.fixture
def holder(app):
    add_actor(app, name="Comité de Sesto", town="Rouen", department="76", postcode="76000")
    return add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93",
                     postcode="93170", partnerships=[TWINNING])


def test_the_same_search_is_rendered_once_and_changes_show_at_once(app, client, renders, holder):
    first = client.get("/partenariats?country=IT").get_data(as_text=True)
    assert client.get("/partenariats?country=IT").get_data(as_text=True) == first
    assert "Sesto Fiorentino" in first and len(renders) == 1
    client.get("/partenariats?country=IT&page=1&per_page=10")  # another address, another page
    assert len(renders) == 2
    with app.app_context():
        (twinning,) = actor_input(db.session.get(Actor, holder)).partnerships
    edit_actor(app, holder, partnerships=[{**twinning, "start": "1963"}])
    assert "depuis 1963" in text(client.get("/partenariats?country=IT"))


def test_a_signed_in_visitor_is_never_served_from_the_cache(app, client, renders, holder):
    add_user(app, "membre@example.org")
    client.get("/partenariats")
    login(client, "membre@example.org")
    client.get("/partenariats")
    assert len(renders) == 2


@pytest.mark.parametrize("who", ["holder", "partner"])
def test_a_change_behind_the_applications_back_is_never_served_from_the_cache(app, client, holder, who):
    page = client.get("/partenariats?country=IT").get_data(as_text=True)
    assert 'href="/acteurs/comite-de-sesto"' in page and 'href="/acteurs/ville-de-bagnolet"' in page
    slug = "ville-de-bagnolet" if who == "holder" else "comite-de-sesto"
    with app.app_context():  # no index task: the index still lists it, the cache holds the page
        db.session.execute(update(Actor).where(Actor.slug == slug).values(status="archived"))
        db.session.commit()
    page = client.get("/partenariats?country=IT").get_data(as_text=True)
    assert f'href="/acteurs/{slug}"' not in page
