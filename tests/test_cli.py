"""The command line of contract §3, through Click's runner and the real console script."""
import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from conftest import build_app, dispose
from repertoire import geo
from repertoire.extensions import db
from repertoire.models import Actor, User

HEADER = "name,acronym,kind,town,postcode,department,countries,intervention_towns,domains,activities,description,website,email,phone"


def write(tmp_path, text, name="actors.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def count_actors(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Actor))


def test_init_is_idempotent(runner):
    first = runner.invoke(args=["init"])
    second = runner.invoke(args=["init"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "0 termes de taxonomie ajoutés" in second.output


def test_import_accepts_codes_names_and_labels_in_any_case(app, runner, client, tmp_path):
    path = write(tmp_path, "\ufeff" + HEADER.replace("name,acronym", "acronym,name") + "\r\n"
                 ',"Amitié Normandie-Mali",Association,Caen,14000,calvados,"MLI;maroc;Algérie;sénégal",Ségou;Kayes,'
                 '"Santé;eau",ECSI,"Une description, avec virgule.",www.amitie.example.org,Contact@Amitie.example.org,02 31 00 00 00\r\n')
    result = runner.invoke(args=["import", path])
    assert result.exit_code == 0, result.output
    assert "1 acteur importé et publié : 1 créé, 0 mis à jour, 0 inchangé." in result.output
    actor = client.get("/api/actors?name=amitie").get_json()["results"][0]
    assert actor["countries"] == ["ML", "MA", "DZ", "SN"]
    assert actor["department"] == "14" and actor["kind"] == "association"
    assert actor["domains"] == ["eau", "sante"] and actor["activities"] == ["ecsi"]
    assert actor["website"] == "https://www.amitie.example.org"


def test_import_reports_every_bad_row_and_imports_nothing(app, runner, tmp_path):
    path = write(tmp_path, HEADER + "\n"
                 "Bonne Association,,association,Caen,14000,14,ML,,eau,projets,,,,\n"
                 "X,,club,Caen,140,99,Atlantide,,foo,bar,,pas une url,pas@mail,12\n"
                 '"Nom sur\ndeux lignes",,association,Caen,14000,14,,,,,"Description\nsur trois\nlignes",,,\n'
                 ",,association,,14000,14,,,,,,,,\n"
                 "Trop,de,valeurs,association,Caen,14000,14,,,,,,,,\n")
    result = runner.invoke(args=["import", path])
    assert result.exit_code == 1
    lines = [l for l in result.stdout.splitlines() if l.startswith("line ")]
    assert [l.split(":")[0] for l in lines] == ["line 3", "line 8", "line 9"]
    bad = lines[0]
    for expected in ("name", "kind", "club", "postcode", "department", "« 99 »", "Atlantide", "foo", "bar",
                     "website", "email", "phone"):
        assert expected in bad
    assert "nom est obligatoire" in lines[1] and "commune du siège est obligatoire" in lines[1]
    assert "15 valeurs au lieu de 14" in lines[2]
    assert count_actors(app) == 0


def test_dry_run_validates_without_importing(app, runner, tmp_path):
    path = write(tmp_path, HEADER + "\nAssociation Test,,association,Caen,14000,14,,,,,,,,\n")
    result = runner.invoke(args=["import", path, "--dry-run"])
    assert result.exit_code == 0 and "1 à créer" in result.output and "--dry-run" in result.output
    assert count_actors(app) == 0
    bad = write(tmp_path, HEADER + "\nA,,association,Caen,14000,14,,,,,,,,\n", name="bad.csv")
    result = runner.invoke(args=["import", bad, "--dry-run"])
    assert result.exit_code == 1 and "line 2:" in result.output


def test_import_rejects_bad_headers_encodings_and_duplicates(app, runner, tmp_path):
    missing = write(tmp_path, "name,town\nA,B\n", name="missing.csv")
    result = runner.invoke(args=["import", missing])
    assert result.exit_code == 1 and "line 1:" in result.output and "colonnes manquantes" in result.output
    # Windows-1252 is read now (issue 15); bytes no encoding of ours knows are still refused
    undecodable = tmp_path / "undecodable.csv"
    undecodable.write_bytes((HEADER + "\nAssociation \x81lan,,association,Caen,14000,14,,,,,,,,\n").encode("latin-1"))
    result = runner.invoke(args=["import", str(undecodable)])
    assert result.exit_code == 1 and "line 2:" in result.output and "UTF-8" in result.output
    twice = write(tmp_path, HEADER + "\nMême Nom,,association,Caen,14000,14,,,,,,,,\n"
                  "même nom,,association,Caen,14000,14,,,,,,,,\n", name="twice.csv")
    result = runner.invoke(args=["import", twice])
    assert result.exit_code == 1 and "line 3:" in result.output and "ligne 2" in result.output
    assert count_actors(app) == 0


def test_reimporting_updates_instead_of_duplicating(app, runner, client, tmp_path):
    path = write(tmp_path, HEADER + "\nAssociation Reprise,,association,Caen,14000,14,ML,,eau,,,,,\n")
    assert runner.invoke(args=["import", path]).exit_code == 0
    again = runner.invoke(args=["import", path])
    assert "1 inchangé" in again.output
    changed = write(tmp_path, HEADER + "\nAssociation Reprise,,association,Caen,14000,14,SN,,eau,,,,,\n",
                    name="changed.csv")
    assert "1 mis à jour" in runner.invoke(args=["import", changed]).output
    assert count_actors(app) == 1
    assert client.get("/api/actors?country=SN").get_json()["total"] == 1
    assert client.get("/api/actors?country=ML").get_json()["total"] == 0


def test_export_then_import_loses_nothing(app, runner, tmp_path):
    assert runner.invoke(args=["demo", "--generated", "60"]).exit_code == 0
    first_csv, first_json = tmp_path / "first.csv", tmp_path / "first.json"
    assert runner.invoke(args=["export", str(first_csv)]).exit_code == 0
    assert runner.invoke(args=["export", str(first_json)]).exit_code == 0

    other = build_app(tmp_path / "other")
    other_runner = other.test_cli_runner()
    result = other_runner.invoke(args=["import", str(first_csv)])
    assert result.exit_code == 0, result.output
    second_csv = tmp_path / "second.csv"
    other_runner.invoke(args=["export", str(second_csv)])
    assert first_csv.read_bytes() == second_csv.read_bytes()

    def comparable(path):  # ids are the instance's own, partnerships' too
        return [{**{k: v for k, v in a.items() if k not in ("id", "updated_at", "url")},
                 "partnerships": [{k: v for k, v in p.items() if k != "id"} for p in a["partnerships"]]}
                for a in json.loads(path.read_text(encoding="utf-8"))]

    third = build_app(tmp_path / "third")
    assert third.test_cli_runner().invoke(args=["import", str(first_json)]).exit_code == 0
    second_json = tmp_path / "second.json"
    third.test_cli_runner().invoke(args=["export", str(second_json)])
    assert comparable(first_json) == comparable(second_json)
    assert len(comparable(first_json)) == 69
    dispose(other)
    dispose(third)


def test_export_contains_only_published_actors(app, runner, make_actor, tmp_path):
    make_actor(name="Publiée")
    make_actor(name="En attente", status="pending")
    out = tmp_path / "out.csv"
    runner.invoke(args=["export", str(out)])
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["name"] for r in rows] == ["Publiée"]


def test_generate_writes_realistic_reproducible_actors(runner, tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert runner.invoke(args=["generate", "1500", str(a), "--seed", "7"]).exit_code == 0
    runner.invoke(args=["generate", "1500", str(b), "--seed", "7"])
    runner.invoke(args=["generate", "1500", str(c), "--seed", "8"])
    assert a.read_bytes() == b.read_bytes() and a.read_bytes() != c.read_bytes()
    rows = list(csv.DictReader(io.StringIO(a.read_text(encoding="utf-8"))))
    assert len(rows) == 1500
    countries = Counter(code for r in rows for code in r["countries"].split(";") if code)
    assert {code for code, _ in countries.most_common(4)} == {"ML", "SN", "BF", "MA"}
    domains = Counter(d for r in rows for d in r["domains"].split(";"))
    assert {d for d, _ in domains.most_common(2)} == {"sante", "education"}
    departments = Counter(r["department"] for r in rows)
    top5 = sum(n for _, n in departments.most_common(5))
    assert top5 > 0.3 * len(rows)  # skewed: a few départements hold most actors
    for r in rows:
        assert geo.department_of_postcode(r["postcode"]) == r["department"]
        assert "Exemple fictif" in r["description"]
    assert len({(r["name"], r["town"]) for r in rows}) == 1500


def test_generated_file_imports_cleanly(app, runner, tmp_path):
    path = tmp_path / "gen.csv"
    runner.invoke(args=["generate", "300", str(path), "--seed", "3"])
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert count_actors(app) == 300


def test_demo_loads_real_and_fictitious_actors(app, runner, client):
    result = runner.invoke(args=["demo", "--generated", "40"])
    assert result.exit_code == 0 and "49 acteurs créés" in result.output
    citim = client.get("/api/actors?name=citim").get_json()["results"]
    assert citim and citim[0]["town"] == "Caen" and "Exemple fictif" not in citim[0]["description"]
    bagnolet = client.get("/api/actors?name=bagnolet").get_json()["results"][0]
    assert bagnolet["countries"] == ["IT", "DE", "LB", "ML", "DZ", "MQ"]
    fictitious = client.get("/api/actors?q=%22exemple%20fictif%22").get_json()["total"]
    assert fictitious == 40
    assert "déjà des acteurs" in runner.invoke(args=["demo", "--if-empty"]).output
    assert count_actors(app) == 49


def test_user_create(app, runner):
    result = runner.invoke(args=["user", "create", "Coord@Example.org", "--role", "coordinator",
                                 "--password", "un mot de passe solide"])
    assert result.exit_code == 0 and "coord@example.org (coordinator)" in result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.role == "coordinator" and user.password_hash != "un mot de passe solide"
    again = runner.invoke(args=["user", "create", "coord@example.org", "--password", "un mot de passe solide"])
    assert again.exit_code != 0 and "existe déjà" in again.output
    generated = runner.invoke(args=["user", "create", "m@example.org", "--role", "member"], input="")
    assert generated.exit_code == 0 and "Mot de passe :" in generated.output
    bad_role = runner.invoke(args=["user", "create", "x@example.org", "--role", "king"])
    assert bad_role.exit_code != 0


def test_console_script_reports_bad_rows_and_exit_code(tmp_path):
    env = {**os.environ, "REPERTOIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
           "REPERTOIRE_INDEX_DIR": str(tmp_path / "index")}
    script = Path(sys.executable).with_name("repertoire")
    subprocess.run([script, "init"], env=env, check=True, capture_output=True)
    path = write(tmp_path, HEADER + "\nA,,association,Caen,14000,14,,,,,,,,\n")
    done = subprocess.run([script, "import", path], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout.startswith("line 2: name : le nom doit compter de 2 à 200 caractères")
    good = write(tmp_path, HEADER + "\nAssociation Bien,,association,Caen,14000,14,,,,,,,,\n", name="good.csv")
    done = subprocess.run([script, "import", good], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.count("\n") == 1 and "1 créé," in done.stdout
    flask = subprocess.run([Path(sys.executable).with_name("flask"), "--app", "repertoire", "export",
                            str(tmp_path / "x.json")], env=env, capture_output=True, text=True)
    assert flask.returncode == 0 and json.loads((tmp_path / "x.json").read_text())[0]["name"] == "Association Bien"


def test_db_revision_writes_the_next_numbered_migration_from_the_models(app, runner):
    from repertoire.database import MIGRATIONS
    before = set((MIGRATIONS / "versions").glob("*.py"))
    result = runner.invoke(args=["db", "revision", "nothing changed"])
    written = set((MIGRATIONS / "versions").glob("*.py")) - before
    try:
        assert result.exit_code == 0, result.output
        (path,) = written
        last = max(int(p.name[:4]) for p in before if p.name[:4].isdigit())
        assert path.name == f"{last + 1:04d}_nothing_changed.py"
        source = path.read_text()
        assert f"down_revision = '{last:04d}'" in source
        # the models and the migrated schema agree: nothing to do either way
        assert "op." not in source and source.count("pass") == 2
    finally:
        for path in written:
            path.unlink()
