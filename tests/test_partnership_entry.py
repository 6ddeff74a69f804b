"""Partnerships and networks in the entry form, the moderation diff and the actor page (issue 14, points 2, 4)."""
import json
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from conftest import add_actor, add_user, login
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest, Membership
from repertoire.operations import actor_input
from web import ACTOR_FORM, submit, text

TWINNING = {"kind": "jumelage", "start": "1962",
            "partners": [{"name": "Sesto Fiorentino", "country": "IT", "locality": "Sesto Fiorentino"}]}


class FormReader(HTMLParser):
    """What a browser would send from the page's main form: every control with its current value."""

    def __init__(self):
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self.in_form = False
        self._textarea = self._select = None
        self._options: list = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "actor-form" in (a.get("class") or ""):
            self.in_form = True
        if not self.in_form or "name" not in a and tag not in ("option",):
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button"):
                return
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self.values.append((a["name"], a.get("value") or ("y" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "textarea" and self._textarea is not None:
            self.values.append((self._textarea[0], self._textarea[1].lstrip("\n")))
            self._textarea = None
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [v for v, _s in self._options[:1]]
            self.values.extend((self._select, v) for v in chosen)
            self._select = None


def form_values(page: str) -> dict:
    reader = FormReader()
    reader.feed(page)
    values: dict = {}
    for name, value in reader.values:
        if name in values:
            values[name] = (values[name] if isinstance(values[name], list) else [values[name]]) + [value]
        else:
            values[name] = value
    return values


def press(client, url, page, button, **typed):
    """Post the form of ``page`` as shown, with ``typed`` changes, by pressing ``button`` (its name)."""
    values = {**form_values(page), **typed, button: "1"}
    return client.post(url, data=values)


def squash(body: str) -> str:
    """Text without the spaces that tags leave inside parentheses and before commas."""
    return re.sub(r"\s+([),])", r"\1", re.sub(r"\(\s+", "(", body))


def field_error(page: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    assert match, f"no message beside {field_id}"
    return match.group(1)


@pytest.fixture
def member_client(app):
    add_user(app, "membre@example.org")
    client = app.test_client()
    login(client, "membre@example.org")
    return client


@pytest.fixture
def network(app):
    return add_actor(app, name="Horizons Solidaires", kind="reseau", town="Caen", department="14")


def the_actor(app, name):
    with app.app_context():
        return db.session.scalar(select(Actor).where(Actor.name == name))


def open_request(app, kind):
    with app.app_context():
        return db.session.scalar(select(ChangeRequest).where(ChangeRequest.status == "open",
                                                             ChangeRequest.kind == kind))


def test_a_member_adds_a_three_party_twinning_without_javascript(app, member_client, coordinator_client):
    url = "/mon-espace/inscrire"
    page = member_client.get(url).get_data(as_text=True)
    assert 'name="add_partnership"' in page and 'name="partnerships-0-kind"' not in page
    page = press(member_client, url, page, "add_partnership", **{k: v for k, v in ACTOR_FORM.items()
                                                                if k != "submit"}).get_data(as_text=True)
    assert 'name="partnerships-0-kind"' in page and 'name="partnerships-0-partners-0-name"' in page
    assert 'value="Association Puits du Sahel"' in page  # what was typed is still there
    page = press(member_client, url, page, "partnerships-0-add_partner",
                 **{"partnerships-0-kind": "jumelage", "partnerships-0-start": "2003",
                    "partnerships-0-partners-0-name": "Oranienburg",
                    "partnerships-0-partners-0-country": "Allemagne"}).get_data(as_text=True)
    assert 'name="partnerships-0-partners-1-name"' in page and 'value="Oranienburg"' in page
    assert re.search(r'<option selected value="jumelage">|<option value="jumelage" selected', page)
    page = press(member_client, url, page, "partnerships-0-add_partner",
                 **{"partnerships-0-partners-1-name": "Massala",
                    "partnerships-0-partners-1-country": "Mali"}).get_data(as_text=True)
    assert 'name="partnerships-0-partners-2-name"' in page and 'value="Massala"' in page
    response = press(member_client, url, page, "submit",
                     **{"partnerships-0-partners-2-name": "Le Robert",
                        "partnerships-0-partners-2-country": "Martinique",
                        "partnerships-0-partners-2-locality": "Le Robert"})
    assert response.status_code == 302, text(response)[:2000]
    request = open_request(app, "new")
    submit(coordinator_client, f"/moderation/demandes/{request.id}/accepter", {},
           form_url=f"/moderation/demandes/{request.id}")
    actor = the_actor(app, "Association Puits du Sahel")
    (twinning,) = app.test_client().get(f"/api/actors/{actor.id}").get_json()["partnerships"]
    assert twinning["kind"] == "jumelage" and twinning["start"] == "2003"
    assert [(p["name"], p["country"]) for p in twinning["partners"]] == [
        ("Oranienburg", "DE"), ("Massala", "ML"), ("Le Robert", "MQ")]
    body = text(app.test_client().get(f"/acteurs/{actor.slug}"))
    assert "Jumelage avec Oranienburg (Allemagne), Massala (Mali) et Le Robert (Martinique)" in squash(body)


def test_remove_buttons_drop_one_row_and_keep_the_others(app, member_client):
    url = "/mon-espace/inscrire"
    page = member_client.get(url).get_data(as_text=True)
    typed = {"partnerships-0-kind": "jumelage", "partnerships-0-partners-0-name": "Sesto Fiorentino",
             "partnerships-0-partners-0-country": "Italie", "partnerships-0-partners-1-name": "Oranienburg",
             "partnerships-0-partners-1-country": "Allemagne", "partnerships-1-kind": "cooperation",
             "partnerships-1-partners-0-name": "Santiago de Cuba", "partnerships-1-partners-0-country": "Cuba"}
    page = press(member_client, url, page, "partnerships-0-partners-0-remove", **typed).get_data(as_text=True)
    assert "Sesto Fiorentino" not in page and 'value="Oranienburg"' in page and 'value="Santiago de Cuba"' in page
    page = press(member_client, url, page, "partnerships-0-remove").get_data(as_text=True)
    assert "Oranienburg" not in page and 'value="Santiago de Cuba"' in page
    assert page.count('name="partnerships-') and 'Partenariat 2' not in page


def test_bad_rows_get_their_message_beside_the_field_and_nothing_typed_is_lost(app, member_client):
    url = "/mon-espace/inscrire"
    page = member_client.get(url).get_data(as_text=True)
    typed = {**{k: v for k, v in ACTOR_FORM.items() if k != "submit"},
             "partnerships-0-kind": "jumelage", "partnerships-0-start": "2005", "partnerships-0-end": "1999",
             "partnerships-0-partners-0-name": "Atlantis", "partnerships-0-partners-0-country": "Atlantide",
             "partnerships-1-kind": "cooperation", "partnerships-1-start": "2999",
             "partnerships-1-partners-0-name": "Carrefour", "partnerships-1-partners-0-country": "Haïti",
             "networks-0-network": "reseau-fantome", "networks-0-since": "1998"}
    response = press(member_client, url, page, "submit", **typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "la fin (1999) précède le début (2005)" in field_error(page, "partnerships-0-end")
    assert "pays inconnu « Atlantide »" in field_error(page, "partnerships-0-partners-0-country")
    assert "le début « 2999 » est dans le futur" in field_error(page, "partnerships-1-start")
    assert "réseau inconnu « reseau-fantome »" in field_error(page, "networks-0-network_query")
    # the summary names the row and leads to its field
    assert 'href="#partnerships-0-end"' in page and "partenariat 2 : le début « 2999 »" in text(response)
    for value in ("Atlantis", "Atlantide", "2005", "1999", "Carrefour", "Haïti", "2999", "1998",
                  "reseau-fantome", "Association Puits du Sahel"):
        assert f'value="{value}"' in page, value
    assert 'aria-invalid="true"' in page
    assert the_actor(app, "Association Puits du Sahel") is None


def test_a_partner_in_the_directory_is_found_and_chosen(app, member_client):
    add_actor(app, name="Comité de jumelage de Sesto", town="Rouen", department="76")
    url = "/mon-espace/inscrire"
    page = member_client.get(url).get_data(as_text=True)
    page = press(member_client, url, page, "add_partnership", **{k: v for k, v in ACTOR_FORM.items()
                                                                if k != "submit"}).get_data(as_text=True)
    response = press(member_client, url, page, "partnerships-0-partners-0-find",
                     **{"partnerships-0-kind": "partenariat",
                        "partnerships-0-partners-0-actor_query": "jumelage sesto"})
    page = response.get_data(as_text=True)
    assert 'type="radio" name="partnerships-0-partners-0-actor"' in page
    assert 'value="comite-de-jumelage-de-sesto"' in page and "Comité de jumelage de Sesto (Rouen)" in page
    assert 'value="jumelage sesto"' in page  # the query stays
    # the member picks it; name, country and town come from its entry
    response = press(member_client, url, page, "submit",
                     **{"partnerships-0-partners-0-actor": "comite-de-jumelage-de-sesto"})
    assert response.status_code == 302, text(response)[:3000]
    with app.app_context():
        actor = db.session.scalar(select(Actor).where(Actor.name == "Association Puits du Sahel"))
        (partnership,) = actor_input(actor).partnerships
    assert partnership["partners"] == [{"name": "Comité de jumelage de Sesto", "country": "FR",
                                        "locality": "Rouen", "actor": "comite-de-jumelage-de-sesto"}]


def test_nothing_found_is_said(app, member_client):
    url = "/mon-espace/inscrire"
    page = member_client.get(url).get_data(as_text=True)
    page = press(member_client, url, page, "add_network").get_data(as_text=True)
    page = press(member_client, url, page, "networks-0-find",
                 **{"networks-0-network_query": "Introuvable"}).get_data(as_text=True)
    assert "Aucune fiche publiée ne correspond à ce nom." in page and 'value="Introuvable"' in page


def test_a_network_is_chosen_and_the_holder_cannot_be_its_own_partner(app, member_client, network):
    response = submit(member_client, "/mon-espace/inscrire", ACTOR_FORM)
    assert response.status_code == 302
    actor = the_actor(app, "Association Puits du Sahel")
    url = f"/mon-espace/fiches/{actor.id}/modifier"
    page = member_client.get(url).get_data(as_text=True)
    page = press(member_client, url, page, "add_network").get_data(as_text=True)
    page = press(member_client, url, page, "networks-0-find",
                 **{"networks-0-network_query": "Horizons"}).get_data(as_text=True)
    assert 'value="horizons-solidaires"' in page
    page = press(member_client, url, page, "add_partnership",
                 **{"networks-0-network": "horizons-solidaires", "networks-0-since": "1998"}
                 ).get_data(as_text=True)
    assert re.search(r'name="networks-0-network" [^>]*value="horizons-solidaires" checked', page)
    response = press(member_client, url, page, "submit",
                     **{"partnerships-0-kind": "partenariat", "partnerships-0-partners-0-name": "Nous",
                        "partnerships-0-partners-0-country": "France", "partnerships-0-partners-0-actor": actor.slug})
    page = response.get_data(as_text=True)
    assert "le partenaire ne peut pas être la fiche elle-même" in field_error(
        page, "partnerships-0-partners-0-actor_query")
    response = press(member_client, url, page, "partnerships-0-remove")
    response = press(member_client, url, response.get_data(as_text=True), "submit")
    assert response.status_code == 302
    with app.app_context():
        assert actor_input(db.session.get(Actor, actor.id)).networks == [
            {"network": "horizons-solidaires", "since": 1998}]


def test_the_coordinators_form_has_the_rows_filled(app, coordinator_client, network):
    actor_id = add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93", postcode="93170",
                         partnerships=[TWINNING], networks="horizons-solidaires:1998")
    url = f"/moderation/acteurs/{actor_id}"
    page = coordinator_client.get(url).get_data(as_text=True)
    assert 'value="Sesto Fiorentino"' in page and 'value="Italie"' in page and 'value="1962"' in page
    assert re.search(r'name="networks-0-network" [^>]*value="horizons-solidaires" checked', page)
    assert "Horizons Solidaires (Caen)" in page
    response = press(coordinator_client, url, page, "submit", **{"partnerships-0-status": "terminee",
                                                                 "partnerships-0-end": "2001"})
    assert response.status_code == 302, text(response)[:3000]
    with app.app_context():
        (partnership,) = actor_input(db.session.get(Actor, actor_id)).partnerships
    assert (partnership["status"], partnership["end"]) == ("terminee", "2001")
    history = text(coordinator_client.get(f"/moderation/acteurs/{actor_id}/historique"))
    assert "Jumelage avec Sesto Fiorentino (Italie), 1962–2001 (terminée) — statut : Active → Terminée; " \
           "fin : — → 2001" in history


def test_the_request_page_shows_a_readable_diff(app, member_client, coordinator_client, network):
    submit(member_client, "/mon-espace/inscrire", ACTOR_FORM)
    request = open_request(app, "new")
    submit(coordinator_client, f"/moderation/demandes/{request.id}/accepter", {},
           form_url=f"/moderation/demandes/{request.id}")
    actor = the_actor(app, "Association Puits du Sahel")
    url = f"/mon-espace/fiches/{actor.id}/modifier"
    page = member_client.get(url).get_data(as_text=True)
    page = press(member_client, url, page, "add_partnership").get_data(as_text=True)
    page = press(member_client, url, page, "add_network").get_data(as_text=True)
    response = press(member_client, url, page, "submit", **{
        "partnerships-0-kind": "jumelage", "partnerships-0-start": "1962",
        "partnerships-0-partners-0-name": "Sesto Fiorentino", "partnerships-0-partners-0-country": "Italie",
        "networks-0-network": "horizons-solidaires", "networks-0-since": "1998"})
    assert response.status_code == 302, text(response)[:2000]
    change = open_request(app, "change")
    detail = coordinator_client.get(f"/moderation/demandes/{change.id}")
    body = text(detail)
    assert "+ Ajouté : Jumelage avec Sesto Fiorentino (Italie), depuis 1962" in body
    assert "+ Ajouté : Horizons Solidaires, depuis 1998" in body
    assert "{" not in body.split("Modifications proposées")[1]  # no dict dump
    submit(coordinator_client, f"/moderation/demandes/{change.id}/accepter", {},
           form_url=f"/moderation/demandes/{change.id}")
    # the member ends it and leaves the network: the next request says so
    page = member_client.get(url).get_data(as_text=True)
    page = press(member_client, url, page, "networks-0-remove").get_data(as_text=True)
    response = press(member_client, url, page, "submit", **{"partnerships-0-status": "terminee",
                                                            "partnerships-0-end": "2001"})
    assert response.status_code == 302, text(response)[:2000]
    change = open_request(app, "change")
    body = text(coordinator_client.get(f"/moderation/demandes/{change.id}"))
    assert "− Retiré : Horizons Solidaires, depuis 1998" in body
    assert "~ Modifié : Jumelage avec Sesto Fiorentino (Italie), 1962–2001 (terminée) — " \
           "statut : Active → Terminée; fin : — → 2001" in body


def jsonld_of(page: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def test_the_actor_page_shows_a_timeline_with_links(app, client, network):
    maison = add_actor(app, name="Maison de l'Europe de Nantes", kind="reseau", town="Nantes", department="44")
    add_actor(app, name="Comité en attente", town="Lyon", department="69", status="pending")
    actor_id = add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93", postcode="93170",
                         founded="1900", countries="Mali", networks="horizons-solidaires:1998;maison-de-l-europe-de-nantes",
                         partnerships=[
                             {"kind": "cooperation", "partners": [{"name": "Chatila", "country": "Liban"}]},
                             {"kind": "jumelage", "start": "1989", "end": "2001", "status": "terminee",
                              "partners": [{"name": "Oranienburg", "country": "DE"}]},
                             TWINNING,
                             {"kind": "partenariat", "start": "2010", "status": "suspendue",
                              "partners": [{"name": "Maison", "country": "FR", "locality": "Nantes",
                                            "actor": "maison-de-l-europe-de-nantes"}]}])
    slug = the_actor(app, "Ville de Bagnolet").slug
    response = client.get(f"/acteurs/{slug}")
    page = response.get_data(as_text=True)
    body = squash(text(response))
    timeline = body.split("Partenariats et jumelages")[1]
    order = [timeline.index(name) for name in ("Sesto Fiorentino", "Oranienburg", "Maison (Nantes", "Chatila")]
    assert order == sorted(order)  # by start, unknown last
    assert "depuis 1962" in timeline and "1989–2001" in timeline and "Date inconnue" in timeline
    assert "Terminée" in timeline and "Suspendue" in timeline
    assert 'href="/partenariats?country=IT"' in page and 'href="/partenariats?country=LB"' in page
    assert '<a href="/acteurs/maison-de-l-europe-de-nantes">Maison</a>' in page
    assert "Membre des réseaux" in body and "depuis 1998" in body
    assert 'href="/acteurs/horizons-solidaires">Horizons Solidaires</a>' in page
    data = jsonld_of(page)
    assert data["foundingDate"] == "1900"
    assert {m["name"] for m in data["memberOf"]} == {"Horizons Solidaires", "Maison de l'Europe de Nantes"}
    assert all(m["url"].endswith("/acteurs/" + s) for m, s in zip(
        sorted(data["memberOf"], key=lambda m: m["name"]), ["horizons-solidaires", "maison-de-l-europe-de-nantes"]))
    served = {(p["@type"], p["name"]) for p in data["areaServed"]}
    assert {("Country", "Mali"), ("Country", "Italie"), ("Country", "Liban"), ("Place", "Sesto Fiorentino"),
            ("Place", "Chatila"), ("Place", "Nantes")} <= served
    # the partner's page: « partenaire de »; the networks' pages: their members
    body = squash(text(client.get("/acteurs/maison-de-l-europe-de-nantes")))
    assert "Partenaire de Ville de Bagnolet (Bagnolet) — Partenariat, depuis 2010 Suspendue" in body
    assert "1 membre du réseau" in body and "Ville de Bagnolet" in body
    body = text(client.get("/acteurs/horizons-solidaires"))
    assert "1 membre du réseau Ville de Bagnolet (depuis 1998)" in body
    assert maison and actor_id


def test_an_unpublished_partner_is_not_linked(app, client):
    add_actor(app, name="Comité de Sesto", town="Rouen", department="76")
    add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93", postcode="93170",
              partnerships=[{**TWINNING, "partners": [{"name": "Comité", "country": "FR",
                                                       "actor": "comite-de-sesto"}]}])
    with app.app_context():
        db.session.scalar(select(Actor).where(Actor.slug == "comite-de-sesto")).status = "archived"
        db.session.commit()
    page = client.get(f"/acteurs/{the_actor(app, 'Ville de Bagnolet').slug}").get_data(as_text=True)
    assert "Comité" in page and 'href="/acteurs/comite-de-sesto"' not in page


def test_a_big_network_shows_fifty_members_and_links_to_the_search(app, client, network):
    with app.app_context():
        from conftest import new_actor
        from repertoire.validation import Vocabulary
        vocab = Vocabulary(db.session)
        for n in range(53):
            new_actor(vocab, name=f"Membre {n:02d}", networks="horizons-solidaires")
        new_actor(vocab, name="Membre en attente", networks="horizons-solidaires", status="pending")
        db.session.commit()
        assert db.session.query(Membership).count() == 54
    response = client.get("/acteurs/horizons-solidaires")
    body, page = text(response), response.get_data(as_text=True)
    assert "53 membres du réseau" in body
    assert "Membre 00" in body and "Membre 49" in body and "Membre 50" not in body
    assert "Membre en attente" not in body
    assert 'href="/?network=horizons-solidaires">Voir les 53 membres dans la recherche' in page


def test_a_forged_choice_of_an_unpublished_actor_is_refused_without_showing_it(app, member_client):
    add_actor(app, name="Comité secret en attente", town="Lyon", department="69", status="pending")
    url = "/mon-espace/inscrire"
    page = member_client.get(url).get_data(as_text=True)
    response = press(member_client, url, page, "submit", **{
        **{k: v for k, v in ACTOR_FORM.items() if k != "submit"},
        "partnerships-0-kind": "partenariat", "partnerships-0-partners-0-name": "Comité",
        "partnerships-0-partners-0-country": "France",
        "partnerships-0-partners-0-actor": "comite-secret-en-attente",
        "networks-0-network": "comite-secret-en-attente"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "aucune fiche « comite-secret-en-attente »" in field_error(page, "partnerships-0-partners-0-actor_query")
    assert "réseau inconnu" in field_error(page, "networks-0-network_query")
    assert "Comité secret en attente" not in page
    # nor does « Chercher » propose it
    page = press(member_client, url, page, "networks-0-find",
                 **{"networks-0-network_query": "Comité secret"}).get_data(as_text=True)
    assert "Comité secret en attente" not in page


def test_hostile_numbers_of_rows_are_capped(app, member_client):
    url = "/mon-espace/inscrire"
    page = member_client.get(url).get_data(as_text=True)
    rows = {f"partnerships-{i}-partners-{j}-name": "x" for i in range(0, 600, 7) for j in range(0, 400, 13)}
    rows.update({f"networks-{i}-since": "1990" for i in range(0, 5000, 3)})
    response = press(member_client, url, page, "add_partnership", **rows)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="partnerships-49-kind"' in page and 'name="partnerships-50-kind"' not in page
    assert 'name="partnerships-0-partners-19-name"' in page and 'name="partnerships-0-partners-20-name"' not in page
    assert 'name="networks-99-since"' in page and 'name="networks-100-since"' not in page
    response = press(member_client, url, page, "submit")
    assert response.status_code == 200 and "partenariat 50 : le type de partenariat est obligatoire" in text(response)


def test_the_history_names_a_change_of_order(app, coordinator_client):
    from conftest import edit_actor
    other = {"kind": "amitie", "partners": [{"name": "Akbou", "country": "DZ"}]}
    actor_id = add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93",
                         postcode="93170", partnerships=[TWINNING, other])
    with app.app_context():
        first, second = actor_input(db.session.get(Actor, actor_id)).partnerships
    assert edit_actor(app, actor_id, partnerships=[second, first])
    body = text(coordinator_client.get(f"/moderation/acteurs/{actor_id}/historique"))
    assert "~ Modifié : mêmes partenariats, dans un autre ordre" in body
