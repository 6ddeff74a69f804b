"""`make run PORT=…` serves the demo on that port, and the links of its mails point there."""
import os
import re
import signal
import subprocess
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import requests

from test_gunicorn import free_port
from web import csrf_token

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not (ROOT / ".venv" / ".installed-stamp").exists(), reason="needs the venv that make builds")
def test_make_run_serves_on_the_port_it_is_given(tmp_path):
    port = free_port()
    outbox = tmp_path / "outbox"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("REPERTOIRE_")},
           "REPERTOIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
           "REPERTOIRE_INDEX_DIR": str(tmp_path / "index"), "REPERTOIRE_SECRET_KEY": "k" * 64,
           "REPERTOIRE_MAIL_OUTBOX": str(outbox), "MAKEFLAGS": ""}
    server = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}", "HOST=127.0.0.1"], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        home = None
        for _ in range(600):  # the demo is loaded first: wait for the server, however slow the machine
            if server.poll() is not None:
                pytest.fail(server.stdout.read().decode(errors="replace"))
            try:
                home = requests.get(base + "/", timeout=10)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert home is not None and home.status_code == 200
        assert "Coordination Information Tiers-Monde" in home.text  # the demo, real actors first
        session = requests.Session()
        form = session.get(base + "/compte/inscription", timeout=10).text
        session.post(base + "/compte/inscription", timeout=10, data={
            "csrf_token": csrf_token(form), "email": "nouvelle@example.org",
            "password": "un mot de passe solide", "confirm": "un mot de passe solide"})
        for _ in range(100):
            mails = list(outbox.glob("*.eml")) if outbox.exists() else []
            if mails:
                break
            time.sleep(0.2)
        mail = message_from_bytes(mails[0].read_bytes(), policy=policy.default)
        body = mail.get_body(("plain",)).get_content()
        assert re.search(rf"http://127\.0\.0\.1:{port}/\S+", body), body
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
