"""Browser tests: Playwright driving Debian's Chromium against a live server.

Run with ``make test-browser`` (which installs Chromium and axe-core), or
``pytest --browser tests/browser``. Screenshots go to ``tests/artifacts/``.
"""
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import add_user, build_app, dispose

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("REPERTOIRE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "mot de passe solide"


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    """The demo directory served on a free port, with a coordinator account."""
    tmp = tmp_path_factory.mktemp("live")
    app = build_app(tmp, RATELIMIT_ENABLED=False, REPERTOIRE_BASE_URL="http://127.0.0.1")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    add_user(app, "coordination@example.org", role="admin", password=PASSWORD)
    server = LiveServer(app)
    app.config["REPERTOIRE_BASE_URL"] = server.url  # links in mails lead to this server
    yield server
    server.stop()
    dispose(app)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make test-browser`, which installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live):
    """Pages in fresh browser contexts (a new visitor each), closed at the end."""
    contexts = []

    def make(javascript=True, width=1280, height=900, locale="fr-FR"):
        context = browser.new_context(base_url=live.url, java_script_enabled=javascript, locale=locale,
                                      viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()
    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session", autouse=True)
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


def shot(page, name: str):
    """A full-page screenshot for reviewers."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
