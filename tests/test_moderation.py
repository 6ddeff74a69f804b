"""Registration of organisations and their moderation, end to end through the test client."""
import re

import pytest
from sqlalchemy import func, select

from conftest import add_actor, add_user, login
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest, Revision
from web import ACTOR_FORM, last_mail, link_in, submit, text


@pytest.fixture
def member(app):
    return add_user(app, "membre@example.org")


@pytest.fixture
def member_client(app, member):
    client = app.test_client()
    login(client, "membre@example.org")
    return client


def api_names(client, query=""):
    return [r["name"] for r in client.get("/api/actors?" + query).get_json()["results"]]


def the_actor(app, name):
    with app.app_context():
        return db.session.scalar(select(Actor).where(Actor.name == name))


def open_requests(app, kind=None):
    with app.app_context():
        query = select(ChangeRequest).where(ChangeRequest.status == "open")
        if kind:
            query = query.where(ChangeRequest.kind == kind)
        return db.session.scalars(query).all()


def decide(client, request_id, approve=True, reason=""):
    url = f"/moderation/demandes/{request_id}/" + ("accepter" if approve else "refuser")
    return submit(client, url, {"reason": reason} if not approve else {},
                  form_url=f"/moderation/demandes/{request_id}")


def test_full_journey_sign_up_to_published(app, client, coordinator_client):
    password = "une phrase de passe"
    submit(client, "/compte/inscription", {"email": "nouvelle@example.org", "password": password, "confirm": password})
    client.get(link_in(last_mail(app, "nouvelle@example.org")))
    login(client, "nouvelle@example.org", password)  # a confirmation link opens no session (issue 12)
    response = submit(client, "/mon-espace/inscrire", ACTOR_FORM)
    assert response.status_code == 302
    assert "Merci ! Votre fiche a été envoyée" in text(client.get("/mon-espace"))
    actor = the_actor(app, "Association Puits du Sahel")
    assert actor.status == "pending"
    # invisible to the public everywhere
    public = app.test_client()
    assert api_names(public, "q=puits") == []
    assert public.get(f"/api/actors/{actor.id}").status_code == 404
    assert public.get(f"/acteurs/{actor.slug}").status_code == 404
    assert "Puits du Sahel" not in public.get("/export.csv").get_data(as_text=True)
    # the coordinator sees it in the queue and approves it
    queue = coordinator_client.get("/moderation/")
    assert "Nouvelle fiche" in text(queue) and "Association Puits du Sahel" in text(queue)
    (request,) = open_requests(app)
    assert decide(coordinator_client, request.id).status_code == 302
    assert api_names(public, "q=puits") == ["Association Puits du Sahel"]
    body = public.get(f"/api/actors/{actor.id}").get_json()
    assert body["countries"] == ["ML", "NE"] and body["website"] == "https://puits-sahel.example.org"
    assert "acceptée" in last_mail(app, "nouvelle@example.org")["Subject"]


def test_validation_errors_are_shown_next_to_fields_and_nothing_typed_is_lost(app, member_client):
    bad = {**ACTOR_FORM, "name": "A", "postcode": "75011", "phone": "12", "countries-0": "Atlantide",
           "countries-1": "", "intervention_towns-0": "", "website": "pas une url"}
    response = submit(member_client, "/mon-espace/inscrire", bad)
    page = response.get_data(as_text=True)
    body = text(response)
    assert response.status_code == 200
    assert "Le formulaire contient 5 erreurs" in body
    assert "Nom — le nom doit compter" in body and "Code postal — le code postal 75011" in body
    assert "le nom doit compter de 2 à 200 caractères" in body
    assert "le code postal 75011 ne correspond pas au département Calvados (14)" in body
    assert "pays inconnu « Atlantide »" in body
    assert "numéro de téléphone invalide" in body and "adresse de site invalide" in body
    assert 'id="name" name="name" type="text" value="A"' in page or 'value="A"' in page
    assert 'value="Atlantide"' in page and 'value="Forages au Mali et au Niger."' not in page
    assert "Forages au Mali et au Niger." in page  # the description kept in its textarea
    assert re.search(r'value="sante"[^>]*checked|checked[^>]*value="sante"', page)
    assert 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Actor)) == 0


def test_a_place_of_intervention_or_a_reason_is_required(app, member_client):
    no_place = {**ACTOR_FORM, "countries-0": "", "countries-1": "", "intervention_towns-0": ""}
    assert "Indiquez au moins un pays ou une ville d'intervention" in text(
        submit(member_client, "/mon-espace/inscrire", no_place))
    reason = {**no_place, "no_intervention": "Nous faisons de l'éducation à la citoyenneté en France."}
    assert submit(member_client, "/mon-espace/inscrire", reason).status_code == 302
    (request,) = open_requests(app)
    assert "éducation à la citoyenneté" in request.message


def test_add_a_country_row_keeps_what_was_typed(app, member_client):
    response = submit(member_client, "/mon-espace/inscrire", {**ACTOR_FORM, "add_country": "1", "submit": ""})
    page = response.get_data(as_text=True)
    assert 'name="countries-3"' in page and 'value="Association Puits du Sahel"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Actor)) == 0


def test_rejection_with_a_reason_then_correction(app, member_client, coordinator_client):
    submit(member_client, "/mon-espace/inscrire", ACTOR_FORM)
    (request,) = open_requests(app)
    no_reason = decide(coordinator_client, request.id, approve=False, reason="")
    assert no_reason.status_code == 400 and "Indiquez la raison du refus" in text(no_reason)
    decide(coordinator_client, request.id, approve=False, reason="Merci de préciser vos partenaires locaux.")
    actor = the_actor(app, "Association Puits du Sahel")
    assert actor.status == "rejected"
    mail = last_mail(app, "membre@example.org")
    assert "refusée" in mail["Subject"] and "préciser vos partenaires" in mail.get_payload(decode=True).decode()
    assert "préciser vos partenaires locaux" in text(member_client.get("/mon-espace"))
    fixed = {**ACTOR_FORM, "description": "Forages avec la commune de Kayes."}
    submit(member_client, f"/mon-espace/fiches/{actor.id}/modifier", fixed)
    assert the_actor(app, "Association Puits du Sahel").status == "pending"
    assert len(open_requests(app, "new")) == 1
    assert api_names(app.test_client(), "q=puits") == []


def test_pending_entry_can_be_edited_by_its_owner(app, member_client):
    submit(member_client, "/mon-espace/inscrire", ACTOR_FORM)
    actor = the_actor(app, "Association Puits du Sahel")
    form = member_client.get(f"/mon-espace/fiches/{actor.id}/modifier").get_data(as_text=True)
    assert 'value="Mali"' in form and 'value="Kayes"' in form
    submit(member_client, f"/mon-espace/fiches/{actor.id}/modifier", {**ACTOR_FORM, "acronym": "PDS"})
    assert the_actor(app, "Association Puits du Sahel").acronym == "PDS"
    assert len(open_requests(app)) == 1


def test_proposed_change_keeps_the_published_version_until_approved(app, member_client, coordinator_client):
    submit(member_client, "/mon-espace/inscrire", ACTOR_FORM)
    (request,) = open_requests(app)
    decide(coordinator_client, request.id)
    actor = the_actor(app, "Association Puits du Sahel")
    changed = {**ACTOR_FORM, "name": "Puits et Santé du Sahel", "countries-1": "Burkina Faso"}
    response = submit(member_client, f"/mon-espace/fiches/{actor.id}/modifier", changed)
    assert response.status_code == 302
    public = app.test_client()
    assert api_names(public, "q=puits") == ["Association Puits du Sahel"]
    assert api_names(public, "country=BF") == []
    (change,) = open_requests(app, "change")
    detail = text(coordinator_client.get(f"/moderation/demandes/{change.id}"))
    assert "Version publiée" in detail and "Puits et Santé du Sahel" in detail and "Burkina Faso" in detail
    # the member sees and can revise their proposal
    form = member_client.get(f"/mon-espace/fiches/{actor.id}/modifier").get_data(as_text=True)
    assert 'value="Puits et Santé du Sahel"' in form
    decide(coordinator_client, change.id)
    assert api_names(public, "q=puits") == ["Puits et Santé du Sahel"]
    assert api_names(public, "country=BF") == ["Puits et Santé du Sahel"]


def test_duplicates_are_shown_before_saving_and_can_be_claimed(app, member_client, coordinator_client):
    # a close name counts in the same commune (issue 15: one generic name in two towns is not a duplicate)
    existing = add_actor(app, name="Association Puits du Sahel", town="Caen", postcode="14200", department="14",
                         countries="ML")
    response = submit(member_client, "/mon-espace/inscrire", ACTOR_FORM)
    body = text(response)
    assert response.status_code == 200 and "figure peut-être déjà dans le répertoire" in body
    assert "nom identique ou proche dans la même commune" in body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Actor)) == 1
    slug = the_actor(app, "Association Puits du Sahel").slug
    claimed = submit(member_client, f"/acteurs/{slug}/revendiquer", {"message": "Je suis le président."})
    assert claimed.status_code == 302
    (claim,) = open_requests(app, "claim")
    assert "Je suis le président." in text(coordinator_client.get(f"/moderation/demandes/{claim.id}"))
    decide(coordinator_client, claim.id)
    assert the_actor(app, "Association Puits du Sahel").owner_id is not None
    assert member_client.get(f"/mon-espace/fiches/{existing}/modifier").status_code == 200
    # creating anyway is possible once the member says it is not a duplicate
    again = submit(member_client, "/mon-espace/inscrire", {**ACTOR_FORM, "not_duplicate": "y"})
    assert again.status_code == 302


def test_forbidden_access_changes_nothing(app, member, member_client, coordinator_client):
    submit(member_client, "/mon-espace/inscrire", ACTOR_FORM)
    actor = the_actor(app, "Association Puits du Sahel")
    (request,) = open_requests(app)
    edit_url = f"/mon-espace/fiches/{actor.id}/modifier"
    # anonymous
    anonymous = app.test_client()
    for url in ("/mon-espace", edit_url, "/mon-espace/inscrire", "/moderation/", f"/moderation/demandes/{request.id}",
                f"/moderation/acteurs/{actor.id}", f"/moderation/acteurs/{actor.id}/historique"):
        assert anonymous.get(url).status_code == 403, url
    token_page = anonymous.get("/compte/connexion").get_data(as_text=True)
    from web import csrf_token
    token = csrf_token(token_page)
    assert anonymous.post(edit_url, data={**ACTOR_FORM, "csrf_token": token}).status_code == 403
    assert anonymous.post(f"/moderation/demandes/{request.id}/accepter", data={"csrf_token": token}).status_code == 403
    # another member
    add_user(app, "autre@example.org")
    other = app.test_client()
    login(other, "autre@example.org")
    assert other.get(edit_url).status_code == 404
    token = csrf_token(other.get("/mon-espace").get_data(as_text=True))
    assert other.post(edit_url, data={**ACTOR_FORM, "name": "Volée", "csrf_token": token}).status_code == 404
    assert "Association Puits du Sahel" not in text(other.get("/mon-espace"))
    # a member on moderation URLs
    for url in ("/moderation/", f"/moderation/demandes/{request.id}", "/moderation/acteurs", "/moderation/comptes"):
        assert member_client.get(url).status_code == 403, url
    token = csrf_token(member_client.get("/mon-espace").get_data(as_text=True))
    assert member_client.post(f"/moderation/demandes/{request.id}/accepter",
                              data={"csrf_token": token}).status_code == 403
    assert member_client.post(f"/moderation/acteurs/{actor.id}/archiver", data={"csrf_token": token}).status_code == 403
    # a coordinator is not an admin
    assert coordinator_client.get("/moderation/comptes").status_code == 403
    # nothing changed
    after = the_actor(app, "Association Puits du Sahel")
    assert after.status == "pending" and after.name == "Association Puits du Sahel"
    assert len(open_requests(app)) == 1


def test_coordinator_edits_archives_restores_and_history_records_everything(app, coordinator_client):
    actor_id = add_actor(app, name="Jumelage Caen–Thiès", countries="SN", domains="culture")
    public = app.test_client()
    edit = {**ACTOR_FORM, "name": "Jumelage Caen–Thiès", "countries-0": "Sénégal", "countries-1": "",
            "intervention_towns-0": "Thiès", "domains": ["culture", "education"]}
    assert submit(coordinator_client, f"/moderation/acteurs/{actor_id}", edit).status_code == 302
    assert api_names(public, "intervention=Thies") == ["Jumelage Caen–Thiès"]
    submit(coordinator_client, f"/moderation/acteurs/{actor_id}/archiver", {}, form_url=f"/moderation/acteurs/{actor_id}")
    assert api_names(public, "q=thies") == []
    assert public.get("/acteurs/jumelage-caen-thies").status_code == 404
    submit(coordinator_client, f"/moderation/acteurs/{actor_id}/restaurer", {}, form_url=f"/moderation/acteurs/{actor_id}")
    assert api_names(public, "q=thies") == ["Jumelage Caen–Thiès"]
    history = coordinator_client.get(f"/moderation/acteurs/{actor_id}/historique")
    body = text(history)
    for label in ("création", "modification", "archivage", "restauration", "coord@example.org"):
        assert label in body, label
    assert "Éducation et formation" in body  # what changed, in words
    with app.app_context():
        first = db.session.scalars(select(Revision).where(Revision.actor_id == actor_id).order_by(Revision.id)).first()
    submit(coordinator_client, f"/moderation/revisions/{first.id}/restaurer", {},
           form_url=f"/moderation/acteurs/{actor_id}/historique")
    assert api_names(public, "intervention=Thies") == []
    assert api_names(public, "domain=culture") == ["Jumelage Caen–Thiès"]
    assert api_names(public, "domain=education") == []


def test_admin_manages_roles(app):
    add_user(app, "admin@example.org", role="admin")
    member_id = add_user(app, "promu@example.org")
    client = app.test_client()
    login(client, "admin@example.org")
    assert "promu@example.org" in text(client.get("/moderation/comptes"))
    submit(client, "/moderation/comptes", {"user_id": member_id, "role": "coordinator"})
    promoted = app.test_client()
    login(promoted, "promu@example.org")
    assert promoted.get("/moderation/").status_code == 200
    submit(client, "/moderation/comptes", {"user_id": member_id, "role": "coordinator", "active": "0"})
    assert promoted.get("/moderation/").status_code == 403  # a closed account is logged out
    refused = submit(app.test_client(), "/compte/connexion", {"email": "promu@example.org",
                                                              "password": "mot de passe solide"})
    assert refused.status_code == 200 and "mot de passe incorrect" in text(refused)
    submit(client, "/moderation/comptes", {"user_id": member_id, "role": "coordinator", "active": "1"})
    login(app.test_client(), "promu@example.org")


def test_submission_rate_limit(tmp_path):
    from conftest import build_app, dispose
    app = build_app(tmp_path, SUBMIT_RATE_LIMIT="2 per hour")
    add_user(app, "rapide@example.org")
    client = app.test_client()
    login(client, "rapide@example.org")
    codes = [submit(client, "/mon-espace/inscrire", {**ACTOR_FORM, "name": f"Association numéro {i}"}).status_code
             for i in range(3)]
    assert codes == [302, 302, 429]
    dispose(app)
