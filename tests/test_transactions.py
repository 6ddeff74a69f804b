"""The unit of work: one commit per request or command, mails only after it; a failed commit sends nothing."""
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError

from conftest import add_actor, add_user, login
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest, utcnow
from web import ACTOR_FORM, csrf_token, outbox, submit


@contextmanager
def commits_fail(app):
    """Every commit of the app's sessions fails, as when the disk is full or the server goes away."""
    with app.app_context():
        session_class = type(db.session())

    def refuse(session):
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
    event.listen(session_class, "before_commit", refuse)
    try:
        yield
    finally:
        event.remove(session_class, "before_commit", refuse)


@contextmanager
def counting_commits(app):
    with app.app_context():
        session_class = type(db.session())
    commits = []

    def count(session):
        commits.append(1)
    event.listen(session_class, "after_commit", count)
    try:
        yield commits
    finally:
        event.remove(session_class, "after_commit", count)


def mails_to(app, address):
    return [m for m in outbox(app) if m["To"] == address]


def open_request_id(app):
    with app.app_context():
        return db.session.scalar(select(ChangeRequest.id).where(ChangeRequest.status == "open"))


def test_a_failed_commit_sends_no_mail_and_changes_nothing(app, coordinator_client):
    add_user(app, "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    submit(member, "/mon-espace/inscrire", ACTOR_FORM)
    request_id = open_request_id(app)
    page = f"/moderation/demandes/{request_id}"
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production: a 500 page
    with commits_fail(app):
        failed = submit(coordinator_client, page + "/accepter", {}, form_url=page)
    assert failed.status_code == 500
    assert mails_to(app, "membre@example.org") == []  # not told about an approval that did not happen
    assert open_request_id(app) == request_id
    token = csrf_token(coordinator_client.get(page).get_data(as_text=True))
    with counting_commits(app) as commits:
        done = coordinator_client.post(page + "/accepter", data={"csrf_token": token})
    assert done.status_code == 302
    assert len(commits) == 1  # request, actor, revision, index log: one transaction
    assert len(mails_to(app, "membre@example.org")) == 1
    assert open_request_id(app) is None


def test_remind_commits_before_it_mails(app, runner):
    owner = add_user(app, "owner@example.org")
    stale = add_actor(app, name="Vieille Fiche")
    with app.app_context():
        db.session.execute(update(Actor).where(Actor.id == stale)
                           .values(owner_id=owner, confirmed_at=utcnow() - timedelta(days=400)))
        db.session.commit()
    with commits_fail(app):
        failed = runner.invoke(args=["remind"])
    assert failed.exit_code != 0
    assert mails_to(app, "owner@example.org") == []  # the reminder was not recorded: it must not have left
    with app.app_context():
        assert db.session.get(Actor, stale).reminded_at is None
    assert runner.invoke(args=["remind"]).exit_code == 0
    assert len(mails_to(app, "owner@example.org")) == 1
    assert runner.invoke(args=["remind"]).exit_code == 0
    assert len(mails_to(app, "owner@example.org")) == 1  # recorded: not sent twice
