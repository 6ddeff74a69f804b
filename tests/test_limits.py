"""Issue 12, points 7, 11, 12: shared rate limits, client addresses behind a proxy, per-account login
throttle, 400/404 instead of 500 on hostile input, overseas phones, spreadsheet-safe CSV export."""
import csv
import io
import os
import threading

import pytest
import requests

from conftest import add_actor, add_user, build_app, dispose
from test_gunicorn import gunicorn
from web import ACTOR_FORM, csrf_token, submit, text

REDIS = os.environ.get("REPERTOIRE_TEST_REDIS_URL")


def redis_url() -> str:
    """The test Redis server (make test starts one); missing in CI is a failure, not a skip."""
    if not REDIS:
        if os.environ.get("CI"):
            pytest.fail("REPERTOIRE_TEST_REDIS_URL is not set: run the tests through `make test`")
        pytest.skip("no Redis server (REPERTOIRE_TEST_REDIS_URL); `make test` starts one")
    import redis
    redis.Redis.from_url(REDIS).flushdb()
    return REDIS


# -- point 7: rate limits ---------------------------------------------------

def test_ten_logins_a_minute_through_four_gunicorn_workers_not_forty(tmp_path):
    url = redis_url()
    app = build_app(tmp_path)
    with gunicorn(app, tmp_path, REPERTOIRE_RATELIMIT_STORAGE=url,
                  REPERTOIRE_LOGIN_RATE_LIMIT="10 per minute") as base:
        codes, pids = [], set()

        def attempt(n: int):
            for i in range(5):
                session = requests.Session()  # a new connection each time: any worker may answer
                page = session.get(base + "/compte/connexion")
                response = session.post(base + "/compte/connexion", data={
                    "email": f"personne{n}x{i}@example.org", "password": "faux mot de passe",
                    "csrf_token": csrf_token(page.text)})
                codes.append(response.status_code)
                session.close()

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert len(codes) == 40
        assert codes.count(200) == 10 and codes.count(429) == 30, sorted(codes)
    dispose(app)


def login_attempt(client, email="x@example.org", password="faux mot de passe", forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    page = client.get("/compte/connexion", headers=headers).get_data(as_text=True)
    return client.post("/compte/connexion", headers=headers, data={
        "email": email, "password": password, "csrf_token": csrf_token(page)}).status_code


def test_behind_a_proxy_each_client_has_its_own_limit(tmp_path):
    app = build_app(tmp_path, REPERTOIRE_PROXIES=1, LOGIN_RATE_LIMIT="2 per minute")
    alice, bob = app.test_client(), app.test_client()
    assert [login_attempt(alice, forwarded="203.0.113.1") for _ in range(3)] == [200, 200, 429]
    assert login_attempt(bob, forwarded="203.0.113.2") == 200  # the attacker did not lock Bob out
    dispose(app)


def test_without_proxies_x_forwarded_for_is_ignored(tmp_path):
    app = build_app(tmp_path, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    codes = [login_attempt(client, forwarded=f"203.0.113.{n}") for n in range(3)]
    assert codes == [200, 200, 429]  # a client cannot pick a new address for each attempt
    dispose(app)


def test_failed_logins_are_throttled_per_account_whatever_the_address(tmp_path):
    app = build_app(tmp_path, REPERTOIRE_PROXIES=1, LOGIN_ACCOUNT_RATE_LIMIT="3 per hour")
    add_user(app, "cible@example.org")
    add_user(app, "autre@example.org")
    client = app.test_client()
    codes = [login_attempt(client, "cible@example.org", forwarded=f"198.51.100.{n}") for n in range(4)]
    assert codes == [200, 200, 200, 429]
    assert login_attempt(client, " CIBLE@example.org ", "mot de passe solide", forwarded="198.51.100.9") == 429
    assert login_attempt(app.test_client(), "autre@example.org", forwarded="198.51.100.10") == 200
    dispose(app)


def test_successful_logins_do_not_use_up_the_account_limit(tmp_path):
    app = build_app(tmp_path, LOGIN_ACCOUNT_RATE_LIMIT="2 per hour")
    add_user(app, "moi@example.org")
    codes = [login_attempt(app.test_client(), "moi@example.org", "mot de passe solide") for _ in range(4)]
    assert codes == [302, 302, 302, 302]
    dispose(app)


def test_rate_limits_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("REPERTOIRE_LOGIN_RATE_LIMIT", "1 per minute")
    app = build_app(tmp_path)
    client = app.test_client()
    assert [login_attempt(client) for _ in range(2)] == [200, 429]
    dispose(app)


# -- point 11: hostile input --------------------------------------------------

def upload(client, name: str, data: bytes):
    page = client.get("/moderation/import").get_data(as_text=True)
    return client.post("/moderation/import", data={"file": (io.BytesIO(data), name), "csrf_token": csrf_token(page)})


def test_a_csv_header_of_a_million_columns_is_refused(coordinator_client):
    response = upload(coordinator_client, "colonnes.csv", b"a," * 1_000_000 + b"\r\n")
    assert response.status_code == 400
    assert "trop de colonnes (plus de 200)" in text(response)  # refused while reading, by spreadsheets.py


@pytest.mark.parametrize("data", [b"[" * 1000 + b"]" * 1000,
                                  b'[{"name": ' + b"[" * 990 + b"]" * 990 + b"}]"])
def test_deeply_nested_json_is_refused(coordinator_client, data):
    response = upload(coordinator_client, "profond.json", data)
    assert response.status_code == 400
    body = text(response)
    assert "JSON trop imbriqué" in body or "valeur invalide pour name" in body


def test_page_numbers_beyond_2_63_on_back_office_lists(coordinator_client):
    for page in (2 ** 63, 10 ** 30):
        response = coordinator_client.get(f"/moderation/acteurs?page={page}")
        assert response.status_code == 404
    assert coordinator_client.get("/moderation/acteurs?page=1").status_code == 200
    assert coordinator_client.get("/moderation/acteurs?page=2").status_code == 404  # past the last page (issue 15)


@pytest.mark.parametrize("token", ["..", ".", "..%2F..%2Fetc", "x" * 22 + ".txt"])
def test_forged_import_tokens_answer_404(coordinator_client, token):
    page = coordinator_client.get("/moderation/import").get_data(as_text=True)
    response = coordinator_client.post(f"/moderation/import/{token}", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 404


@pytest.mark.parametrize("label,slug,message", [
    ("", "", "Indiquez un libellé."), ("   ", "", "Indiquez un libellé."),
    ("L" * 161, "", "160"), ("Eau potable", "x" * 61, "60"), ("!!!", "", None), ("Eau", "EAU", "existe déjà")])
def test_adding_a_taxonomy_term_with_hostile_names(coordinator_client, label, slug, message):
    page = coordinator_client.get("/moderation/taxonomie").get_data(as_text=True)
    response = coordinator_client.post("/moderation/taxonomie/domain/ajouter", follow_redirects=True, data={
        "label": label, "slug": slug, "label_en": "", "csrf_token": csrf_token(page)})
    assert response.status_code == 200
    if message:
        assert message in text(response)
    assert coordinator_client.get("/?domain=eau").status_code == 200


def test_nul_bytes_are_refused_in_every_text_field(app, client):
    add_user(app, "membre@example.org")
    from conftest import login
    login(client, "membre@example.org")
    response = submit(client, "/mon-espace/inscrire", {**ACTOR_FORM, "description": "avant\x00après"})
    assert response.status_code == 400
    assert "Caractère nul refusé" in text(response)
    assert client.get("/?q=a%00b").status_code == 400
    assert client.get("/api/actors?q=a%00b").status_code == 400


def test_nul_bytes_are_refused_by_the_import(app, runner, tmp_path):
    from repertoire.serialize import CSV_COLUMNS
    path = tmp_path / "nul.csv"
    row = {c: "" for c in CSV_COLUMNS} | {"name": "Avec\x00Nul", "kind": "association", "town": "Caen",
                                          "department": "14"}
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerow(row)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1 and "caractère nul refusé" in result.output


@pytest.mark.parametrize("phone", ["0262 16 12 34", "0590 20 12 34", "0594 10 12 34", "0696 12 34 56",
                                   "0269 60 12 34"])
def test_overseas_phone_numbers_are_accepted_by_the_form(app, client, phone):
    add_user(app, "membre@example.org")
    from conftest import login
    login(client, "membre@example.org")
    response = submit(client, "/mon-espace/inscrire", {**ACTOR_FORM, "phone": phone})
    assert response.status_code == 302, text(response)[:2000]


def test_impossible_phone_numbers_are_still_refused(app, client):
    add_user(app, "membre@example.org")
    from conftest import login
    login(client, "membre@example.org")
    response = submit(client, "/mon-espace/inscrire", {**ACTOR_FORM, "phone": "0262 00"})
    assert response.status_code in (200, 400) and "numéro de téléphone invalide" in text(response)


# -- point 12: spreadsheet-safe export -----------------------------------------

FORMULA = {"name": "=HYPERLINK(\"http://x\",\"clic\")", "acronym": "+SUM(A1)", "description": "@cmd|' /C calc'!A0",
           "town": "-2+3"}


def test_excel_export_neutralises_formulas_and_the_contract_csv_round_trips(app, client, runner, tmp_path):
    add_actor(app, phone="+33 2 31 12 34 56", **FORMULA)
    excel = client.get("/export.csv?format=excel")
    assert excel.status_code == 200
    body = excel.get_data(as_text=True)
    assert body.startswith("\ufeff")
    row = next(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    for key, value in FORMULA.items():
        assert row[key] == "'" + value
    assert row["phone"] == "'+33 2 31 12 34 56"
    assert all(not v.startswith(("=", "+", "-", "@")) for v in row.values())

    plain = client.get("/export.csv").get_data()
    row = next(csv.DictReader(io.StringIO(plain.decode("utf-8"))))
    assert {k: row[k] for k in FORMULA} == FORMULA  # the contract CSV is untouched
    path = tmp_path / "export.csv"
    path.write_bytes(plain)
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    assert client.get("/export.csv").get_data() == plain


def test_unknown_export_format_is_a_400(client):
    response = client.get("/export.csv?format=ods")
    assert response.status_code == 400 and "Format inconnu" in response.get_json()["error"]
