"""A plain, non-editable ``pip install`` of the wheel serves every kind of page, without the source tree."""
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import requests

from conftest import add_actor, add_user, build_app, database_url, dispose
from repertoire.extensions import db
from repertoire.models import Actor
from test_gunicorn import free_port
from web import csrf_token

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT = shutil.ignore_patterns(".git", ".venv*", "node_modules", "tests", "instance", "index", "build", "dist",
                                  "*.egg-info", "__pycache__", "*.mo", "bench")


def build_wheel(tmp_path) -> Path:
    """Build the wheel from a copy of the checkout, so the build leaves nothing in the source tree."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                    str(source)], check=True, capture_output=True, text=True)
    shutil.rmtree(source)
    (wheel,) = (tmp_path / "dist").glob("repertoire-*.whl")
    return wheel


def fresh_venv(tmp_path, wheel: Path) -> Path:
    """A new venv holding the wheel, non-editable; the dependencies come from our venv's site-packages."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(site),
                    str(wheel)], check=True, capture_output=True, text=True)
    # A path in a .pth file is added as is: our venv's own .pth files (the editable hook) are not run.
    (site / "zz-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def test_wheel_installed_non_editable_serves_every_page(tmp_path):
    python = fresh_venv(tmp_path, build_wheel(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    found = subprocess.run([str(python), "-c", "import repertoire; print(repertoire.__file__)"], cwd=elsewhere,
                           env=env, check=True, capture_output=True, text=True).stdout.strip()
    assert found.startswith(str(tmp_path / "venv")) and not found.startswith(str(ROOT)), found

    app = build_app(tmp_path / "site")
    actor_id = add_actor(app, name="Installée Partout", countries="ML", domains="eau", activities="projets",
                         partnerships=[{"kind": "jumelage", "partners": [{"name": "Kayes", "country": "ML",
                                                                           "locality": "Kayes"}]}])
    with app.app_context():
        slug = db.session.get(Actor, actor_id).slug
    add_user(app, "coord@example.org", role="coordinator")
    port = free_port()
    env.update({"REPERTOIRE_DATABASE_URL": database_url(tmp_path / "site"),
                "REPERTOIRE_INDEX_DIR": str(tmp_path / "site" / "index"),
                "REPERTOIRE_SECRET_KEY": "packaging-test-secret-0123456789"})
    server = subprocess.Popen([str(python), "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
                               "--log-level", "warning", "repertoire:create_app()"],
                              cwd=elsewhere, env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                requests.get(base + "/compte/connexion", timeout=30)
                break
            except requests.RequestException:
                time.sleep(0.2)
        session = requests.Session()
        search = session.get(base + "/", params={"q": "Installée"})
        assert search.status_code == 200 and "Installée Partout" in search.text
        assert session.get(base + "/static/style.css").status_code == 200
        actor = session.get(f"{base}/acteurs/{slug}")
        assert actor.status_code == 200 and "Installée Partout" in actor.text
        assert 'class="place locality"' in actor.text  # the gazetteer's file is in the wheel
        login_page = session.get(base + "/compte/connexion")
        assert login_page.status_code == 200
        session.get(base + "/langue/en", params={"next": "/"})
        assert "Search" in session.get(base + "/").text  # the English catalogue was compiled and found
        login = session.post(base + "/compte/connexion", allow_redirects=False, data={
            "email": "coord@example.org", "password": "mot de passe solide", "csrf_token": csrf_token(login_page.text)})
        assert login.status_code == 302
        back_office = session.get(base + "/moderation/acteurs")
        assert back_office.status_code == 200 and "Installée Partout" in back_office.text
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert "Traceback" not in errors, errors[-2000:]
    dispose(app)
