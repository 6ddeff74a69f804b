"""Served by gunicorn with 4 workers: concurrent edits over HTTP, none lost, each seen by every worker.

How fast an edit becomes visible is measured by ``bench/search.py``, not asserted here.
"""
import os
from contextlib import contextmanager
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from conftest import add_actor, add_user, build_app, database_url, dispose
from repertoire.extensions import db
from repertoire.models import Actor
from web import csrf_token, version_in

GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app, tmp_path, workers=4, **extra_env):
    """The app served by gunicorn on a free port (``extra_env`` added to its environment); yields the base URL."""
    port = free_port()
    env = {**os.environ, "REPERTOIRE_DATABASE_URL": database_url(tmp_path),
           "REPERTOIRE_INDEX_DIR": str(tmp_path / "index"), "REPERTOIRE_MAIL_OUTBOX": app.config["MAIL_OUTBOX"],
           "REPERTOIRE_SECRET_KEY": "gunicorn-test-secret-0123456789", **extra_env}
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


def test_concurrent_edits_through_four_gunicorn_workers(tmp_path):
    app = build_app(tmp_path)
    ids = [add_actor(app, name=f"Servie {i}", countries="ML", domains="eau", activities="projets") for i in range(8)]
    add_user(app, "coord@example.org", role="coordinator")
    port = free_port()
    env = {**os.environ, "REPERTOIRE_DATABASE_URL": database_url(tmp_path),
           "REPERTOIRE_INDEX_DIR": str(tmp_path / "index"), "REPERTOIRE_SECRET_KEY": "gunicorn-test-secret-0123456789"}
    server = subprocess.Popen([str(GUNICORN), "-w", "4", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                               "repertoire:create_app()"], env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):  # workers start (and compile the catalogue) at their own pace
            try:
                if requests.get(base + "/api/actors", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        problems, delays = [], []

        def editor(worker: int, actor_ids: list[int]):
            session = requests.Session()
            token = csrf_token(session.get(base + "/compte/connexion").text)
            login = session.post(base + "/compte/connexion", allow_redirects=False,
                                 data={"email": "coord@example.org", "password": "mot de passe solide", "csrf_token": token})
            if login.status_code != 302:
                problems.append(f"login {login.status_code}")
                return
            for round in range(4):
                for actor_id in actor_ids:
                    word = f"marqueur{worker}x{round}x{actor_id}"
                    page = session.get(f"{base}/moderation/acteurs/{actor_id}").text
                    token, version = csrf_token(page), version_in(page)
                    name = f"Servie {ids.index(actor_id)}"
                    response = session.post(f"{base}/moderation/acteurs/{actor_id}", allow_redirects=False, data={
                        "csrf_token": token, "version": version, "name": name, "kind": "association", "town": "Caen",
                        "postcode": "14000",
                        "department": "14", "countries-0": "Mali", "domains": "eau", "activities": "projets",
                        "description": f"Description {word}", "submit": "1"})
                    if response.status_code != 302:
                        problems.append(f"edit {actor_id}: {response.status_code}")
                        continue
                    started = time.perf_counter()
                    while requests.get(f"{base}/api/actors", params={"q": word}).json()["total"] != 1:
                        if time.perf_counter() - started > 30:
                            problems.append(f"{word} not visible")
                            break
                    delays.append(time.perf_counter() - started)

        threads = [threading.Thread(target=editor, args=(w, ids[2 * w:2 * w + 2])) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert problems == []
        assert len(delays) == 32  # every edit was seen through the API, whichever worker answered
        with app.app_context():
            final = {a.id: a.description for a in db.session.query(Actor)}
        for w in range(4):
            for actor_id in ids[2 * w:2 * w + 2]:
                assert final[actor_id] == f"Description marqueur{w}x3x{actor_id}"  # the last edit of each won
                found = requests.get(f"{base}/api/actors/{actor_id}").json()
                assert found["description"] == final[actor_id]
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert "LockError" not in errors and "Traceback" not in errors, errors[-2000:]
    assert app.test_cli_runner().invoke(args=["index", "check"]).exit_code == 0
    dispose(app)
