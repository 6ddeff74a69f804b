"""Issue 12 (accounts and sessions): Host header, confirmation links, sessions, secret key,
enumeration by timing, private files. Each test plays the attack and checks what the attacker gets."""
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from conftest import add_actor, add_user, build_app, dispose, login
from repertoire import create_app, operations
from repertoire.extensions import db
from repertoire.models import User
from test_curation import HEADER, upload
from web import csrf_token, last_mail, link_in, outbox, submit, text

BASE = "https://repertoire.example.org"
EVIL = "evil.example.net"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def signup(client, email, password="une phrase de passe"):
    return submit(client, "/compte/inscription", {"email": email, "password": password, "confirm": password})


def user_id(app, email):
    with app.app_context():
        return operations.find_user(db.session, email).id


def local(mail) -> str:
    """The path of the link in ``mail``, to follow it on the test client's host."""
    parts = urlsplit(link_in(mail))
    return parts.path + ("?" + parts.query if parts.query else "")


def copy_cookie(source, target, name):
    cookie = source.get_cookie(name)
    assert cookie is not None, name
    target.set_cookie(name, cookie.value)


# -- 1. links and pages never come from the request's Host -----------------

def test_reset_link_uses_the_base_url_whatever_the_host(tmp_path):
    app = build_app(tmp_path, REPERTOIRE_BASE_URL=BASE, REPERTOIRE_TRUSTED_HOSTS=f"localhost,{EVIL}")
    try:
        add_user(app, "cible@example.org")
        client = app.test_client()
        page = client.get("/compte/mot-de-passe-oublie", headers={"Host": EVIL}).get_data(as_text=True)
        sent = client.post("/compte/mot-de-passe-oublie", headers={"Host": EVIL},
                           data={"email": "cible@example.org", "csrf_token": csrf_token(page)})
        assert sent.status_code == 200
        link = re.search(r"https?://\S+", last_mail(app, "cible@example.org").get_payload(decode=True).decode())[0]
        assert link.startswith(BASE + "/compte/nouveau-mot-de-passe/") and EVIL not in link
        page = client.get("/compte/inscription", headers={"Host": EVIL}).get_data(as_text=True)
        client.post("/compte/inscription", headers={"Host": EVIL},  # the confirmation link too
                    data={"email": "nouveau@example.org", "password": "une phrase de passe",
                          "confirm": "une phrase de passe", "csrf_token": csrf_token(page)})
        body = last_mail(app, "nouveau@example.org").get_payload(decode=True).decode()
        assert BASE + "/compte/confirmer/" in body and EVIL not in body
    finally:
        dispose(app)


def test_an_untrusted_host_gets_400_and_no_mail(app, client):
    add_user(app, "cible@example.org")
    page = client.get("/compte/mot-de-passe-oublie", headers={"Host": EVIL}).get_data(as_text=True)
    assert "csrf_token" not in page  # no form for that host
    forged = client.post("/compte/mot-de-passe-oublie", data={"email": "cible@example.org"}, headers={"Host": EVIL})
    assert forged.status_code == 400 and outbox(app) == []
    for url in ("/", "/api/actors", "/compte/connexion"):
        assert client.get(url, headers={"Host": EVIL}).status_code == 400, url
    assert client.get("/", headers={"Host": "127.0.0.1:5000"}).status_code == 200


def test_production_answers_only_its_own_host(tmp_path, monkeypatch):
    monkeypatch.delenv("REPERTOIRE_TRUSTED_HOSTS", raising=False)
    app = build_app(tmp_path, REPERTOIRE_ENV="production", SECRET_KEY="k" * 32, REPERTOIRE_BASE_URL=BASE)
    try:
        client = app.test_client()
        assert client.get("/", base_url=BASE).status_code == 200
        assert client.get("/").status_code == 400  # localhost is for development only
    finally:
        dispose(app)


def test_page_cache_is_not_poisoned_by_the_host(app, client, make_actor):
    make_actor(name="Eau Vive")
    client.get("/?name=eau", headers={"Host": EVIL})  # an attacker's visit, first in the cache
    page = client.get("/?name=eau").get_data(as_text=True)
    assert "Eau Vive" in page and EVIL not in page and "http://localhost/embed" in page


def test_page_cache_keeps_one_page_per_trusted_host(tmp_path):
    app = build_app(tmp_path, REPERTOIRE_TRUSTED_HOSTS="a.example.org,b.example.org")
    try:
        add_actor(app, name="Eau Vive")
        client = app.test_client()
        first = client.get("/?name=eau", base_url="http://a.example.org").get_data(as_text=True)
        assert "Eau Vive" in first and "http://a.example.org/embed" in first
        other = client.get("/?name=eau", base_url="http://b.example.org").get_data(as_text=True)
        assert "http://b.example.org/embed" in other and "a.example.org" not in other
    finally:
        dispose(app)


# -- 2. a confirmation link confirms, once, and logs nobody in -------------

def test_a_replayed_confirmation_link_opens_no_session(app, client):
    signup(client, "asso@example.org")
    link = local(last_mail(app, "asso@example.org"))
    assert client.get(link).status_code == 302
    with app.app_context():
        assert operations.find_user(db.session, "asso@example.org").confirmed_at is not None
    assert client.get("/mon-espace").status_code == 403  # confirmed, not logged in
    thief = app.test_client()  # someone who found the link in a log or a forwarded mail
    replay = thief.get(link)
    assert replay.status_code == 302 and replay.headers["Location"].endswith("/compte/connexion")
    assert "invalide ou a expiré" in text(thief.get("/compte/connexion"))
    assert thief.get("/mon-espace").status_code == 403


def test_a_confirmation_link_never_switches_the_logged_in_account(app, client):
    signup(app.test_client(), "victime@example.org")
    link = local(last_mail(app, "victime@example.org"))
    add_user(app, "membre@example.org")
    login(client, "membre@example.org")
    assert client.get(link).status_code == 302
    assert "Connecté en tant que membre@example.org" in text(client.get("/mon-espace"))
    with app.app_context():
        assert operations.find_user(db.session, "victime@example.org").confirmed_at is not None


def test_a_confirmation_link_forged_with_the_old_default_key_confirms_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("REPERTOIRE_SECRET_KEY", raising=False)
    app = build_app(tmp_path, SECRET_KEY=None)  # no key configured, as after `make run`
    try:
        client = app.test_client()
        signup(client, "asso@example.org")
        uid = user_id(app, "asso@example.org")
        from itsdangerous import URLSafeTimedSerializer
        forged = URLSafeTimedSerializer("dev-only-change-me", salt="confirm-email").dumps(
            {"uid": uid, "email": "asso@example.org"})
        client.get(f"/compte/confirmer/{forged}")
        with app.app_context():
            assert db.session.get(User, uid).confirmed_at is None
    finally:
        dispose(app)


# -- 3. logout and password changes end sessions ---------------------------

def test_a_copied_session_cookie_dies_at_logout(app, client):
    add_user(app, "membre@example.org")
    login(client, "membre@example.org")
    copy = app.test_client()
    copy_cookie(client, copy, "session")
    assert copy.get("/mon-espace").status_code == 200
    submit(client, "/compte/deconnexion", {}, form_url="/mon-espace")
    assert client.get("/mon-espace").status_code == 403
    assert copy.get("/mon-espace").status_code == 403


def test_a_copied_remember_cookie_dies_at_logout(app, client):
    add_user(app, "membre@example.org")
    submit(client, "/compte/connexion", {"email": "membre@example.org", "password": "mot de passe solide",
                                         "remember": "y"})
    stolen = app.test_client()
    copy_cookie(client, stolen, "remember_token")
    assert stolen.get("/mon-espace").status_code == 200  # the cookie alone opens a session
    submit(client, "/compte/deconnexion", {}, form_url="/mon-espace")
    thief = app.test_client()
    copy_cookie(stolen, thief, "remember_token")
    assert thief.get("/mon-espace").status_code == 403
    assert stolen.get("/mon-espace").status_code == 403


def test_a_password_change_ends_every_other_session(app, client):
    add_user(app, "membre@example.org")
    login(client, "membre@example.org")
    other = app.test_client()
    submit(other, "/compte/connexion", {"email": "membre@example.org", "password": "mot de passe solide",
                                        "remember": "y"})
    remember_only = app.test_client()
    copy_cookie(other, remember_only, "remember_token")
    changed = submit(client, "/compte/mot-de-passe", {"current": "mot de passe solide",
                                                       "password": "un tout autre mot", "confirm": "un tout autre mot"})
    assert changed.status_code == 302
    assert client.get("/mon-espace").status_code == 200  # the session that changed it goes on
    assert other.get("/mon-espace").status_code == 403
    assert remember_only.get("/mon-espace").status_code == 403


def test_a_password_reset_ends_the_sessions_of_the_account(app, client):
    add_user(app, "membre@example.org")
    attacker = app.test_client()
    login(attacker, "membre@example.org")
    submit(client, "/compte/mot-de-passe-oublie", {"email": "membre@example.org"})
    link = local(last_mail(app, "membre@example.org"))
    done = submit(client, link, {"password": "un tout autre mot", "confirm": "un tout autre mot"})
    assert done.status_code == 302
    assert client.get("/mon-espace").status_code == 200
    assert attacker.get("/mon-espace").status_code == 403


def test_session_ids_of_another_version_or_hostile_are_refused(app):
    """Cookies signed with the instance's own key (as after an upgrade, or a key that leaked once)."""
    uid = add_user(app, "membre@example.org")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    refused = [str(uid), f"{uid}:1", f"{uid}:", f"{uid}:²", "9" * 40 + ":0", f"{uid}:" + "9" * 5000, "", "x:0"]
    for claimed, status in [(f"{uid}:0", 200), *((c, 403) for c in refused)]:
        client = app.test_client()
        client.set_cookie("session", serializer.dumps({"_user_id": claimed, "_fresh": True}))
        assert client.get("/mon-espace").status_code == status, claimed[:20]


def test_two_password_changes_at_once_each_end_the_other_sessions(app):
    """The version is raised in SQL (version + 1): two changes never write the same version."""
    add_user(app, "membre@example.org")
    with app.app_context():
        first = db.session.get(User, user_id(app, "membre@example.org"))
        before = first.session_version
        with db.engine.connect() as connection:  # another request raised it meanwhile
            connection.execute(User.__table__.update().values(session_version=User.session_version + 1))
            connection.commit()
        operations.set_password(db.session, first, "un tout autre mot")
        db.session.commit()
        assert first.session_version == before + 2


# -- 4. no public default secret -------------------------------------------

def test_a_random_secret_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("REPERTOIRE_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                "REPERTOIRE_INDEX_DIR": str(tmp_path / "index")}
    app = create_app(dict(settings), instance_path=str(instance))
    key = app.config["SECRET_KEY"]
    assert key != "dev-only-change-me" and len(key) >= 32
    assert mode(instance / "secret_key") == 0o600 and mode(instance) == 0o700
    assert create_app(dict(settings), instance_path=str(instance)).config["SECRET_KEY"] == key  # kept
    assert create_app(dict(settings), instance_path=str(tmp_path / "other")).config["SECRET_KEY"] != key


def test_an_admin_session_cannot_be_forged_with_the_old_default_key(tmp_path, monkeypatch):
    monkeypatch.delenv("REPERTOIRE_SECRET_KEY", raising=False)
    app = build_app(tmp_path, SECRET_KEY=None)
    try:
        uid = add_user(app, "admin@example.org", role="admin")
        forger = Flask("forger")
        forger.secret_key = "dev-only-change-me"
        serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
        for claimed in (str(uid), f"{uid}:0"):
            client = app.test_client()
            client.set_cookie("session", serializer.dumps({"_user_id": claimed, "_fresh": True}))
            assert client.get("/moderation/comptes").status_code == 403, claimed
    finally:
        dispose(app)


def test_processes_starting_together_agree_on_one_key(tmp_path):
    script = ("import sys; from repertoire.config import generated_secret; "
              "print(generated_secret(sys.argv[1]))")
    processes = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "instance")],
                                  stdout=subprocess.PIPE, text=True) for _ in range(4)]
    keys = {p.communicate()[0].strip() for p in processes}
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert sorted(os.listdir(tmp_path / "instance")) == ["secret_key"]  # no temporary file left


def test_production_still_refuses_to_start_without_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv("REPERTOIRE_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="REPERTOIRE_SECRET_KEY"):
        create_app({"REPERTOIRE_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"},
                   instance_path=str(tmp_path / "instance"))
    assert not (tmp_path / "instance" / "secret_key").exists()


# -- 5. the same work whether the address exists or not --------------------

@pytest.fixture
def hashes(monkeypatch):
    """Count password hashings and checks (each costs the same: one key derivation)."""
    calls = []
    for name in ("generate_password_hash", "check_password_hash"):
        real = getattr(operations.accounts, name)

        def counted(*args, _real=real, **kwargs):
            calls.append(1)
            return _real(*args, **kwargs)
        monkeypatch.setattr(operations.accounts, name, counted)
    operations.dummy_password_check("warm up")  # the dummy hash is made once a process
    calls.clear()

    def count(action):
        calls.clear()
        action()
        return len(calls)
    return count


def close_account(app, email):
    with app.app_context():
        operations.find_user(db.session, email).active = False
        db.session.commit()


def test_login_does_the_same_work_for_any_address(app, client, hashes):
    add_user(app, "existe@example.org")
    add_user(app, "ferme@example.org")
    close_account(app, "ferme@example.org")

    def attempt(email):
        return lambda: submit(client, "/compte/connexion", {"email": email, "password": "mauvais mot de passe"})
    costs = {email: hashes(attempt(email)) for email in ("existe@example.org", "inconnu@example.org",
                                                         "ferme@example.org")}
    assert set(costs.values()) == {1}, costs


def test_sign_up_does_the_same_work_for_any_address(app, client, hashes):
    add_user(app, "existe@example.org")
    add_user(app, "ferme@example.org")
    close_account(app, "ferme@example.org")
    costs = {email: hashes(lambda email=email: signup(app.test_client(), email))
             for email in ("existe@example.org", "nouveau@example.org", "ferme@example.org")}
    assert set(costs.values()) == {1}, costs


class HeldSMTPServer:
    """An SMTP server that answers only once released; it records the messages it receives."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.release = threading.Event()
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.socket.settimeout(30)
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.release.wait(30)
            with connection, connection.makefile("rb") as lines:
                connection.sendall(b"220 test\r\n")
                data = None
                for line in lines:
                    if data is not None:
                        if line == b".\r\n":
                            self.received.append(b"".join(data))
                            data = None
                            connection.sendall(b"250 ok\r\n")
                        else:
                            data.append(line)
                    elif line.upper().startswith(b"DATA"):
                        data = []
                        connection.sendall(b"354 go\r\n")
                    elif line.upper().startswith(b"QUIT"):
                        connection.sendall(b"221 bye\r\n")
                        break
                    else:
                        connection.sendall(b"250 ok\r\n")


def test_a_reset_request_answers_before_the_mail_is_sent(tmp_path):
    """Whether a mail leaves does not hold the answer: the SMTP server is held until the page is back."""
    smtp = HeldSMTPServer()
    app = build_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_USE_TLS=False,
                    REPERTOIRE_BASE_URL=BASE)
    try:
        add_user(app, "existe@example.org")
        client = app.test_client()
        answers = {}
        for email in ("existe@example.org", "inconnu@example.org"):
            answers[email] = submit(client, "/compte/mot-de-passe-oublie", {"email": email})
        assert {r.status_code for r in answers.values()} == {200} and smtp.received == []
        smtp.release.set()
        for _ in range(200):
            if smtp.received:
                break
            time.sleep(0.05)
        assert len(smtp.received) == 1
        assert b"To: existe@example.org" in smtp.received[0] and BASE.encode() in smtp.received[0]
    finally:
        smtp.release.set()
        smtp.socket.close()
        dispose(app)


# -- 6. files that hold secrets are private --------------------------------

def test_outbox_files_are_private(app, client):
    submit(client, "/compte/mot-de-passe-oublie", {"email": "x@example.org"})
    add_user(app, "membre@example.org")
    submit(client, "/compte/mot-de-passe-oublie", {"email": "membre@example.org"})
    folder = Path(app.config["MAIL_OUTBOX"])
    files = list(folder.glob("*.eml"))
    assert files and mode(folder) == 0o700 and {mode(f) for f in files} == {0o600}


def test_backups_are_private(app, runner, tmp_path):
    add_user(app, "membre@example.org")
    assert runner.invoke(args=["backup", str(tmp_path / "b"), "--with-passwords"]).exit_code == 0
    folder = next((tmp_path / "b").iterdir())
    paths = [folder, *folder.rglob("*")]
    assert {mode(p) for p in paths if p.is_dir()} == {0o700}
    assert {mode(p) for p in paths if p.is_file()} == {0o600}


def test_unconfirmed_uploads_are_private_then_deleted(app, coordinator_client):
    good = HEADER + "\nNouvelle Asso,,association,Caen,14000,14,ML,,eau,,,,,\n"
    report = upload(coordinator_client, good)
    token = re.search(r'action="/moderation/import/([^"]+)"', report.get_data(as_text=True))[1]
    folder = Path(app.instance_path) / "uploads"
    path = folder / token
    assert mode(folder) == 0o700 and mode(path) == 0o600
    fresh = upload(coordinator_client, good)  # a second upload keeps the first while it is young
    assert path.exists() and fresh.status_code == 200
    old = time.time() - app.config["UPLOAD_MAX_AGE"] - 60
    os.utime(path, (old, old))
    coordinator_client.get("/moderation/import")
    assert not path.exists()
    late = submit(coordinator_client, f"/moderation/import/{token}", {}, form_url="/moderation/import")
    assert late.status_code == 302
    assert "plus disponible" in text(coordinator_client.get("/moderation/import"))
