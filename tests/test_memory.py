"""Issue 15 at 1,000,000: a web worker's long-lived objects are out of the garbage collector's full collections
(``web/memory.py``), which otherwise made one import report in eight take twice as long."""
import gc

from conftest import build_app, dispose
from repertoire.web import memory


def test_a_worker_freezes_what_is_alive_after_its_first_and_fiftieth_requests(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "_served", 0)
    app = build_app(tmp_path, TESTING=False, REPERTOIRE_WARM_INDEX=False)  # no warm-up request counted
    client = app.test_client()
    gc.unfreeze()
    try:
        response = client.get("/")
        assert response.status_code == 200 and gc.get_freeze_count() == 0  # not before the response has gone
        response.close()
        first = gc.get_freeze_count()
        assert first > 10_000  # the modules, the app and its compiled templates
        gc.unfreeze()
        for _ in range(48):
            client.get("/").close()
        assert gc.get_freeze_count() == 0
        client.get("/").close()  # the fiftieth
        assert gc.get_freeze_count() > 10_000
        gc.unfreeze()
        client.get("/").close()
        assert gc.get_freeze_count() == 0  # then never again
    finally:
        gc.unfreeze()
        dispose(app)


def test_not_in_tests_nor_when_turned_off(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "_served", 0)
    for extra in ({}, {"TESTING": False, "REPERTOIRE_GC_FREEZE": False, "REPERTOIRE_WARM_INDEX": False}):
        app = build_app(tmp_path / str(len(extra)), **extra)
        gc.unfreeze()
        try:
            app.test_client().get("/").close()
            assert gc.get_freeze_count() == 0
        finally:
            gc.unfreeze()
            dispose(app)


def test_a_forked_worker_counts_its_own_requests(tmp_path, monkeypatch):
    """A worker forked from a process that has served requests (a preloaded server's, a bench's) freezes after
    its own first request, not after the parent's count reaches the next threshold."""
    import os
    from repertoire.extensions import db
    monkeypatch.setattr(memory, "_served", 0)
    app = build_app(tmp_path, TESTING=False, REPERTOIRE_WARM_INDEX=False)  # no warm-up request counted
    client = app.test_client()
    gc.unfreeze()
    try:
        for _ in range(3):
            client.get("/").close()  # the parent's first (frozen then) and two more
        gc.unfreeze()
        pid = os.fork()
        if pid == 0:  # the child: its first request
            code = 1
            try:
                with app.app_context():
                    db.engine.dispose(close=False)
                app.test_client().get("/").close()
                code = 0 if gc.get_freeze_count() > 10_000 else 2
            finally:
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        client.get("/").close()
        assert gc.get_freeze_count() == 0  # the parent's fourth: nothing
    finally:
        gc.unfreeze()
        dispose(app)
