"""``repertoire import`` and ``reindex`` killed with SIGKILL: their processes die with them,
the index writer is free again, and ``repertoire index sync`` heals. ``index sync`` says when it cannot."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import build_app, dispose
from repertoire.extensions import db
from repertoire.search import get_index
from test_consistency import child_env

REPERTOIRE = Path(sys.executable).with_name("repertoire")
ROWS = 8000  # enough to be checked by several processes, then indexed by two builders

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
                                reason="reads /proc; one core starts no process")


def children_of(pid: int) -> set[int]:
    """Live processes whose parent is ``pid``."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and alive(int(entry)):
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def kill_at(command: list[str], tmp_path, generation: int) -> set[int]:
    """Run ``repertoire COMMAND`` and SIGKILL it once its ``generation``-th set of child processes
    is running (1: the import's checkers, 2: the index builders); return the children it had."""
    process = subprocess.Popen([str(REPERTOIRE), *command], env=child_env(tmp_path), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    seen: set[int] = set()
    generations = 0
    try:
        while process.poll() is None:
            current = children_of(process.pid)
            if current - seen:
                if not current & seen:
                    generations += 1
                seen |= current
                if generations == generation:
                    time.sleep(0.3)  # let them all start and get to work
                    seen |= children_of(process.pid)
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait()
                    return seen
            time.sleep(0.01)
        pytest.fail(f"{command} ended before its processes of stage {generation} were seen: "
                    f"{process.stderr.read().decode()[-2000:]}")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stderr.close()


def assert_healed(app, children: set[int], published: int):
    deadline = time.monotonic() + 2
    while any(map(alive, children)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if alive(pid)], "child processes outlived the killed command"
    with app.app_context():
        with get_index().changes(timeout=1):  # free again (WriterBusy otherwise)
            pass
        get_index().close()
    runner = app.test_cli_runner()
    sync = runner.invoke(args=["index", "sync", "--timeout", "5"])
    assert sync.exit_code == 0, sync.output
    check = runner.invoke(args=["index", "check"])
    assert check.exit_code == 0, check.output
    assert app.test_client().get("/api/actors").get_json()["total"] == published


@pytest.mark.parametrize("stage", [1, 2], ids=["while-checking", "while-indexing"])
def test_import_killed_leaves_no_process_and_sync_heals(tmp_path, stage):
    app = build_app(tmp_path)
    csv_path = tmp_path / "big.csv"
    assert app.test_cli_runner().invoke(args=["generate", str(ROWS), str(csv_path), "--seed", "7"]).exit_code == 0
    children = kill_at(["import", str(csv_path)], tmp_path, stage)
    assert len(children) >= 2
    # killed while checking: nothing was committed; while indexing: all of it, the index to catch up
    assert_healed(app, children, 0 if stage == 1 else ROWS)
    dispose(app)


def test_reindex_killed_leaves_no_process_and_sync_heals(tmp_path):
    app = build_app(tmp_path)
    csv_path = tmp_path / "big.csv"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["generate", str(ROWS), str(csv_path), "--seed", "8"]).exit_code == 0
    assert runner.invoke(args=["import", str(csv_path)]).exit_code == 0
    with app.app_context():
        get_index().close()
        db.engine.dispose()
    children = kill_at(["reindex"], tmp_path, 1)
    assert_healed(app, children, ROWS)
    dispose(app)


SYNC_HOLDING_THE_WRITER = """
import sys, time
from repertoire import create_app
from repertoire.search import get_index
app = create_app()
with app.app_context(), get_index().changes():
    print("held", flush=True)
    sys.stdin.readline()
"""


def pending_edit(app):
    from conftest import add_actor
    from sqlalchemy import update
    from repertoire.models import Actor, IndexLog
    actor_id = add_actor(app, name="En Attente D'Index")
    with app.app_context():  # a change committed, its index work never applied (as after a crash)
        db.session.execute(update(Actor).where(Actor.id == actor_id).values(description="Changée."))
        db.session.execute(IndexLog.__table__.insert().values(actor_id=actor_id, op="upsert"))
        db.session.commit()


def test_index_sync_fails_with_a_reason_when_another_process_holds_the_writer(tmp_path):
    app = build_app(tmp_path)
    pending_edit(app)
    holder = subprocess.Popen([sys.executable, "-c", SYNC_HOLDING_THE_WRITER], env=child_env(tmp_path),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = app.test_cli_runner().invoke(args=["index", "sync", "--timeout", "0.5"])
        assert result.exit_code == 1
        assert "non appliquée" in result.output and "pris par un autre processus" in result.output
    finally:
        holder.communicate("\n", timeout=60)
    assert app.test_cli_runner().invoke(args=["index", "check"]).exit_code == 1
    result = app.test_cli_runner().invoke(args=["index", "sync"])
    assert result.exit_code == 0 and "appliquée" in result.output
    assert app.test_cli_runner().invoke(args=["index", "check"]).exit_code == 0
    dispose(app)


def test_index_sync_fails_with_a_reason_when_the_index_is_unreadable(tmp_path):
    app = build_app(tmp_path)
    pending_edit(app)
    with app.app_context():
        get_index().close()
    (tmp_path / "index" / "CURRENT").write_text("gen-disparue")
    result = app.test_cli_runner().invoke(args=["index", "sync"])
    assert result.exit_code == 1
    assert "index absent ou illisible" in result.output and "repertoire reindex" in result.output
    assert app.test_cli_runner().invoke(args=["reindex"]).exit_code == 0
    assert app.test_cli_runner().invoke(args=["index", "check"]).exit_code == 0
    dispose(app)
