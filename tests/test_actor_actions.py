"""Issue 17, point 4: an actor page's actions — report an error (no account), claim, edit (owner, coordinators)."""
import re

import pytest
from sqlalchemy import select

from conftest import add_actor, add_user, build_app, dispose, login
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest
from web import csrf_token, submit, text


def slug_of(app, actor_id):
    with app.app_context():
        return db.session.get(Actor, actor_id).slug


def reports(app):
    with app.app_context():
        return [(r.kind, r.status, r.message, r.email, r.user_id) for r in
                db.session.scalars(select(ChangeRequest).where(ChangeRequest.kind == "report")
                                   .order_by(ChangeRequest.id))]


def send_report(client, slug, headers=None, **data):
    return submit(client, f"/acteurs/{slug}/signaler", {"message": "Le siège a déménagé à Lisieux.", **data},
                  headers=headers or {})


def test_a_visitor_without_account_reports_an_error_that_coordinators_read_and_close(app, client,
                                                                                     coordinator_client):
    slug = slug_of(app, add_actor(app, name="Amis du Sahel"))
    page = text(client.get(f"/acteurs/{slug}"))
    assert "Signaler une erreur" in page and "Revendiquer cette fiche" in page
    response = send_report(client, slug, email="Lectrice@Example.org")
    assert response.status_code == 302 and response.location.endswith(f"/acteurs/{slug}")
    assert "Votre signalement a été transmis" in text(client.get(response.location))
    assert reports(app) == [("report", "open", "Le siège a déménagé à Lisieux.", "lectrice@example.org", None)]

    queue = text(coordinator_client.get("/moderation/"))
    assert "1 demande en attente" in queue and "Signalement d'erreur" in queue and "lectrice@example.org" in queue
    with app.app_context():
        request_id = db.session.scalar(select(ChangeRequest.id).where(ChangeRequest.kind == "report"))
    detail = coordinator_client.get(f"/moderation/demandes/{request_id}")
    assert detail.status_code == 200
    assert "Le siège a déménagé à Lisieux." in text(detail) and "mailto:lectrice@example.org" in detail.get_data(
        as_text=True)
    # a report is neither approved nor rejected: it is closed, once
    submit(coordinator_client, f"/moderation/demandes/{request_id}/accepter", {},
           form_url=f"/moderation/demandes/{request_id}")
    assert reports(app)[0][1] == "open"
    closed = submit(coordinator_client, f"/moderation/demandes/{request_id}/clore", {},
                    form_url=f"/moderation/demandes/{request_id}")
    assert closed.status_code == 302 and reports(app)[0][1] == "closed"
    assert "Rien à modérer" in text(coordinator_client.get("/moderation/"))
    again = coordinator_client.post(f"/moderation/demandes/{request_id}/clore", data={
        "csrf_token": csrf_token(coordinator_client.get("/moderation/").get_data(as_text=True))},
        follow_redirects=True)
    assert "déjà été traitée" in text(again)


def test_an_anonymous_report_without_email_shows_as_such(app, client, coordinator_client):
    slug = slug_of(app, add_actor(app, name="Amis du Sahel"))
    assert send_report(client, slug).status_code == 302
    assert "visiteur anonyme" in text(coordinator_client.get("/moderation/"))


def test_members_and_anonymous_visitors_cannot_close_a_report(app, client):
    slug = slug_of(app, add_actor(app, name="Amis du Sahel"))
    send_report(client, slug)
    with app.app_context():
        request_id = db.session.scalar(select(ChangeRequest.id))
    token = csrf_token(client.get(f"/acteurs/{slug}/signaler").get_data(as_text=True))
    assert client.post(f"/moderation/demandes/{request_id}/clore", data={"csrf_token": token}).status_code == 403
    add_user(app, "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    token = csrf_token(member.get(f"/acteurs/{slug}/signaler").get_data(as_text=True))
    assert member.post(f"/moderation/demandes/{request_id}/clore", data={"csrf_token": token}).status_code == 403
    assert reports(app)[0][1] == "open"


def test_a_robot_filling_the_honeypot_is_thanked_and_nothing_is_stored(app, client):
    slug = slug_of(app, add_actor(app, name="Amis du Sahel"))
    response = send_report(client, slug, nickname="robot")
    assert response.status_code == 302 and reports(app) == []


@pytest.mark.parametrize("data,message", [
    ({"message": ""}, "Décrivez l'erreur"),
    ({"message": "x" * 2001}, "2000 caractères au plus"),
    ({"email": "pas une adresse"}, "Adresse électronique invalide"),
    ({"email": "a" * 250 + "@example.org"}, "Adresse électronique invalide"),
])
def test_a_report_out_of_bounds_is_refused_with_a_message(app, client, data, message):
    slug = slug_of(app, add_actor(app, name="Amis du Sahel"))
    response = send_report(client, slug, **data)
    assert response.status_code == 200 and message in text(response)
    assert reports(app) == []


def test_a_report_needs_its_csrf_token_and_refuses_nul_bytes(app, client):
    slug = slug_of(app, add_actor(app, name="Amis du Sahel"))
    assert client.post(f"/acteurs/{slug}/signaler", data={"message": "Faux"}).status_code == 400
    assert send_report(client, slug, message="Faux\x00").status_code == 400
    assert reports(app) == []


def test_only_published_actors_can_be_reported(app, client):
    pending = slug_of(app, add_actor(app, name="En attente", status="pending"))
    assert client.get(f"/acteurs/{pending}/signaler").status_code == 404
    assert client.get("/acteurs/nulle-part/signaler").status_code == 404


def test_reports_are_rate_limited(tmp_path):
    app = build_app(tmp_path, REPORT_RATE_LIMIT="2 per hour")
    slug = slug_of(app, add_actor(app, name="Amis du Sahel"))
    client = app.test_client()
    assert [send_report(client, slug).status_code for _ in range(3)] == [302, 302, 429]
    # a forged X-Forwarded-For does not buy a new allowance (no proxy is trusted by default)
    assert send_report(client, slug, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    assert len(reports(app)) == 2
    dispose(app)


# -- « Modifier »: the owner and coordinators, never others ------------------

def owned_actor(app, email="proprietaire@example.org"):
    """A published actor owned by a member (through a claim a coordinator approved)."""
    from repertoire.operations import approve_request, claim_actor
    actor_id = add_actor(app, name="Amis du Sahel")
    user_id = add_user(app, email)
    coordinator_id = add_user(app, "coord-claim@example.org", role="coordinator")
    with app.app_context():
        from repertoire.models import User
        from repertoire.validation import Vocabulary
        actor = db.session.get(Actor, actor_id)
        request = claim_actor(db.session, db.session.get(User, user_id), actor, "Je suis la présidente.")
        db.session.flush()
        approve_request(db.session, request, db.session.get(User, coordinator_id), Vocabulary(db.session))
        db.session.commit()
        return actor_id, actor.slug


def edit_links(response) -> list[str]:
    return re.findall(r'href="([^"]+)">Modifier</a>', response.get_data(as_text=True))


def test_edit_is_offered_to_the_owner_and_coordinators_only(app, client, coordinator_client):
    actor_id, slug = owned_actor(app)
    owner = app.test_client()
    login(owner, "proprietaire@example.org")
    add_user(app, "autre@example.org")
    other = app.test_client()
    login(other, "autre@example.org")

    assert edit_links(owner.get(f"/acteurs/{slug}")) == [f"/mon-espace/fiches/{actor_id}/modifier"]
    assert "Revendiquer cette fiche" not in text(owner.get(f"/acteurs/{slug}"))
    assert edit_links(coordinator_client.get(f"/acteurs/{slug}")) == [f"/moderation/acteurs/{actor_id}"]
    assert edit_links(other.get(f"/acteurs/{slug}")) == []
    assert edit_links(client.get(f"/acteurs/{slug}")) == []

    assert owner.get(f"/mon-espace/fiches/{actor_id}/modifier").status_code == 200
    assert coordinator_client.get(f"/moderation/acteurs/{actor_id}").status_code == 200
    # by URL, the routes refuse everyone else
    assert other.get(f"/mon-espace/fiches/{actor_id}/modifier").status_code == 404
    assert other.get(f"/moderation/acteurs/{actor_id}").status_code == 403
    assert owner.get(f"/moderation/acteurs/{actor_id}").status_code == 403
    assert client.get(f"/mon-espace/fiches/{actor_id}/modifier").status_code == 403
    assert client.get(f"/moderation/acteurs/{actor_id}").status_code == 403
    token = csrf_token(other.get(f"/acteurs/{slug}/signaler").get_data(as_text=True))
    posted = other.post(f"/mon-espace/fiches/{actor_id}/modifier", data={"csrf_token": token, "name": "Piraté"})
    assert posted.status_code == 404
    assert text(client.get(f"/acteurs/{slug}")).count("Piraté") == 0


def test_an_anonymous_claim_goes_through_login_and_comes_back(app, client):
    slug = slug_of(app, add_actor(app, name="Amis du Sahel"))
    add_user(app, "membre@example.org")
    claim_link = f"/acteurs/{slug}/revendiquer"
    assert f'href="{claim_link}"' in client.get(f"/acteurs/{slug}").get_data(as_text=True)
    gate = client.get(claim_link)
    assert gate.status_code == 403 and "Se connecter" in text(gate)
    next_field = re.search(r'name="next" type="hidden" value="([^"]*)"', gate.get_data(as_text=True))
    assert next_field and next_field.group(1).startswith(claim_link)
    response = client.post("/compte/connexion", data={
        "csrf_token": csrf_token(gate.get_data(as_text=True)), "email": "membre@example.org",
        "password": "mot de passe solide", "next": next_field.group(1)})
    assert response.status_code == 302 and response.location.rstrip("?") == claim_link
    sent = submit(client, claim_link, {"message": "Je suis le trésorier."})
    assert sent.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ChangeRequest.kind).where(ChangeRequest.status == "open")) == "claim"
