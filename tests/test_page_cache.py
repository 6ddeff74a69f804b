"""Search pages served again from memory to anonymous visitors, never stale on what is published."""
import pytest
from sqlalchemy import update

from conftest import add_actor, add_user, edit_actor, login
from repertoire.extensions import db
from repertoire.models import Actor, IndexLog, utcnow
from web import text


@pytest.fixture
def renders(app, monkeypatch):
    """Counts the search pages really rendered (the others came from the cache)."""
    from repertoire.public import views
    count = []
    original = views.render_template

    def counting(name, **context):
        if name == "search.html":
            count.append(name)
        return original(name, **context)
    monkeypatch.setattr(views, "render_template", counting)
    return count


def test_the_same_search_is_rendered_once(app, client, renders):
    add_actor(app, name="Amis du Burkina", countries="BF")
    first = client.get("/?country=BF").get_data(as_text=True)
    assert client.get("/?country=BF").get_data(as_text=True) == first
    assert "Amis du Burkina" in first and len(renders) == 1
    client.get("/?country=BF&sort=updated")  # another address, another page
    assert len(renders) == 2


def test_edits_and_unpublishing_show_at_once(app, client, renders):
    actor = add_actor(app, name="Amis du Burkina", countries="BF")
    client.get("/?country=BF")
    edit_actor(app, actor, name="Amis du Faso")
    assert "Amis du Faso" in text(client.get("/?country=BF"))
    with app.app_context():
        db.session.get(Actor, actor).status = "archived"
        db.session.commit()
    assert "1 acteur trouvé" not in text(client.get("/?country=BF"))


def test_a_change_behind_the_applications_back_is_never_served_from_the_cache(app, client):
    actor = add_actor(app, name="Amis du Burkina", countries="BF")
    assert "Amis du Burkina" in text(client.get("/?country=BF"))
    with app.app_context():  # no index task: the index still lists it, the cache holds the page
        db.session.execute(update(Actor).where(Actor.id == actor).values(status="archived"))
        db.session.commit()
    assert "Amis du Burkina" not in text(client.get("/?country=BF"))


def test_no_cache_while_changes_wait_for_the_index(app, client, renders):
    actor = add_actor(app, name="Amis du Burkina", countries="BF")
    client.get("/?country=BF")
    with app.app_context():
        db.session.execute(IndexLog.__table__.insert().values(actor_id=actor, op="upsert", created_at=utcnow()))
        db.session.commit()
    client.get("/?country=BF")
    assert len(renders) == 2


def test_logged_in_visitors_and_other_languages_get_their_own_pages(app, client, renders):
    add_actor(app, name="Amis du Burkina", countries="BF")
    anonymous = client.get("/?country=BF").get_data(as_text=True)
    assert "Se connecter" in anonymous and "csrf_token" not in anonymous
    client.get("/langue/en?next=/")
    assert "Find an actor" in text(client.get("/?country=BF"))
    add_user(app, "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    page = member.get("/?country=BF").get_data(as_text=True)
    assert "Mon espace" in page and "Se connecter" not in page
    assert len(renders) == 3
