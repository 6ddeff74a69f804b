"""Fixtures: an app on a temporary database and index, and factories that create
data through the same operations the product uses.

The database is a temporary SQLite file, or, when REPERTOIRE_TEST_POSTGRES_URL
names a PostgreSQL server (``make test-postgres``), a fresh database there.
"""
import os
import uuid

import pytest
from sqlalchemy import create_engine, select, text

from repertoire import create_app
from repertoire.database import upgrade_schema
from repertoire.extensions import db
from repertoire.models import Actor
from repertoire.operations import create_actor, ensure_default_taxonomy, publish_actor
from repertoire.search import get_index
from repertoire.validation import Vocabulary, validate_actor


POSTGRES = os.environ.get("REPERTOIRE_TEST_POSTGRES_URL")


def pytest_addoption(parser):
    parser.addoption("--browser", action="store_true",
                     help="run the browser tests of tests/browser (make test-browser)")


def pytest_ignore_collect(collection_path, config):
    """The browser suite needs Chromium: `make test-browser` runs it, `make test` the rest."""
    if collection_path.name == "browser" and collection_path.parent.name == "tests":
        return not config.getoption("--browser")
    return None


def database_url(tmp_path) -> str:
    """The test database of ``tmp_path`` (the same one each time it is asked for)."""
    marker = tmp_path / "database-url"
    if marker.exists():
        return marker.read_text()
    if POSTGRES:
        name = "t_" + uuid.uuid4().hex[:16]
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = POSTGRES.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    marker.write_text(url)
    return url


def build_app(tmp_path, **extra):
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
        "REPERTOIRE_INDEX_DIR": str(tmp_path / "index"),
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    config.update(extra)
    app = create_app(config, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        upgrade_schema()
        ensure_default_taxonomy(db.session)
        db.session.commit()
        get_index().open()
    return app


def dispose(app, drop=True):
    """Close the app's index and connections; drop its PostgreSQL database unless told not to."""
    with app.app_context():
        get_index().close()
        db.engine.dispose()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if drop and POSTGRES and url.startswith("postgresql"):
        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def app(tmp_path):
    app = build_app(tmp_path)
    yield app
    dispose(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


DEFAULTS = {"kind": "association", "town": "Caen", "postcode": "14000", "department": "14"}


def new_actor(vocab, status="published", **fields):
    """An actor created through validation and operations in the current session (not committed)."""
    data, errors = validate_actor({**DEFAULTS, **fields}, vocab)
    assert not errors, errors
    actor = create_actor(db.session, data, vocab, status="pending")
    if status == "published":
        publish_actor(db.session, actor)
    else:
        actor.status = status
    return actor


def add_actor(app, status="published", **fields):
    """Create an actor through validation and operations, commit, return its id."""
    with app.app_context():
        actor = new_actor(Vocabulary(db.session), status, **fields)
        db.session.commit()
        return actor.id


def add_user(app, email, role="member", password="mot de passe solide"):
    from repertoire.operations import create_user
    with app.app_context():
        user = create_user(db.session, email, password, role)
        db.session.commit()
        return user.id


def login(client, email, password="mot de passe solide"):
    from web import submit
    response = submit(client, "/compte/connexion", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def edit_actor(app, actor_id, **changes):
    """Change some values of an actor through ``update_actor`` and commit; return whether it changed."""
    from repertoire.operations import actor_input, update_actor
    with app.app_context():
        actor = db.session.get(Actor, actor_id)
        data = actor_input(actor)
        for key, value in changes.items():
            setattr(data, key, value)
        changed = update_actor(db.session, actor, data, Vocabulary(db.session))
        db.session.commit()
        return changed


@pytest.fixture
def make_actor(app):
    def make(**fields):
        return add_actor(app, **fields)
    return make


def actor_by_name(app, name):
    with app.app_context():
        return db.session.scalar(select(Actor).where(Actor.name == name))


@pytest.fixture
def coordinator_client(app):
    """A logged-in coordinator (coord@example.org)."""
    add_user(app, "coord@example.org", role="coordinator")
    client = app.test_client()
    login(client, "coord@example.org")
    return client
