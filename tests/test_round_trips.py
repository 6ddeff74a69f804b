"""Round trips stay lossless from every entry point (issue 15 point 7).

For every field of ``actor_fields.FIELDS`` and every awkward way of typing it (the list separator « ; »,
line breaks, tabs, spaces around, quotes, « = » first, non-breaking spaces), a value typed in the actor
form is either refused — a French message beside the field, the typed value still in the form — or
normalised, so that export (CSV and JSON) then import gives back the same actor.
"""
import html
import re

import pytest
from sqlalchemy import select

from conftest import add_actor, build_app, dispose
from repertoire.actor_fields import FIELDS, values_of
from repertoire.extensions import db
from repertoire.models import Actor
from web import csrf_token, version_in

# A valid value of each field, as the form's input for it is named.
BASE = {"name": "Acteur", "acronym": "ACT", "kind": "association", "town": "Saint-Louis", "postcode": "14000",
        "department": "14", "countries": "Sénégal", "intervention_towns": "Saint-Louis", "domains": "eau",
        "activities": "projets", "description": "Forages et puits.", "website": "https://exemple.org/puits",
        "email": "contact@exemple.org", "phone": "02 31 12 34 56", "founded": "1990"}
HOSTILE = {
    "semicolon": lambda v: f"{v}; Dakar",
    "semicolon-tight": lambda v: f"{v};Dakar",
    "newline": lambda v: f"{v}\nDakar",
    "crlf": lambda v: f"{v}\r\nDakar",
    "cr": lambda v: f"{v}\rDakar",
    "tab": lambda v: f"\t{v}\tDakar",
    "spaces": lambda v: f"   {v}   ",
    "inner-spaces": lambda v: f"{v}    Dakar",
    "quotes": lambda v: f"\"{v}\" l'{v}",
    "equals": lambda v: f"={v}",
    "nbsp-outside": lambda v: f"\xa0{v}\xa0",
    "nbsp-inside": lambda v: f"{v}\xa0Dakar",
    "trailing-newline": lambda v: f"{v}\n",
}


def form_values(i: int, name: str, value: str) -> dict:
    """The coordinator's actor form with ``name`` typed as ``value`` (the other fields valid)."""
    values = {**BASE, "name": f"Acteur {i:03d}", "acronym": f"A{i:03d}", name: value}
    if name == "name":
        values["name"] = value.replace(BASE["name"], f"Acteur {i:03d}")
    data = {k: v for k, v in values.items() if k not in ("countries", "intervention_towns")}
    data.update({"countries-0": values["countries"], "intervention_towns-0": values["intervention_towns"],
                 "submit": "1"})
    return data


def error_beside(page: str, name: str) -> str | None:
    """The error message shown beside the field ``name``, if any."""
    anchor = {"countries": "countries-error", "intervention_towns": "towns-error"}.get(name, f"{name}-error")
    match = re.search(rf'<p class="field-error" id="{anchor}">(.*?)</p>', page, re.S)
    if match is None and name in ("domains", "activities"):
        match = re.search(rf'<p class="field-error">(.*?)</p>\s*<ul[^>]*id="{name}"', page, re.S)
    return html.unescape(match.group(1)) if match else None


def typed_value_kept(page: str, name: str, value: str) -> bool:
    """Whether the form shown again still holds what was typed."""
    if name in ("kind", "department", "domains", "activities"):
        return True  # chosen from a list: the form can only send back one of its options
    escaped = html.escape(value, quote=True).replace("&#x27;", "&#39;")
    return escaped in page or html.escape(value, quote=False) in page or value in html.unescape(page)


def actors_of(app) -> list[dict]:
    with app.app_context():
        actors = db.session.scalars(select(Actor).where(Actor.status == "published").order_by(Actor.id))
        return sorted((values_of(a) for a in actors), key=lambda v: (v["name"], v["acronym"]))


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    """Every (field, hostile) pair typed in the coordinators' edit form: (app, refused pages, accepted cases)."""
    tmp = tmp_path_factory.mktemp("source")
    app = build_app(tmp)
    from conftest import add_user, login
    add_user(app, "coord@example.org", role="coordinator")
    client = app.test_client()
    login(client, "coord@example.org")
    refused, accepted, i = [], [], 0
    for field in FIELDS:
        if field.type in ("networks", "partnerships"):
            continue  # rows of their own in the form, not one text box: tests/test_partnership_entry.py
        for how, make in HOSTILE.items():
            i += 1
            actor_id = add_actor(app, name=f"Acteur {i:03d}", acronym=f"A{i:03d}", countries="SN",
                                 domains="eau", activities="projets")
            url = f"/moderation/acteurs/{actor_id}"
            page = client.get(url).get_data(as_text=True)
            value = make(BASE[field.name])
            data = {**form_values(i, field.name, value), "csrf_token": csrf_token(page), "version": version_in(page)}
            response = client.post(url, data=data)
            if response.status_code == 302:
                accepted.append((field.name, how, value, actor_id))
            else:
                assert response.status_code == 200, (field.name, how, response.status_code)
                refused.append((field.name, how, value, response.get_data(as_text=True)))
    yield app, refused, accepted, tmp
    dispose(app)


def test_every_refusal_is_said_beside_its_field_and_keeps_what_was_typed(typed):
    _app, refused, _accepted, _tmp = typed
    for name, how, value, page in refused:
        message = error_beside(page, name)
        assert message, f"{name} / {how}: refused without a message beside the field"
        assert typed_value_kept(page, name, value), f"{name} / {how}: the typed value is lost"


def test_the_separator_inside_one_box_is_refused_not_split_on_the_way_back(typed):
    """« Saint-Louis; Dakar » typed in one box of the towns of intervention."""
    _app, refused, accepted, _tmp = typed
    towns = {how: page for name, how, _value, page in refused if name == "intervention_towns"}
    assert "semicolon" in towns and "semicolon-tight" in towns
    assert "« ; »" in error_beside(towns["semicolon"], "intervention_towns")
    assert "Saint-Louis; Dakar" in html.unescape(towns["semicolon"])
    assert not [a for a in accepted if a[0] in ("intervention_towns", "countries", "domains", "activities")
                and ";" in a[2]]


def test_what_is_accepted_is_stored_normalised(typed):
    """No line break, tab or space around a one-line value; a list item never holds the separator."""
    app, _refused, accepted, _tmp = typed
    with app.app_context():
        for name, how, value, actor_id in accepted:
            stored = values_of(db.session.get(Actor, actor_id))[name]
            for item in stored if isinstance(stored, list) else [stored]:
                if item is None or isinstance(item, int):
                    continue
                assert item == item.strip(), (name, how, item)
                if name != "description":
                    assert not re.search(r"[\r\n\t\xa0]|  ", item), (name, how, item)
                if isinstance(stored, list):
                    assert ";" not in item, (name, how, item)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_then_import_gives_back_every_accepted_actor(typed, runner_for, fmt):
    app, _refused, accepted, tmp = typed
    assert len(accepted) > len(FIELDS) * 3  # most ways of typing are normalised, not refused
    exported = app.test_client().get(f"/export.{fmt}")
    assert exported.status_code == 200
    path = tmp / f"export-{fmt}.{fmt}"
    path.write_bytes(exported.get_data())
    other, runner = runner_for(f"import-{fmt}")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    before, after = actors_of(app), actors_of(other)
    assert len(before) == len(after)
    lost = [(b["name"], k, b[k], a[k]) for b, a in zip(before, after) for k in b if b[k] != a[k]]
    assert not lost, lost


@pytest.fixture
def runner_for(tmp_path):
    apps = []

    def make(name):
        app = build_app(tmp_path / name)
        apps.append(app)
        return app, app.test_cli_runner()
    yield make
    for app in apps:
        dispose(app)


def test_a_json_item_holding_the_separator_is_refused_and_a_csv_cell_is_split(app, runner, tmp_path):
    """The import's two formats: a JSON list item is one value (« ; » refused in it), a CSV cell is a list."""
    import json
    item = {"name": "Jumelage Caen-Saint-Louis", "kind": "association", "town": "Caen", "department": "14",
            "intervention_towns": ["Saint-Louis; Dakar"], "countries": ["SN"]}
    path = tmp_path / "acteurs.json"
    path.write_text(json.dumps([item]), encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert "« Saint-Louis; Dakar » contient « ; »" in result.output
    path = tmp_path / "acteurs.csv"
    path.write_text("name,kind,town,department,intervention_towns\n"
                    "Jumelage Caen-Saint-Louis,association,Caen,14,Saint-Louis; Dakar\n", encoding="utf-8")
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    body = app.test_client().get("/api/actors?q=jumelage").get_json()
    assert body["results"][0]["intervention_towns"] == ["Saint-Louis", "Dakar"]


def test_a_member_typing_two_towns_in_one_box_is_told_beside_it_and_keeps_them(app):
    from conftest import add_user, login
    from web import ACTOR_FORM, submit
    add_user(app, "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    response = submit(member, "/mon-espace/inscrire", {**ACTOR_FORM, "intervention_towns-0": "Saint-Louis; Dakar"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "« Saint-Louis; Dakar » contient « ; »" in error_beside(page, "intervention_towns")
    assert 'value="Saint-Louis; Dakar"' in page
    with app.app_context():
        assert db.session.scalar(select(Actor.id)) is None
