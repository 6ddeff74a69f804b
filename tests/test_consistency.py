"""Database and index never drift: outbox, sync and check, faults, several processes."""
import re
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from sqlalchemy import func, select, update

from conftest import add_actor, build_app, database_url, dispose, edit_actor
from repertoire.extensions import db
from repertoire.models import Actor, IndexLog
from repertoire.search import outbox

HEADER = "name,acronym,kind,town,postcode,department,countries,intervention_towns,domains,activities,description,website,email,phone"


def names(client, query="per_page=100"):
    return sorted(r["name"] for r in client.get("/api/actors?" + query).get_json()["results"])


def child_env(tmp_path):
    return {**os.environ, "REPERTOIRE_DATABASE_URL": database_url(tmp_path),
            "REPERTOIRE_INDEX_DIR": str(tmp_path / "index")}


def run_child(tmp_path, code: str, expect_killed=False):
    """Run ``code`` in a fresh Python process on the test's database and index."""
    env = child_env(tmp_path)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=120)
    if expect_killed:
        assert done.returncode == -9, done.stderr[-2000:]
    else:
        assert done.returncode == 0, done.stderr[-2000:]
    return done


DIE_DURING_INDEX_WRITES = """
import os, signal
from repertoire import create_app
from repertoire.search.whoosh.store import WhooshChanges
done = [0]
def one_by_one(name):
    original = getattr(WhooshChanges, name)
    def each_then_die(changes, items, *rest):
        for item in items:
            if done[0] == {after}:
                os.kill(os.getpid(), signal.SIGKILL)  # as a power cut would
            done[0] += 1
            original(changes, [item], *rest)
    setattr(WhooshChanges, name, each_then_die)
for name in ("add", "upsert", "delete"):
    one_by_one(name)
create_app().test_cli_runner().invoke(args={args!r})
"""


DIE_WHILE_BUILDING = """
import os, signal
from repertoire import create_app
from repertoire.search import documents
original = documents.index_document
built = []
def index_then_die(actor, labels):
    if len(built) == {after}:
        os.kill(os.getpid(), signal.SIGKILL)
    built.append(actor.id)
    return original(actor, labels)
documents.index_document = index_then_die
create_app().test_cli_runner().invoke(args={args!r})
"""


def write_csv(tmp_path, n, prefix="Acteur"):
    lines = [HEADER] + [f"{prefix} numéro {i},,association,Caen,14000,14,ML,,eau,projets,,,," for i in range(n)]
    path = tmp_path / f"{prefix}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_check_reports_drift_and_reindex_repairs_it(app, client, runner, make_actor):
    keep = make_actor(name="Toujours Publiée")
    gone = make_actor(name="Bientôt Retirée")
    assert runner.invoke(args=["index", "check"]).exit_code == 0
    with app.app_context():  # a bulk UPDATE leaves no index task: the index is now wrong
        db.session.execute(update(Actor).where(Actor.id == gone).values(status="archived"))
        db.session.commit()
    result = runner.invoke(args=["index", "check"])
    assert result.exit_code == 1 and "dans l'index sans être publiés : 1" in result.output
    assert runner.invoke(args=["reindex"]).exit_code == 0
    assert runner.invoke(args=["index", "check"]).exit_code == 0
    assert names(client) == ["Toujours Publiée"]


def test_killed_during_index_updates_heals_with_sync(tmp_path):
    app = build_app(tmp_path)
    csv_path = write_csv(tmp_path, 40)
    run_child(tmp_path, DIE_DURING_INDEX_WRITES.format(after=10, args=["import", str(csv_path)]), expect_killed=True)
    runner, client = app.test_cli_runner(), app.test_client()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Actor)) == 40  # committed before the kill
    check = runner.invoke(args=["index", "check"])
    assert check.exit_code == 1 and "tâches d'indexation en attente" in check.output
    assert runner.invoke(args=["index", "sync"]).exit_code == 0
    assert runner.invoke(args=["index", "check"]).exit_code == 0
    assert client.get("/api/actors").get_json()["total"] == 40
    dispose(app)


def test_the_next_start_applies_pending_tasks(tmp_path):
    app = build_app(tmp_path)
    add_actor(app, name="Déjà Là")
    with app.app_context():  # a change committed, its index work never applied (as after a crash)
        actor = db.session.scalar(select(Actor))
        db.session.execute(update(Actor).where(Actor.id == actor.id).values(status="archived"))
        db.session.execute(IndexLog.__table__.insert().values(actor_id=actor.id, op="upsert",
                                                               created_at=actor.updated_at))
        db.session.commit()
    dispose(app, drop=False)
    restarted = build_app(tmp_path)
    assert names(restarted.test_client()) == []  # healed on the first request
    dispose(restarted)


def test_killed_during_import_leaves_nothing_half_imported(tmp_path):
    app = build_app(tmp_path)
    csv_path = write_csv(tmp_path, 2500)
    run_child(tmp_path, f"""
        import os, signal
        from repertoire import create_app
        from repertoire.operations import importing as operations
        original = operations._insert_published
        calls = []
        def insert_then_die(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        operations._insert_published = insert_then_die
        create_app().test_cli_runner().invoke(args=["import", "{csv_path}"])
    """, expect_killed=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Actor)) == 0
    assert app.test_cli_runner().invoke(args=["index", "check"]).exit_code == 0
    result = app.test_cli_runner().invoke(args=["import", str(csv_path)])  # and the import can be run again
    assert result.exit_code == 0 and "2500 créés" in result.output
    dispose(app)


def test_killed_during_reindex_keeps_the_live_index(tmp_path):
    app = build_app(tmp_path)
    for i in range(30):
        add_actor(app, name=f"Stable {i:02d}")
    run_child(tmp_path, DIE_WHILE_BUILDING.format(after=15, args=["reindex"]), expect_killed=True)
    client, runner = app.test_client(), app.test_cli_runner()
    assert client.get("/api/actors").get_json()["total"] == 30
    assert runner.invoke(args=["index", "check"]).exit_code == 0
    assert runner.invoke(args=["reindex"]).exit_code == 0
    generations = [p.name for p in (tmp_path / "index").iterdir() if p.name.startswith("gen-")]
    assert len(generations) <= 2  # the half-built one is cleaned up
    dispose(app)


def test_changes_made_during_a_rebuild_are_not_lost(app, client, runner, make_actor, monkeypatch):
    for i in range(5):
        make_actor(name=f"Avant {i}")
    from repertoire.search import documents
    original = documents.published_records
    edited = []

    def published_then_edit(connection, ids=None):
        for n, record in enumerate(original(connection, ids)):
            if n == 2 and not edited:
                edited.append(add_actor(app, name="Ajoutée Pendant"))  # another request, committed meanwhile
            yield record

    monkeypatch.setattr(documents, "published_records", published_then_edit)
    assert runner.invoke(args=["reindex"]).exit_code == 0
    monkeypatch.setattr(documents, "published_records", original)
    assert "Ajoutée Pendant" in names(client)
    assert runner.invoke(args=["index", "check"]).exit_code == 0


def test_deleted_index_answers_503_then_rebuilds(tmp_path, caplog, monkeypatch):
    app = build_app(tmp_path)
    add_actor(app, name="Survivante")
    shutil.rmtree(tmp_path / "index")
    rebuild_may_finish = threading.Event()
    original = outbox.reindex_all

    def held_rebuild():
        rebuild_may_finish.wait(30)  # keeps the index missing until both pages have been asked for
        return original()

    monkeypatch.setattr(outbox, "reindex_all", held_rebuild)
    client = app.test_client()
    html_page = client.get("/?q=survivante")
    assert html_page.status_code == 503 and "Index en reconstruction" in html_page.get_data(as_text=True)
    api = client.get("/api/actors")
    assert api.status_code == 503 and "Index en reconstruction" in api.get_json()["error"]
    rebuild_may_finish.set()
    deadline = time.time() + 30
    while time.time() < deadline and client.get("/api/actors").status_code != 200:
        time.sleep(0.2)
    assert names(client) == ["Survivante"]
    assert any("reconstruction depuis la base" in r.getMessage() for r in caplog.records)
    dispose(app)


def test_corrupted_index_is_detected_and_rebuilt(tmp_path):
    app = build_app(tmp_path)
    add_actor(app, name="Intacte")
    index = tmp_path / "index"
    generation = (index / "CURRENT").read_text().strip()
    for toc in (index / generation).glob("*.toc"):
        toc.write_bytes(b"garbage")
    from repertoire import create_app
    fresh = create_app({**app.config})
    client = fresh.test_client()
    assert client.get("/api/actors").status_code == 503
    deadline = time.time() + 30
    while time.time() < deadline and client.get("/api/actors").status_code != 200:
        time.sleep(0.2)
    assert names(client) == ["Intacte"]
    dispose(app)
    dispose(fresh)


def test_concurrent_writers_in_several_processes_lose_nothing(tmp_path):
    app = build_app(tmp_path)
    ids = [add_actor(app, name=f"Partagée {i:02d}") for i in range(8)]
    code = """
        import sys
        from repertoire import create_app
        from repertoire.extensions import db
        from repertoire.models import Actor
        from repertoire.operations import actor_input, update_actor
        from repertoire.validation import Vocabulary
        worker, ids = int(sys.argv[1]), [int(x) for x in sys.argv[2].split(",")]
        app = create_app()
        for round in range(6):
            for actor_id in ids:
                with app.app_context():
                    actor = db.session.get(Actor, actor_id)
                    data = actor_input(actor)
                    data.description = f"worker {worker} round {round}"
                    update_actor(db.session, actor, data, Vocabulary(db.session))
                    db.session.commit()
    """
    env = child_env(tmp_path)
    workers = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), str(w), ",".join(map(str, ids))],
                                env=env, stderr=subprocess.PIPE, text=True) for w in range(4)]
    errors = [w.communicate(timeout=300)[1] for w in workers]
    assert all(w.returncode == 0 for w in workers), errors
    assert not any("LockError" in e for e in errors)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["index", "check"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    with app.app_context():
        final = {a.id: a.description for a in db.session.scalars(select(Actor))}
    for actor_id, description in final.items():
        body = client.get(f"/api/actors/{actor_id}").get_json()
        assert body["description"] == description
        found = client.get("/api/actors?q=" + description.replace(" ", "+") + "&per_page=100").get_json()
        assert actor_id in [r["id"] for r in found["results"]]
    dispose(app)


def test_security_headers(client, make_actor):
    make_actor(name="Entête Sûre")
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in page.headers
    secure = client.get("/", base_url="https://localhost")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]
    embed = client.get("/embed")
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"] and "X-Frame-Options" not in embed.headers
    for url in ("/", "/acteurs/entete-sure", "/statistiques", "/compte/connexion", "/compte/inscription"):
        body = client.get(url).get_data(as_text=True)
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", body, re.S)
        inline = [attrs for attrs, content in scripts if "application/ld+json" not in attrs and content.strip()]
        assert all('src="/static/' in attrs for attrs, _ in scripts if "application/ld+json" not in attrs), url
        assert inline == [] and "onclick" not in body and 'style="' not in body, url


def test_production_refuses_the_default_secret(tmp_path):
    from repertoire import create_app
    with pytest.raises(RuntimeError, match="REPERTOIRE_SECRET_KEY"):
        create_app({"REPERTOIRE_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "SECRET_KEY": "dev-only-change-me"})
    app = create_app({"REPERTOIRE_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "SECRET_KEY": "x" * 40, "REPERTOIRE_INDEX_DIR": str(tmp_path / "i")})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]


def test_another_process_sees_an_edit(tmp_path):
    """Seen without a restart; how fast is measured by bench/search.py, not asserted."""
    app = build_app(tmp_path)
    actor_id = add_actor(app, name="Avant Modification")
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from repertoire import create_app
        client = create_app().test_client()
        assert client.get("/api/actors?name=avant").get_json()["total"] == 1  # warm searcher and caches
        print("ready", flush=True)
        sys.stdin.readline()  # the edit is committed now
        started = time.perf_counter()
        while client.get("/api/actors?name=apres").get_json()["total"] != 1:
            if time.perf_counter() - started > 10:
                print("timeout", flush=True)
                sys.exit(1)
        print(f"{(time.perf_counter() - started) * 1000:.0f}", flush=True)
    """)], env=child_env(tmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "ready"
    edit_actor(app, actor_id, name="Après Modification")
    reader.stdin.write("go\n")
    reader.stdin.flush()
    seen_after_ms = reader.stdout.readline().strip()
    assert reader.wait(timeout=30) == 0, seen_after_ms
    assert seen_after_ms.isdigit()
    dispose(app)
