"""Issue 17, point 7: legal pages an operator fills in; a member downloads their data and deletes their account."""
import json
import threading

import pytest
from sqlalchemy import select

from conftest import add_actor, add_user, build_app, dispose, login
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest, Revision, User
from web import ACTOR_FORM, csrf_token, submit, text

LEGAL_PAGES = {"/mentions-legales": "Mentions légales", "/confidentialite": "Données personnelles",
               "/accessibilite": "Déclaration d'accessibilité"}


# -- legal pages ---------------------------------------------------------------

def test_every_footer_links_the_three_legal_pages(app, client, coordinator_client):
    slug = None
    with app.app_context():
        slug = db.session.get(Actor, add_actor(app, name="Amis du Sahel")).slug
    pages = [client.get(url) for url in ("/", f"/acteurs/{slug}", "/statistiques", "/compte/connexion",
                                         "/nulle-part", *LEGAL_PAGES)]
    pages += [coordinator_client.get(url) for url in ("/moderation/", "/mon-espace")]
    for page in pages:
        footer = page.get_data(as_text=True).split('<footer class="site-footer">')[1]
        for url in LEGAL_PAGES:
            assert f'href="{url}"' in footer, (page.request.path, url)
    assert "Accessibilité : partiellement conforme" in text(pages[0])


def test_unset_operator_parts_show_a_visible_placeholder(client):
    for url, title in LEGAL_PAGES.items():
        response = client.get(url)
        assert response.status_code == 200 and title in text(response)
        assert '<mark class="placeholder">' in response.get_data(as_text=True)
    notice = text(client.get("/mentions-legales"))
    for name in ("PUBLISHER", "DIRECTOR", "HOST", "CONTACT"):
        assert f"[À compléter par l'exploitant : variable REPERTOIRE_LEGAL_{name}]" in notice
    assert "REPERTOIRE_LEGAL_DPO" in text(client.get("/confidentialite"))


def test_operator_parts_come_from_the_environment(tmp_path, monkeypatch):
    values = {"PUBLISHER": "Réseau Horizons Solidaires, association loi 1901, 14000 Caen",
              "DIRECTOR": "Camille Martin, présidente", "HOST": "Hébergeur Exemple SAS, 59100 Roubaix",
              "CONTACT": "contact@horizons.example.org", "DPO": "dpo@horizons.example.org",
              "LOG_RETENTION": "Six mois", "ACCESSIBILITY_DATE": "1er décembre 2026"}
    for name, value in values.items():
        monkeypatch.setenv(f"REPERTOIRE_LEGAL_{name}", value)
    app = build_app(tmp_path)
    client = app.test_client()
    pages = {url: client.get(url) for url in LEGAL_PAGES}
    for response in pages.values():
        assert '<mark class="placeholder">' not in response.get_data(as_text=True)
    notice = text(pages["/mentions-legales"])
    assert all(values[n] in notice for n in ("PUBLISHER", "DIRECTOR", "HOST", "CONTACT"))
    privacy = text(pages["/confidentialite"])
    assert values["DPO"] in privacy and values["LOG_RETENTION"] in privacy
    assert values["ACCESSIBILITY_DATE"] in text(pages["/accessibilite"])
    dispose(app)


def test_operator_text_is_escaped(tmp_path, monkeypatch):
    monkeypatch.setenv("REPERTOIRE_LEGAL_PUBLISHER", "<script>alert(1)</script>")
    app = build_app(tmp_path)
    page = app.test_client().get("/mentions-legales").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    dispose(app)


def test_privacy_notice_names_what_is_stored_and_the_accessibility_statement_its_axe_results(client):
    privacy = text(client.get("/confidentialite"))
    for stored in ("Compte : adresse électronique", "Session", "Journaux du serveur", "Limites de fréquence",
                   "Demandes aux coordinateurs", "Signalements d'erreur", "Historique des fiches",
                   "téléchargez toutes vos données", "supprimez votre compte"):
        assert stored in privacy, stored
    statement = text(client.get("/accessibilite"))
    assert "RGAA" in statement and "partiellement conforme" in statement
    assert "axe-core" in statement and "aucune erreur grave ou critique" in statement


# -- the member's data -----------------------------------------------------------

def member_with_history(app, email="membre@example.org"):
    """A member who submitted an entry and claimed another (a revision and two requests); logged in."""
    add_user(app, email)
    client = app.test_client()
    login(client, email)
    assert submit(client, "/mon-espace/inscrire", {**ACTOR_FORM, "name": f"Puits {email}",
                                                    "website": f"{email.split('@')[0]}.example.org",
                                                    "email": ""}).status_code == 302
    with app.app_context():
        claimed = db.session.get(Actor, add_actor(app, name=f"Fiche revendiquée par {email}"))
        slug = claimed.slug
    assert submit(client, f"/acteurs/{slug}/revendiquer", {"message": "Je suis la secrétaire."}).status_code == 302
    return client


def download(client):
    response = client.get("/mon-espace/mes-donnees.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    return json.loads(response.get_data(as_text=True))


def test_a_member_downloads_their_account_entries_requests_and_revisions(app):
    client = member_with_history(app)
    member_with_history(app, "voisine@example.org")
    data = download(client)
    assert data["account"]["email"] == "membre@example.org" and data["account"]["role"] == "member"
    assert [e["name"] for e in data["entries"]] == ["Puits membre@example.org"]
    assert data["entries"][0]["status"] == "pending"
    assert sorted(r["kind"] for r in data["requests"]) == ["claim", "new"]
    assert {r["action"] for r in data["revisions"]} == {"submit"}
    assert "voisine" not in json.dumps(data)
    assert "password" not in json.dumps(data) and "scrypt" not in json.dumps(data)


def test_the_download_holds_every_column_of_the_account_but_secrets(app):
    """A column added to accounts must be added to the download (and to the privacy notice)."""
    client = member_with_history(app)
    kept_out = {"id", "password_hash", "session_version"}
    assert set(User.__table__.columns.keys()) - kept_out == set(download(client)["account"])


def test_nobody_downloads_someone_else_s_data(app, client):
    member_with_history(app)
    assert client.get("/mon-espace/mes-donnees.json").status_code == 403  # anonymous: the login page
    other = member_with_history(app, "autre@example.org")
    with app.app_context():
        first_id = db.session.scalar(select(User.id).where(User.email == "membre@example.org"))
    for url in (f"/mon-espace/mes-donnees.json?user_id={first_id}", f"/mon-espace/mes-donnees.json?id={first_id}"):
        assert download_as(other, url)["account"]["email"] == "autre@example.org"


def download_as(client, url):
    return json.loads(client.get(url).get_data(as_text=True))


# -- deleting one's account ----------------------------------------------------

def delete(client, password="mot de passe solide"):
    return submit(client, "/compte/supprimer", {"password": password})


def state(app):
    with app.app_context():
        users = set(db.session.scalars(select(User.email)))
        actors = {a.name: (a.status, a.owner_id) for a in db.session.scalars(select(Actor))}
        requests = sorted((r.kind, r.status, r.user_id) for r in db.session.scalars(select(ChangeRequest)))
        revisions = [(r.user_id, r.data.get("owner_id")) for r in db.session.scalars(select(Revision))]
        return users, actors, requests, revisions


def test_deleting_an_account_keeps_the_entries_without_a_link_to_the_member(app, coordinator_client):
    from repertoire.operations import approve_request
    client = member_with_history(app)
    with app.app_context():  # the claim is approved: the member owns a published entry
        claim = db.session.scalar(select(ChangeRequest).where(ChangeRequest.kind == "claim"))
        coordinator = db.session.scalar(select(User).where(User.role == "coordinator"))
        from repertoire.validation import Vocabulary
        approve_request(db.session, claim, coordinator, Vocabulary(db.session))
        db.session.commit()
        member_id = db.session.scalar(select(User.id).where(User.email == "membre@example.org"))
    other_session = app.test_client()
    login(other_session, "membre@example.org")

    page = client.get("/compte/supprimer")
    assert page.status_code == 200 and "Supprimer définitivement mon compte" in text(page)
    wrong = delete(client, "pas le bon")
    assert wrong.status_code == 200 and "Mot de passe incorrect" in text(wrong)
    assert "membre@example.org" in state(app)[0]
    token = csrf_token(client.get("/compte/supprimer").get_data(as_text=True))
    assert client.post("/compte/supprimer", data={"password": "mot de passe solide"}).status_code == 400  # no CSRF

    response = client.post("/compte/supprimer", data={"password": "mot de passe solide", "csrf_token": token})
    assert response.status_code == 302 and response.location == "/"
    users, actors, requests, revisions = state(app)
    assert "membre@example.org" not in users
    assert actors == {"Puits membre@example.org": ("pending", None),
                      "Fiche revendiquée par membre@example.org": ("published", None)}
    assert requests == [("claim", "approved", None), ("new", "withdrawn", None)]
    assert all(user_id != member_id and owner_id != member_id for user_id, owner_id in revisions)
    # every session ended; the old password opens nothing; a replay of the form does nothing
    assert client.get("/mon-espace").status_code == 403
    assert other_session.get("/mon-espace").status_code == 403
    replay = client.post("/compte/supprimer", data={"password": "mot de passe solide", "csrf_token": token})
    assert replay.status_code in (400, 403) and state(app)[0] == users
    assert submit(app.test_client(), "/compte/connexion", {"email": "membre@example.org",
                                                           "password": "mot de passe solide"}).status_code == 200
    # the back office still shows the history and the requests
    with app.app_context():
        actor_id = db.session.scalar(select(Actor.id).where(Actor.name.startswith("Fiche revendiquée")))
        request_id = db.session.scalar(select(ChangeRequest.id).where(ChangeRequest.kind == "claim"))
    assert coordinator_client.get(f"/moderation/acteurs/{actor_id}/historique").status_code == 200
    detail = coordinator_client.get(f"/moderation/demandes/{request_id}")
    assert detail.status_code == 200 and "compte supprimé" in text(detail)


def test_deleting_an_account_erases_its_address_from_error_reports(app, client):
    with app.app_context():
        slug = db.session.get(Actor, add_actor(app, name="Amis du Sahel")).slug
    submit(client, f"/acteurs/{slug}/signaler", {"message": "Erreur", "email": "membre@example.org"})
    member = member_with_history(app)
    assert [r["kind"] for r in download(member)["requests"]].count("report") == 1
    assert delete(member).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ChangeRequest.email).where(ChangeRequest.kind == "report")) == ""


def test_the_last_admin_cannot_delete_their_account(app):
    add_user(app, "admin@example.org", role="admin")
    admin = app.test_client()
    login(admin, "admin@example.org")
    response = delete(admin)
    assert response.status_code == 302
    assert "dernier administrateur" in text(admin.get(response.location))
    assert "admin@example.org" in state(app)[0]
    add_user(app, "admin2@example.org", role="admin")
    assert delete(admin).status_code == 302 and "admin@example.org" not in state(app)[0]
    second = app.test_client()
    login(second, "admin2@example.org")
    delete(second)
    assert "admin2@example.org" in state(app)[0]


def test_two_last_admins_deleting_themselves_at_once_leave_one(app, monkeypatch):
    """Each waits for the other's lock: the second counts the admins once the first is gone."""
    from repertoire.operations import privacy
    for email in ("a@example.org", "b@example.org"):
        add_user(app, email, role="admin")
    clients = {}
    for email in ("a@example.org", "b@example.org"):
        clients[email] = app.test_client()
        login(clients[email], email)
    tokens = {email: csrf_token(c.get("/compte/supprimer").get_data(as_text=True)) for email, c in clients.items()}
    both_locked = threading.Barrier(2)
    original = privacy._lock_accounts

    def lock_then_wait(session, user):
        found = original(session, user)
        try:  # without the lock both would get here together and both would go on
            both_locked.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass
        return found
    monkeypatch.setattr(privacy, "_lock_accounts", lock_then_wait)
    codes = {}

    def run(email):
        codes[email] = clients[email].post("/compte/supprimer", data={
            "password": "mot de passe solide", "csrf_token": tokens[email]}).status_code
    threads = [threading.Thread(target=run, args=(email,)) for email in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert codes == {"a@example.org": 302, "b@example.org": 302}
    assert len(state(app)[0] & {"a@example.org", "b@example.org"}) == 1
