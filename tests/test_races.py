"""Races: simultaneous decisions, edits over newer versions, merges against edits.

The decisions are made at once by threads against gunicorn with four workers,
on SQLite or PostgreSQL (``make test-postgres``).
"""
import os
import subprocess
import threading
import time
from contextlib import contextmanager

import requests
from sqlalchemy import select

from conftest import add_user, build_app, database_url, dispose, login
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest, Revision
from test_gunicorn import GUNICORN, free_port
from web import ACTOR_FORM, csrf_token, outbox, submit


@contextmanager
def gunicorn(app, tmp_path, workers=4):
    """The app served by gunicorn on a free port; yields the base URL."""
    port = free_port()
    env = {**os.environ, "REPERTOIRE_DATABASE_URL": database_url(tmp_path),
           "REPERTOIRE_INDEX_DIR": str(tmp_path / "index"), "REPERTOIRE_MAIL_OUTBOX": app.config["MAIL_OUTBOX"],
           "REPERTOIRE_SECRET_KEY": "gunicorn-test-secret-0123456789"}
    server = subprocess.Popen([str(GUNICORN), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level",
                               "warning", "repertoire:create_app()"], env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(base + "/api/actors", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert "Traceback" not in errors, errors[-3000:]


def coordinator_session(base):
    """Cookies and a CSRF token of a logged-in coordinator (coord@example.org)."""
    session = requests.Session()
    token = csrf_token(session.get(base + "/compte/connexion").text)
    response = session.post(base + "/compte/connexion", allow_redirects=False, data={
        "email": "coord@example.org", "password": "mot de passe solide", "csrf_token": token})
    assert response.status_code == 302
    return session.cookies.get_dict(), csrf_token(session.get(base + "/moderation/").text)


def all_at_once(base, cookies, posts):
    """POST each ``(path, data)`` from its own thread, released together; return the responses."""
    barrier = threading.Barrier(len(posts))
    responses = [None] * len(posts)

    def post(i, path, data):
        session = requests.Session()
        session.cookies.update(cookies)
        barrier.wait()
        responses[i] = session.post(base + path, data=data, allow_redirects=False, timeout=60)

    threads = [threading.Thread(target=post, args=(i, path, data)) for i, (path, data) in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def submitted_request(app, member_email, name):
    """A member's new entry waiting for moderation; return the request's id."""
    add_user(app, member_email)
    client = app.test_client()
    login(client, member_email)
    assert submit(client, "/mon-espace/inscrire", {**ACTOR_FORM, "name": name}).status_code == 302
    with app.app_context():
        return db.session.scalar(select(ChangeRequest.id).join(Actor).where(Actor.name == name))


def decisions(app, request_id):
    """(request status, actions recorded on the actor by moderation, mails to the member)."""
    with app.app_context():
        change = db.session.get(ChangeRequest, request_id)
        actions = [r.action for r in db.session.scalars(select(Revision).where(Revision.actor_id == change.actor_id))
                   if r.action in ("publish", "reject")]
        return change.status, actions, change.user.email


def test_ten_simultaneous_approvals_publish_once_and_send_one_mail(tmp_path):
    app = build_app(tmp_path)
    add_user(app, "coord@example.org", role="coordinator")
    request_id = submitted_request(app, "dix@example.org", "Association Dix Fois Acceptée")
    mails_before = len(outbox(app))
    with gunicorn(app, tmp_path) as base:
        cookies, token = coordinator_session(base)
        responses = all_at_once(base, cookies, [(f"/moderation/demandes/{request_id}/accepter",
                                                 {"csrf_token": token})] * 10)
        assert [r.status_code for r in responses] == [302] * 10  # the losers are told, no error page
        winners = [r for r in responses if r.headers["Location"].endswith("/moderation/")]
        assert len(winners) == 1
        loser = next(r for r in responses if r not in winners)
        page = requests.Session()
        page.cookies.update({**cookies, **loser.cookies.get_dict()})  # the message travels in the session
        assert "Cette demande a déjà été traitée." in page.get(base + loser.headers["Location"]).text
    status, actions, email = decisions(app, request_id)
    assert status == "approved" and actions == ["publish"]
    mails = [m for m in outbox(app)[mails_before:] if m["To"] == email]
    assert len(mails) == 1 and "acceptée" in mails[0]["Subject"]
    assert app.test_client().get("/api/actors?q=acceptée").get_json()["total"] == 1
    dispose(app)


def test_approve_and_reject_at_once_make_exactly_one_decision(tmp_path):
    app = build_app(tmp_path)
    add_user(app, "coord@example.org", role="coordinator")
    ids = [submitted_request(app, f"membre{i}@example.org", f"Association Disputée {i}") for i in range(3)]
    mails_before = len(outbox(app))
    with gunicorn(app, tmp_path) as base:
        cookies, token = coordinator_session(base)
        for request_id in ids:
            accept = (f"/moderation/demandes/{request_id}/accepter", {"csrf_token": token})
            refuse = (f"/moderation/demandes/{request_id}/refuser", {"csrf_token": token, "reason": "Incomplète."})
            responses = all_at_once(base, cookies, [accept, refuse] * 3)
            assert [r.status_code for r in responses] == [302] * 6
            assert len([r for r in responses if r.headers["Location"].endswith("/moderation/")]) == 1
    mails = outbox(app)[mails_before:]
    for request_id in ids:
        status, actions, email = decisions(app, request_id)
        assert (status, actions) in (("approved", ["publish"]), ("rejected", ["reject"]))
        assert len([m for m in mails if m["To"] == email]) == 1
    dispose(app)
