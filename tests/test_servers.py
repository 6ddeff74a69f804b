"""Several servers on one database, each with its own index following the change log."""
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session

from conftest import POSTGRES, add_actor, add_user, build_app, database_url, dispose, edit_actor
from repertoire.extensions import db
from repertoire.models import Actor, IndexLog, IndexPosition, utcnow
from repertoire.search import get_index, outbox
from test_gunicorn import free_port
from web import csrf_token, version_in

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server: make test-postgres's, or, in CI (CI=true), one started here; else skip."""
    if POSTGRES:
        yield POSTGRES
        return
    if os.environ.get("CI") != "true":
        pytest.skip("needs PostgreSQL (make test-postgres)")
    port = str(free_port())
    env = {**os.environ, "REPERTOIRE_PG_PORT": port, "REPERTOIRE_PG_DIR": f"/tmp/repertoire-pg-servers-{port}"}
    started = subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), "start"], env=env, capture_output=True,
                             text=True)
    assert started.returncode == 0, started.stderr  # CI must run these tests, never skip them
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), "stop"], env=env)
        shutil.rmtree(env["REPERTOIRE_PG_DIR"], ignore_errors=True)


def on_postgres(tmp_path, server_url: str):
    """Make ``tmp_path``'s test database a new database on ``server_url`` (read by conftest.database_url)."""
    if server_url == POSTGRES:
        return database_url(tmp_path)
    name = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "database-url").write_text(server_url.rsplit("/", 1)[0] + "/" + name)
    return database_url(tmp_path)


def found(client, word) -> int:
    return client.get("/api/actors", query_string={"q": word}).get_json()["total"]


def test_an_index_follows_changes_made_through_another_server(tmp_path):
    a = build_app(tmp_path)
    b = build_app(tmp_path, REPERTOIRE_INDEX_DIR=str(tmp_path / "index-b"), REPERTOIRE_INDEX_CHECK_EVERY=0)
    actor = add_actor(a, name="Puits de Kayes")
    assert found(b.test_client(), "kayes") == 1
    edit_actor(a, actor, description="Forage marqueurun")  # applied to a's index at the commit
    assert found(b.test_client(), "marqueurun") == 1  # b's next request applies the log's tail
    with b.app_context():
        assert get_index().applied_position()[0] == a.extensions["repertoire.index"].applied_position()[0]
    dispose(b, drop=False)
    dispose(a)


@pytest.mark.parametrize("caught_up_by", ["index sync", "a request"])
def test_pruning_keeps_the_rows_a_live_index_needs_and_a_gap_rebuilds(tmp_path, caught_up_by):
    a = build_app(tmp_path)
    b = build_app(tmp_path, REPERTOIRE_INDEX_DIR=str(tmp_path / "index-b"), REPERTOIRE_INDEX_CHECK_EVERY=0)
    actor = add_actor(a, name="Puits de Kayes")
    assert found(b.test_client(), "kayes") == 1
    with b.app_context():
        outbox.heartbeat(get_index(), get_index().applied_position()[0], force=True)
        generation = get_index().generation()
    edit_actor(a, actor, description="Forage marqueurdeux")
    with a.app_context():
        _age_log()
        outbox.heartbeat(get_index(), get_index().applied_position()[0], force=True)  # prunes what b has applied
        assert db.session.scalar(select(IndexLog.id).where(IndexLog.actor_id == actor).order_by(IndexLog.id.desc()))
    assert found(b.test_client(), "marqueurdeux") == 1  # the row b needed was kept: no rebuild
    with b.app_context():
        assert get_index().generation() == generation
        outbox.heartbeat(get_index(), get_index().applied_position()[0], force=True)
        # b stops for longer than LIVE_FOR: its position no longer holds the log back
        db.session.execute(update(IndexPosition).where(IndexPosition.name == outbox.index_name(get_index()))
                           .values(seen_at=utcnow() - outbox.LIVE_FOR - timedelta(hours=1)))
        db.session.commit()
    edit_actor(a, actor, description="Forage marqueurtrois")
    edit_actor(a, actor, description="Forage marqueurquatre")
    with a.app_context():
        _age_log()
        outbox.heartbeat(get_index(), get_index().applied_position()[0], force=True)
        assert db.session.scalar(select(IndexLog.id)) is None  # all pruned: b's rows are gone
    client = b.test_client()
    if caught_up_by == "index sync":
        result = b.test_cli_runner().invoke(args=["index", "sync"])
        assert result.exit_code == 0 and "1 modification" in result.output  # the gap is seen: rebuilt from the database
    else:
        deadline = time.monotonic() + 60
        while found(client, "marqueurquatre") != 1:  # the gap is seen: rebuilt in the background
            assert time.monotonic() < deadline
            time.sleep(0.05)
    with b.app_context():
        assert get_index().generation() != generation
    assert found(client, "marqueurquatre") == 1 and found(client, "marqueurdeux") == 0
    assert b.test_cli_runner().invoke(args=["index", "check"]).exit_code == 0
    dispose(b, drop=False)
    dispose(a)


def _age_log():
    """Make every log row older than the young ones pruning always keeps."""
    db.session.execute(update(IndexLog).values(created_at=utcnow() - outbox.KEEP_FOR - timedelta(hours=1)))
    db.session.commit()


def test_log_ids_follow_commit_order_across_overlapping_transactions(tmp_path, postgres):
    """A transaction that wrote its log rows but has not committed yet holds back the next ones.

    Otherwise the later one could commit a higher id, be applied, and the
    earlier id, committed afterwards, would lie below the index's position for ever.
    """
    on_postgres(tmp_path, postgres)
    app = build_app(tmp_path)
    first, second = add_actor(app, name="Puits de Kayes"), add_actor(app, name="Jardins de Mopti")
    with app.app_context():
        early, late = Session(db.engine), Session(db.engine)
        early.get(Actor, first).description = "Forage marqueurlent"
        early.flush()
        outbox._write_log(early)  # what its commit does first: its log rows are written, the commit not yet
        late.get(Actor, second).description = "Potager marqueurvif"
        late.flush()

        def commit_late():
            with app.app_context():
                late.commit()  # applied to the index at once: the position passes its row

        thread = threading.Thread(target=commit_late)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive()  # waits for the earlier transaction's commit
        early.commit()
        thread.join(30)
        rows = dict(db.session.execute(select(IndexLog.actor_id, IndexLog.id).where(IndexLog.op == "upsert")).all())
        assert rows[first] < rows[second]
        early.close(), late.close()
    client = app.test_client()
    assert found(client, "marqueurvif") == 1 and found(client, "marqueurlent") == 1
    assert app.test_cli_runner().invoke(args=["index", "check"]).exit_code == 0
    dispose(app)


def _serve(port, index_dir, env):
    return subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                             "repertoire:create_app()"], env={**env, "REPERTOIRE_INDEX_DIR": str(index_dir)},
                            stderr=subprocess.PIPE, text=True)


def _wait_up(base):
    for _ in range(300):
        try:
            if requests.get(base + "/api/actors", timeout=30).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} never answered")


def _visible(base, word, deadline) -> float:
    """Seconds until ``word`` is found through ``base``, polling up to ``deadline`` seconds."""
    started = time.perf_counter()
    while requests.get(base + "/api/actors", params={"q": word}, timeout=30).json()["total"] != 1:
        assert time.perf_counter() - started < deadline, f"{word} not found through {base}"
        time.sleep(0.02)
    return time.perf_counter() - started


def _stop(server):
    server.terminate()
    _, errors = server.communicate(timeout=30)
    assert "Traceback" not in errors and "LockError" not in errors, errors[-2000:]


def test_two_gunicorn_servers_on_one_postgresql(tmp_path, postgres):
    on_postgres(tmp_path, postgres)
    app = build_app(tmp_path)
    ids = [add_actor(app, name=f"Servie {i}", countries="ML", domains="eau", activities="projets") for i in range(3)]
    add_user(app, "coord@example.org", role="coordinator")
    env = {**os.environ, "REPERTOIRE_DATABASE_URL": database_url(tmp_path),
           "REPERTOIRE_SECRET_KEY": "two-servers-test-secret-0123456789"}
    index_a, index_b = tmp_path / "index", tmp_path / "index-b"
    assert subprocess.run([str(BIN / "repertoire"), "init"], env={**env, "REPERTOIRE_INDEX_DIR": str(index_b)},
                          capture_output=True).returncode == 0
    port_a, port_b = free_port(), free_port()
    base_a, base_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    server_a, server_b = _serve(port_a, index_a, env), _serve(port_b, index_b, env)
    try:
        _wait_up(base_a), _wait_up(base_b)
        editor = requests.Session()
        token = csrf_token(editor.get(base_a + "/compte/connexion").text)
        assert editor.post(base_a + "/compte/connexion", allow_redirects=False, data={
            "email": "coord@example.org", "password": "mot de passe solide", "csrf_token": token}).status_code == 302

        def edit(actor_id, word):
            page = editor.get(f"{base_a}/moderation/acteurs/{actor_id}").text
            response = editor.post(f"{base_a}/moderation/acteurs/{actor_id}", allow_redirects=False, data={
                "csrf_token": csrf_token(page), "version": version_in(page), "name": f"Servie {ids.index(actor_id)}", "kind": "association",
                "town": "Caen", "postcode": "14000", "department": "14", "countries-0": "Mali", "domains": "eau",
                "activities": "projets", "description": f"Description {word}", "submit": "1"})
            assert response.status_code == 302

        latencies = []
        for round in range(5):
            word = f"croise{round}"
            edit(ids[round % 3], word)
            latencies.append(_visible(base_b, word, deadline=5.0))  # the issue: within one second; CI margin
        print(f"\nedit via A -> found via B: {', '.join(f'{s * 1000:.0f} ms' for s in latencies)}")

        _stop(server_b)
        for round in range(3):
            edit(ids[round], f"absent{round}")
        check = subprocess.run([str(BIN / "repertoire"), "index", "check"], capture_output=True, text=True,
                               env={**env, "REPERTOIRE_INDEX_DIR": str(index_b)})
        assert check.returncode == 1 and "tâches d'indexation en attente : 3" in check.stdout  # b's index, behind
        assert subprocess.run([str(BIN / "repertoire"), "index", "check"], capture_output=True,
                              env={**env, "REPERTOIRE_INDEX_DIR": str(index_a)}).returncode == 0

        started = time.perf_counter()
        server_b = _serve(port_b, index_b, env)
        _wait_up(base_b)  # its first request applies what it missed
        up = time.perf_counter()
        for round in range(3):
            _visible(base_b, f"absent{round}", deadline=30.0)
        print(f"B restarted: answering after {up - started:.2f} s, caught up {time.perf_counter() - up:.3f} s later")
        check = subprocess.run([str(BIN / "repertoire"), "index", "check"], capture_output=True, text=True,
                               env={**env, "REPERTOIRE_INDEX_DIR": str(index_b)})
        assert check.returncode == 0, check.stdout
        assert requests.get(base_b + "/api/actors", params={"q": "croise4"}).json()["total"] == 0  # edited since
    finally:
        for server in (server_a, server_b):
            if server.poll() is None:
                _stop(server)
    dispose(app)


DIE_BEFORE_TOC = """
import os, signal
from repertoire import create_app
from repertoire.search.whoosh import bulk
original = bulk.SegmentWriter._commit_toc
def die(writer, segments):
    os.kill(os.getpid(), signal.SIGKILL)  # the new position file is written, the new segment list not
bulk.SegmentWriter._commit_toc = die
create_app().test_cli_runner().invoke(args=["index", "sync"])
"""


def test_killed_between_position_and_segments_keeps_the_old_position(tmp_path):
    a = build_app(tmp_path)
    actor = add_actor(a, name="Puits de Kayes")
    b = build_app(tmp_path, REPERTOIRE_INDEX_DIR=str(tmp_path / "index-b"))
    with b.app_context():
        assert outbox.apply_pending() == 1
        before = get_index().applied_position()
    edit_actor(a, actor, description="Forage marqueurcinq")
    done = subprocess.run([sys.executable, "-c", DIE_BEFORE_TOC], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "REPERTOIRE_DATABASE_URL": database_url(tmp_path),
                               "REPERTOIRE_INDEX_DIR": str(tmp_path / "index-b")})
    assert done.returncode == -9, done.stderr[-2000:]
    with b.app_context():
        assert get_index().applied_position() == before  # what the index holds, not what was about to be
    runner = b.test_cli_runner()
    assert runner.invoke(args=["index", "check"]).exit_code == 1
    assert runner.invoke(args=["index", "sync"]).exit_code == 0
    assert runner.invoke(args=["index", "check"]).exit_code == 0
    assert found(b.test_client(), "marqueurcinq") == 1
    dispose(b, drop=False)
    dispose(a)
