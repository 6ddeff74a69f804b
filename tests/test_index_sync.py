"""The index follows the database: written after commit, never for a rollback."""
from sqlalchemy import select

from conftest import edit_actor
from repertoire.extensions import db
from repertoire.models import Actor
from repertoire.operations import archive_actor, publish_actor, update_actor, actor_input
from repertoire.validation import Vocabulary


def found(client, query):
    return [r["name"] for r in client.get("/api/actors?" + query).get_json()["results"]]


def test_published_actor_appears_and_archived_one_disappears(app, client, make_actor):
    actor_id = make_actor(name="Puits pour Kayes", countries="ML")
    assert found(client, "q=kayes") == ["Puits pour Kayes"]
    with app.app_context():
        archive_actor(db.session, db.session.get(Actor, actor_id))
        db.session.commit()
    assert found(client, "q=kayes") == []
    with app.app_context():
        publish_actor(db.session, db.session.get(Actor, actor_id))
        db.session.commit()
    assert found(client, "q=kayes") == ["Puits pour Kayes"]


def test_pending_actor_is_not_indexed_until_published(app, client, make_actor):
    actor_id = make_actor(name="Attente Bamako", status="pending")
    assert found(client, "q=bamako&q=attente") == []
    with app.app_context():
        publish_actor(db.session, db.session.get(Actor, actor_id))
        db.session.commit()
    assert found(client, "name=attente") == ["Attente Bamako"]


def test_an_edit_changes_what_search_finds(app, client, make_actor):
    actor_id = make_actor(name="Jardins du Sahel", countries="NE", domains="agriculture")
    assert edit_actor(app, actor_id, countries=["BF"], domains=["eau"])
    assert found(client, "country=NE") == []
    assert found(client, "country=BF&domain=eau") == ["Jardins du Sahel"]


def test_rolled_back_changes_are_not_indexed(app, client, make_actor):
    actor_id = make_actor(name="Stable Name")
    with app.app_context():
        actor = db.session.get(Actor, actor_id)
        data = actor_input(actor)
        data.name = "Changed Name"
        update_actor(db.session, actor, data, Vocabulary(db.session))
        db.session.flush()
        db.session.rollback()
    assert found(client, "name=changed") == []
    assert found(client, "name=stable") == ["Stable Name"]


def test_sort_by_update_puts_the_newest_first(app, client, make_actor):
    make_actor(name="Premier")
    second = make_actor(name="Second")
    make_actor(name="Troisième")
    edit_actor(app, second, description="Nouvelle description.")
    assert found(client, "sort=updated")[0] == "Second"


def test_reindex_rebuilds_from_the_database(app, client, runner, make_actor):
    make_actor(name="Reconstruite", countries="SN")
    with app.app_context():
        from repertoire.search import get_index
        get_index().create()  # an empty index, as after losing the directory
    assert runner.invoke(args=["index", "check"]).exit_code == 1  # it no longer agrees with the database
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0 and "1 acteur publié" in result.output
    assert found(client, "name=reconstruite") == ["Reconstruite"]
