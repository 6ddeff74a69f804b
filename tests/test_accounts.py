"""Members' accounts: sign-up with confirmation, log-in, passwords, spam resistance."""
import pytest
from sqlalchemy import func, select

from conftest import add_user, build_app, dispose, login
from repertoire.extensions import db
from repertoire.models import User
from web import last_mail, link_in, outbox, submit, text


def signup(client, email, password="une phrase de passe", **extra):
    return submit(client, "/compte/inscription",
                  {"email": email, "password": password, "confirm": password, **extra})


def users(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_sign_up_confirm_by_mail_then_log_in(app, client):
    response = signup(client, "Asso@Example.org")
    assert response.status_code == 200 and "Consultez votre messagerie" in text(response)
    mail = last_mail(app, "asso@example.org")
    assert "Confirmez votre adresse" in mail["Subject"]
    # not confirmed yet: logging in sends a new link instead
    refused = submit(client, "/compte/connexion", {"email": "asso@example.org", "password": "une phrase de passe"})
    assert refused.status_code == 200 and "Confirmez d'abord votre adresse" in text(refused)
    confirmed = client.get(link_in(mail))
    # the link confirms the address but opens no session (issue 12): the member logs in
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/compte/connexion")
    assert client.get("/mon-espace").status_code == 403
    login(client, "asso@example.org", "une phrase de passe")
    assert "Mon espace" in text(client.get("/mon-espace"))
    submit(client, "/compte/deconnexion", {}, form_url="/mon-espace")
    assert client.get("/mon-espace").status_code == 403
    login(client, "asso@example.org", "une phrase de passe")
    assert client.get("/mon-espace").status_code == 200


def test_sign_up_errors_are_explained_and_nothing_is_created(app, client):
    response = signup(client, "pas-une-adresse", password="court")
    body = text(response)
    assert "Adresse électronique invalide." in body and "Au moins 10 caractères." in body
    assert 'value="pas-une-adresse"' in response.get_data(as_text=True)
    mismatch = submit(client, "/compte/inscription", {"email": "a@example.org", "password": "une phrase de passe",
                                                       "confirm": "autre chose encore"})
    assert "Les deux mots de passe diffèrent." in text(mismatch)
    assert users(app) == 0


def test_no_account_enumeration(app, client):
    add_user(app, "existe@example.org")
    known = text(signup(client, "existe@example.org"))
    unknown = text(signup(client, "nouveau@example.org"))
    assert known.replace("existe@example.org", "X") == unknown.replace("nouveau@example.org", "X")
    assert "Tentative d'inscription" in last_mail(app, "existe@example.org")["Subject"]
    wrong_password = text(submit(client, "/compte/connexion", {"email": "existe@example.org", "password": "mauvais mdp"}))
    no_account = text(submit(client, "/compte/connexion", {"email": "personne@example.org", "password": "mauvais mdp"}))
    assert "Adresse électronique ou mot de passe incorrect." in wrong_password
    assert wrong_password == no_account
    forgot_known = text(submit(client, "/compte/mot-de-passe-oublie", {"email": "existe@example.org"}))
    forgot_unknown = text(submit(client, "/compte/mot-de-passe-oublie", {"email": "personne@example.org"}))
    assert forgot_known.replace("existe@example.org", "X") == forgot_unknown.replace("personne@example.org", "X")


def test_forgotten_password_link_works_once(app, client):
    add_user(app, "oubli@example.org", password="ancien mot de passe")
    submit(client, "/compte/mot-de-passe-oublie", {"email": "oubli@example.org"})
    link = link_in(last_mail(app, "oubli@example.org"))
    changed = submit(client, link, {"password": "nouveau mot de passe", "confirm": "nouveau mot de passe"})
    assert changed.status_code == 302
    submit(client, "/compte/deconnexion", {}, form_url="/mon-espace")
    again = client.get(link)
    assert again.status_code == 302 and "mot-de-passe-oublie" in again.headers["Location"]
    assert submit(client, "/compte/connexion", {"email": "oubli@example.org",
                                                "password": "ancien mot de passe"}).status_code == 200
    login(client, "oubli@example.org", "nouveau mot de passe")


def test_change_password(app, client):
    add_user(app, "change@example.org")
    login(client, "change@example.org")
    wrong = submit(client, "/compte/mot-de-passe", {"current": "pas le bon", "password": "encore un autre mdp",
                                                      "confirm": "encore un autre mdp"})
    assert "Mot de passe actuel incorrect." in text(wrong)
    ok = submit(client, "/compte/mot-de-passe", {"current": "mot de passe solide", "password": "encore un autre mdp",
                                                   "confirm": "encore un autre mdp"})
    assert ok.status_code == 302
    submit(client, "/compte/deconnexion", {}, form_url="/mon-espace")
    login(client, "change@example.org", "encore un autre mdp")


def test_tampered_or_foreign_links_are_refused(app, client):
    signup(client, "lien@example.org")
    link = link_in(last_mail(app, "lien@example.org"))
    assert client.get(link[:-3] + "xyz").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User)).confirmed_at is None


def test_honeypot_creates_nothing(app, client):
    response = signup(client, "robot@example.org", nickname="http://spam.example")
    assert "Consultez votre messagerie" in text(response)  # the robot learns nothing
    assert users(app) == 0 and outbox(app) == []


def test_login_only_redirects_to_local_pages(app, client):
    add_user(app, "next@example.org")
    response = submit(client, "/compte/connexion", {"email": "next@example.org", "password": "mot de passe solide",
                                                    "next": "https://evil.example/"})
    assert response.headers["Location"].endswith("/mon-espace")


def test_missing_csrf_token_is_rejected(app, client):
    response = client.post("/compte/inscription", data={"email": "csrf@example.org", "password": "une phrase de passe",
                                                        "confirm": "une phrase de passe"})
    assert response.status_code == 400 and "formulaire a expiré" in text(response)
    assert users(app) == 0


def test_rate_limits_on_login_and_signup(tmp_path):
    app = build_app(tmp_path, LOGIN_RATE_LIMIT="3 per minute", SIGNUP_RATE_LIMIT="2 per hour")
    client = app.test_client()
    codes = [submit(client, "/compte/connexion", {"email": "x@example.org", "password": "y" * 12}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "Trop de tentatives" in text(submit(client, "/compte/connexion", {"email": "x@example.org",
                                                                             "password": "y" * 12}))
    codes = [signup(client, f"s{i}@example.org").status_code for i in range(3)]
    assert codes == [200, 200, 429]
    assert users(app) == 2
    dispose(app)
