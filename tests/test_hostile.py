"""Hostile input: random and malicious values at the API, the pages, the forms and the importer."""
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import add_actor, add_user, login
from directory import PENDING
from repertoire.interchange import parse_csv
from web import ACTOR_FORM, csrf_token

NASTY = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "' OR 1=1 --", "%00",
                     "\x00", "*", "?", "\\", "(((", "\"", "AND OR NOT", "SAUF", "title:x", "[a TO z]", "é" * 5000,
                     "../../etc/passwd", "{{7*7}}", "${7*7}", "\u202e", "🚀" * 50, "-1", "1e9", "0x10", " "]),
)
PARAMS = ["q", "name", "place", "intervention", "country", "department", "domain", "activity", "kind", "sort",
          "page", "per_page"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def seed(app):
    add_actor(app, name="Visible Hostile", countries="ML")
    add_actor(app, status="pending", **PENDING)


@SETTINGS
@given(params=st.lists(st.tuples(st.sampled_from(PARAMS), NASTY), max_size=6))
def test_api_answers_200_or_400_and_never_leaks(app, params):
    if not getattr(app, "_seeded", False):
        seed(app)
        app._seeded = True
    client = app.test_client()
    response = client.get("/api/actors", query_string=params)
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    body = response.get_json()
    if response.status_code == 400:
        assert set(body) == {"error"} and body["error"]
    else:
        assert all(r["name"] != PENDING["name"] for r in body["results"])
    for url in ("/", "/embed", "/export.csv"):
        page = client.get(url, query_string=params)
        assert page.status_code in (200, 400), (url, page.status_code)
        text = page.get_data(as_text=True)
        assert PENDING["name"] not in text
        if page.mimetype == "text/html":  # JSON and CSV are not rendered (and nosniff is sent)
            assert "<script>alert(1)</script>" not in text and "onerror=alert(1)>" not in text
        else:
            assert page.headers["X-Content-Type-Options"] == "nosniff"


@SETTINGS
@given(data=st.binary(max_size=2000) | st.text(max_size=2000).map(lambda s: s.encode("utf-8")))
def test_csv_parser_never_crashes(data):
    parsed = parse_csv(data)
    assert all(message.startswith("line ") for message in parsed.errors)


@SETTINGS
@given(rows=st.lists(st.fixed_dictionaries({key: NASTY for key in
                                            ["name", "kind", "town", "postcode", "department", "countries",
                                             "domains", "website", "email", "phone", "description"]}), max_size=5))
def test_importer_validates_any_row(app, rows):
    from repertoire.importing import check_import
    from repertoire.interchange import ParsedFile
    from repertoire.extensions import db
    with app.app_context():
        check = check_import(db.session, ParsedFile(rows=[(i + 2, row) for i, row in enumerate(rows)]))
        assert len({line for line, _ in check.errors}) + len(check.valid) == len(rows)


@SETTINGS
@given(values=st.fixed_dictionaries({key: NASTY for key in
                                     ["name", "acronym", "town", "postcode", "department", "kind", "countries-0",
                                      "intervention_towns-0", "description", "website", "email", "phone"]}))
def test_actor_form_never_fails_and_escapes_what_it_shows(app, values):
    if not getattr(app, "_member", False):
        add_user(app, "hostile@example.org")
        app._member = app.test_client()
        login(app._member, "hostile@example.org")
    client = app._member
    token = csrf_token(client.get("/mon-espace").get_data(as_text=True))
    response = client.post("/mon-espace/inscrire", data={**ACTOR_FORM, **values, "csrf_token": token})
    nul = any("\x00" in v for v in values.values())  # NUL bytes are refused (issue 12, point 11)
    assert response.status_code in ((400,) if nul else (200, 302, 429)), response.status_code
    page = response.get_data(as_text=True) if response.status_code == 200 else client.get("/mon-espace").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "onerror=alert(1)>" not in page


@SETTINGS
@given(email=NASTY, password=NASTY)
def test_account_forms_never_fail(client, email, password):
    for url, data in (("/compte/inscription", {"email": email, "password": password, "confirm": password}),
                      ("/compte/connexion", {"email": email, "password": password}),
                      ("/compte/mot-de-passe-oublie", {"email": email})):
        token = csrf_token(client.get(url).get_data(as_text=True))
        response = client.post(url, data={**data, "csrf_token": token})
        nul = any("\x00" in v for v in data.values())  # refused (issue 12, point 11)
        assert response.status_code in ((400,) if nul else (200, 302, 429)), (url, response.status_code)


def test_uploads_are_limited_in_size(app):
    import io
    add_user(app, "big@example.org", role="coordinator")
    client = app.test_client()
    login(client, "big@example.org")
    token = csrf_token(client.get("/moderation/import").get_data(as_text=True))
    huge = io.BytesIO(b"x" * (6 * 1024 * 1024))
    response = client.post("/moderation/import", data={"csrf_token": token, "file": (huge, "gros.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and "trop volumineux" in response.get_data(as_text=True)
