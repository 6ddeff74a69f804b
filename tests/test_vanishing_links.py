"""A network or partner actor withdrawn between the form's check and the save (issue 14): no error page,
the French message beside its field, everything typed kept; a moderation decision says so and changes nothing."""
import pytest
from sqlalchemy import select

from conftest import add_actor, add_user, login
from repertoire.extensions import db
from repertoire.forms import ActorForm
from repertoire.models import Actor, ChangeRequest
from repertoire.operations import actor_input, archive_actor
from test_partnership_entry import field_error, press
from web import ACTOR_FORM, outbox, submit, text

PARTNER = {"partnerships-0-kind": "partenariat", "partnerships-0-start": "1998",
           "partnerships-0-partners-0-name": "Comité de jumelage de Sesto",
           "partnerships-0-partners-0-country": "France", "partnerships-0-partners-0-actor": "comite-de-jumelage-de-sesto"}
NETWORK = {"networks-0-network": "horizons-solidaires", "networks-0-since": "1998"}


@pytest.fixture
def linked(app):
    """Two published actors an entry may link to: a partner and a network."""
    add_actor(app, name="Comité de jumelage de Sesto", town="Rouen", department="76", postcode="76000")
    add_actor(app, name="Horizons Solidaires", kind="reseau", town="Caen", department="14")


def withdraw(app, slug):
    """Another coordinator archives ``slug`` (its own transaction, committed)."""
    with app.app_context():
        archive_actor(db.session, db.session.scalar(select(Actor).where(Actor.slug == slug)))
        db.session.commit()


@pytest.fixture
def withdrawn_after_check(app, monkeypatch):
    """``arm(slug)``: the next form check passes, then ``slug`` is archived before the save."""
    armed = []
    original = ActorForm.check

    def check_then_withdraw(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if armed:
            withdraw(app, armed.pop())
        return result

    monkeypatch.setattr(ActorForm, "check", check_then_withdraw)
    return armed.append


def member(app):
    add_user(app, "membre@example.org")
    client = app.test_client()
    login(client, "membre@example.org")
    return client


def count_actors(app, name):
    with app.app_context():
        return len(db.session.scalars(select(Actor).where(Actor.name == name)).all())


@pytest.mark.parametrize("gone, field, message", [
    ("comite-de-jumelage-de-sesto", "partnerships-0-partners-0-actor_query", "aucune fiche « comite-de-jumelage-de-sesto »"),
    ("horizons-solidaires", "networks-0-network_query", "réseau inconnu « horizons-solidaires »")])
def test_a_members_new_entry_keeps_everything_typed(app, linked, withdrawn_after_check, gone, field, message):
    client = member(app)
    url = "/mon-espace/inscrire"
    page = client.get(url).get_data(as_text=True)
    withdrawn_after_check(gone)
    response = press(client, url, page, "submit", **{**ACTOR_FORM, **PARTNER, **NETWORK})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert message in field_error(page, field)
    for value in ("Association Puits du Sahel", "Comité de jumelage de Sesto", "1998", "Kayes"):
        assert f'value="{value}"' in page, value
    assert count_actors(app, "Association Puits du Sahel") == 0
    # the member removes the row of the withdrawn actor and sends again: saved
    row = "partnerships-0-remove" if gone.startswith("comite") else "networks-0-remove"
    page = press(client, url, page, row).get_data(as_text=True)
    assert press(client, url, page, "submit").status_code == 302
    assert count_actors(app, "Association Puits du Sahel") == 1


def test_a_coordinators_new_entry_keeps_everything_typed(app, linked, coordinator_client, withdrawn_after_check):
    url = "/mon-espace/inscrire"
    page = coordinator_client.get(url).get_data(as_text=True)
    withdrawn_after_check("comite-de-jumelage-de-sesto")
    response = press(coordinator_client, url, page, "submit", **{**ACTOR_FORM, **PARTNER})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert "aucune fiche « comite-de-jumelage-de-sesto »" in field_error(page, "partnerships-0-partners-0-actor_query")
    assert 'value="Association Puits du Sahel"' in page and 'value="Comité de jumelage de Sesto"' in page
    assert count_actors(app, "Association Puits du Sahel") == 0


def test_a_members_edit_of_a_pending_entry_keeps_everything_typed(app, linked, withdrawn_after_check):
    client = member(app)
    assert submit(client, "/mon-espace/inscrire", ACTOR_FORM).status_code == 302
    with app.app_context():
        actor = db.session.scalar(select(Actor).where(Actor.name == "Association Puits du Sahel"))
    url = f"/mon-espace/fiches/{actor.id}/modifier"
    page = client.get(url).get_data(as_text=True)
    page = press(client, url, page, "add_network").get_data(as_text=True)
    withdrawn_after_check("horizons-solidaires")
    response = press(client, url, page, "submit", **{**NETWORK, "description": "Nouvelle description."})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert "réseau inconnu « horizons-solidaires »" in field_error(page, "networks-0-network_query")
    assert "Nouvelle description." in page
    with app.app_context():
        saved = actor_input(db.session.get(Actor, actor.id))
    assert saved.networks == [] and saved.description == "Forages au Mali et au Niger."


def test_a_coordinators_edit_keeps_everything_typed(app, linked, coordinator_client, withdrawn_after_check):
    actor_id = add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93",
                         postcode="93170")
    url = f"/moderation/acteurs/{actor_id}"
    page = coordinator_client.get(url).get_data(as_text=True)
    page = press(coordinator_client, url, page, "add_partnership").get_data(as_text=True)
    withdrawn_after_check("comite-de-jumelage-de-sesto")
    response = press(coordinator_client, url, page, "submit", **{**PARTNER, "phone": "01 43 60 00 00"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert "aucune fiche « comite-de-jumelage-de-sesto »" in field_error(page, "partnerships-0-partners-0-actor_query")
    assert 'value="01 43 60 00 00"' in page and 'value="Comité de jumelage de Sesto"' in page
    with app.app_context():
        saved = db.session.get(Actor, actor_id)
        assert saved.phone != "01 43 60 00 00" and saved.partnership_values == []


def test_approving_a_change_whose_partner_was_withdrawn_changes_nothing(app, linked, coordinator_client):
    client = member(app)
    assert submit(client, "/mon-espace/inscrire", ACTOR_FORM).status_code == 302
    with app.app_context():
        new = db.session.scalar(select(ChangeRequest).where(ChangeRequest.kind == "new"))
    submit(coordinator_client, f"/moderation/demandes/{new.id}/accepter", {}, form_url=f"/moderation/demandes/{new.id}")
    with app.app_context():
        actor = db.session.scalar(select(Actor).where(Actor.name == "Association Puits du Sahel"))
    url = f"/mon-espace/fiches/{actor.id}/modifier"
    page = client.get(url).get_data(as_text=True)
    page = press(client, url, page, "add_partnership").get_data(as_text=True)
    page = press(client, url, page, "add_network").get_data(as_text=True)
    response = press(client, url, page, "submit", **{**PARTNER, **NETWORK, "phone": "02 31 99 99 99"})
    assert response.status_code == 302, text(response)[:2000]
    with app.app_context():
        change = db.session.scalar(select(ChangeRequest).where(ChangeRequest.kind == "change"))
    detail = f"/moderation/demandes/{change.id}"
    page = coordinator_client.get(detail).get_data(as_text=True)
    withdraw(app, "comite-de-jumelage-de-sesto")
    mails = len(outbox(app))
    response = submit(coordinator_client, f"{detail}/accepter", {}, form_url=detail)
    assert response.status_code == 302 and response.headers["Location"].endswith(detail)
    body = text(coordinator_client.get(detail))
    assert "La modification proposée ne peut pas être appliquée" in body
    assert "aucune fiche « comite-de-jumelage-de-sesto »" in body and "Rien n'a été modifié" in body
    with app.app_context():
        assert db.session.get(ChangeRequest, change.id).status == "open"
        saved = db.session.get(Actor, actor.id)
        assert saved.phone == "02 31 12 34 56" and saved.partnership_values == [] and saved.network_values == []
    assert len(outbox(app)) == mails  # no mail to the member
    # refusing it, with a reason, still works
    response = submit(coordinator_client, f"{detail}/refuser", {"reason": "Le comité n'est plus dans l'annuaire."},
                      form_url=detail)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ChangeRequest, change.id).status == "rejected"


def test_a_network_back_before_the_form_is_shown_again_is_still_told(app, linked, monkeypatch):
    """Withdrawn between the check and the save, restored before the form comes back: the member is told
    what the save met (nothing saved), and sending again saves."""
    from repertoire.operations import restore_actor
    calls = []
    original = ActorForm.check

    def check(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the form checked again after the failed save: the network is back
            with app.app_context():
                restore_actor(db.session, db.session.scalar(select(Actor).where(Actor.slug == "horizons-solidaires")))
                db.session.commit()
        result = original(self, *args, **kwargs)
        if len(calls) == 1:
            withdraw(app, "horizons-solidaires")
        return result

    monkeypatch.setattr(ActorForm, "check", check)
    client = member(app)
    url = "/mon-espace/inscrire"
    page = client.get(url).get_data(as_text=True)
    response = press(client, url, page, "submit", **{**ACTOR_FORM, **NETWORK})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert "réseau inconnu « horizons-solidaires »" in text(response)
    assert 'value="Association Puits du Sahel"' in page and count_actors(app, "Association Puits du Sahel") == 0
    assert press(client, url, page, "submit").status_code == 302
    assert count_actors(app, "Association Puits du Sahel") == 1
