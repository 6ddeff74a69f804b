"""Coordinators' toolbox: taxonomy, duplicates, back-office import, freshness, statistics, embedding."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from conftest import add_actor, add_user, login
from repertoire.extensions import db
from repertoire.models import Actor, Domain, Revision, utcnow
from web import csrf_token, last_mail, link_in, outbox, submit, text

HEADER = "name,acronym,kind,town,postcode,department,countries,intervention_towns,domains,activities,description,website,email,phone"


def total(client, query):
    return client.get("/api/actors?" + query).get_json()["total"]


def term(app, slug):
    with app.app_context():
        return db.session.scalar(select(Domain).where(Domain.slug == slug))


# -- taxonomy --------------------------------------------------------------

def test_taxonomy_page_shows_counts(app, coordinator_client):
    add_actor(app, name="Eau Vive Caen", domains="eau")
    add_actor(app, name="Eau Claire Caen", domains="eau;sante", status="pending")
    page = coordinator_client.get("/moderation/taxonomie").get_data(as_text=True)
    assert re.search(r'<code>eau</code></td>\s*<td><a href="/\?domain=eau">1</a> / 2</td>', page)


def test_add_rename_keeps_slug_and_reindexes(app, coordinator_client):
    add_actor(app, name="Forages du Nord", domains="eau")
    submit(coordinator_client, "/moderation/taxonomie/domain/ajouter", {"label": "Numérique solidaire"},
           form_url="/moderation/taxonomie")
    assert term(app, "numerique-solidaire").label == "Numérique solidaire"
    eau = term(app, "eau")
    submit(coordinator_client, f"/moderation/taxonomie/domain/{eau.id}/renommer", {"label": "Accès à l'eau potable"},
           form_url="/moderation/taxonomie")
    public = app.test_client()
    facet = public.get("/api/actors").get_json()["facets"]["domain"]
    assert {"value": "eau", "label": "Accès à l'eau potable", "count": 1} in facet
    assert total(public, "q=potable") == 1  # the new label is searchable


def test_reorder_changes_the_form_order(app, coordinator_client):
    eau = term(app, "eau")
    submit(coordinator_client, f"/moderation/taxonomie/domain/{eau.id}/monter", {}, form_url="/moderation/taxonomie")
    with app.app_context():
        order = list(db.session.scalars(select(Domain.slug).order_by(Domain.position)))
    assert order[:2] == ["eau", "agriculture"]


def test_merge_moves_every_actor_and_retires_the_source(app, coordinator_client):
    add_actor(app, name="Urgence Haïti", domains="urgence")
    add_actor(app, name="Risques et Urgence", domains="urgence;risques")
    urgence, risques = term(app, "urgence"), term(app, "risques")
    submit(coordinator_client, f"/moderation/taxonomie/domain/{urgence.id}/fusionner", {"target": risques.id},
           form_url="/moderation/taxonomie")
    public = app.test_client()
    assert total(public, "domain=urgence") == 0
    assert total(public, "domain=risques") == 2
    assert term(app, "urgence").retired
    member = add_user(app, "m@example.org")
    client = app.test_client()
    login(client, "m@example.org")
    form = client.get("/mon-espace/inscrire").get_data(as_text=True)
    assert 'value="risques"' in form and 'value="urgence"' not in form


def test_retired_value_is_no_longer_offered_but_still_filters(app, coordinator_client):
    add_actor(app, name="Tourisme Équitable", domains="tourisme")
    tourisme = term(app, "tourisme")
    submit(coordinator_client, f"/moderation/taxonomie/domain/{tourisme.id}/retirer", {}, form_url="/moderation/taxonomie")
    add_user(app, "m@example.org")
    client = app.test_client()
    login(client, "m@example.org")
    assert 'value="tourisme"' not in client.get("/mon-espace/inscrire").get_data(as_text=True)
    assert total(app.test_client(), "domain=tourisme") == 1


# -- duplicates ------------------------------------------------------------

def test_duplicate_report_and_not_a_duplicate_is_remembered(app, coordinator_client):
    a = add_actor(app, name="Association Solidarité Bénin Caen", email="contact@benin.example.org")
    b = add_actor(app, name="Solidarite Benin Caen", town="Caen", email="contact@benin.example.org")
    add_actor(app, name="Tout Autre Chose", town="Rouen", postcode="76000", department="76")
    report = text(coordinator_client.get("/moderation/doublons"))
    assert "Solidarite Benin Caen" in report and "noms proches" in report and "même adresse électronique" in report
    assert "Tout Autre Chose" not in report
    submit(coordinator_client, f"/moderation/doublons/{min(a, b)}/{max(a, b)}/ignorer", {}, form_url="/moderation/doublons")
    assert "Aucun doublon probable." in text(coordinator_client.get("/moderation/doublons"))


def test_merge_chooses_field_by_field_keeps_both_histories_and_redirects(app, coordinator_client):
    a = add_actor(app, name="Amitiés Caen-Thiès", countries="SN", intervention_towns="Thiès", domains="culture",
                  phone="02 31 00 00 01")
    b = add_actor(app, name="Amities Caen Thies", countries="SN;GM", intervention_towns="Banjul",
                  domains="education", website="https://amities.example.org")
    old_slug = the_slug(app, b)
    page = coordinator_client.get(f"/moderation/doublons/{a}/{b}")
    token = csrf_token(page.get_data(as_text=True))
    response = coordinator_client.post(f"/moderation/doublons/{a}/{b}", data={
        "csrf_token": token, "keep": "a", "choice-name": "a", "choice-countries": "b",
        "choice-intervention_towns": "both", "choice-domains": "both", "choice-website": "b", "choice-phone": "a"})
    assert response.status_code == 302
    public = app.test_client()
    body = public.get(f"/api/actors/{a}").get_json()
    assert body["name"] == "Amitiés Caen-Thiès"
    assert body["countries"] == ["SN", "GM"]
    assert body["intervention_towns"] == ["Thiès", "Banjul"]
    assert body["domains"] == ["education", "culture"]
    assert body["website"] == "https://amities.example.org" and body["phone"] == "02 31 00 00 01"
    redirect = public.get(f"/acteurs/{old_slug}")
    assert redirect.status_code == 301 and redirect.headers["Location"].endswith(f"/acteurs/{body['slug']}")
    assert public.get(f"/api/actors/{b}").status_code == 301
    assert total(public, "q=amities") == 1
    with app.app_context():
        actions_b = [r.action for r in db.session.scalars(select(Revision).where(Revision.actor_id == b))]
    assert actions_b[-1] == "merged-away" and len(actions_b) >= 2
    assert "fusion" in text(coordinator_client.get(f"/moderation/acteurs/{a}/historique"))
    assert coordinator_client.get(f"/moderation/acteurs/{b}/historique").status_code == 200


def the_slug(app, actor_id):
    with app.app_context():
        return db.session.get(Actor, actor_id).slug


# -- import and export from the back-office --------------------------------

def upload(client, content: str, filename="acteurs.csv"):
    import io
    page = client.get("/moderation/import").get_data(as_text=True)
    return client.post("/moderation/import", data={"csrf_token": csrf_token(page),
                                                   "file": (io.BytesIO(content.encode("utf-8")), filename)},
                       content_type="multipart/form-data")


def test_back_office_import_reports_then_imports_on_confirmation(app, coordinator_client):
    add_actor(app, name="Déjà Là", town="Caen")
    bad = (HEADER + "\nNouvelle Asso,,association,Caen,14000,14,ML,,eau,,,,,\n"
           "Déjà Là,,association,Caen,14000,14,SN,,,,,,,\n"
           "X,,association,Caen,14000,99,,,,,,,,\n")
    report = upload(coordinator_client, bad)
    body = text(report)
    assert "3 lignes lues" in body and "1 fiche à créer" in body and "1 fiche existante à mettre à jour" in body
    assert "1 ligne invalide" in body and "département inconnu « 99 »" in body
    assert re.search(r"<td>4</td><td>X</td><td>refusée</td><td>name : le nom doit", report.get_data(as_text=True))
    assert "Confirmer l'import" not in body
    assert total(app.test_client(), "") == 1
    good = HEADER + "\nNouvelle Asso,,association,Caen,14000,14,ML,,eau,,,,,\nDéjà Là,,association,Caen,14000,14,SN,,,,,,,\n"
    report = upload(coordinator_client, good)
    token = re.search(r'action="/moderation/import/([^"]+)"', report.get_data(as_text=True)).group(1)
    assert total(app.test_client(), "") == 1  # nothing before confirmation
    done = submit(coordinator_client, f"/moderation/import/{token}", {}, form_url="/moderation/import")
    assert done.status_code == 302
    public = app.test_client()
    assert total(public, "") == 2 and total(public, "country=SN") == 1
    assert "1 fiche créée, 1 mise à jour, 0 inchangée." in text(coordinator_client.get("/moderation/import"))


def test_upload_type_is_checked(app, coordinator_client):
    response = upload(coordinator_client, "hello", filename="virus.exe")
    assert response.status_code == 400 and "Seuls les fichiers .csv, .xlsx et .json" in text(response)


def test_export_json_of_a_search(app):
    add_actor(app, name="Mali Export", countries="ML")
    add_actor(app, name="Autre Export", countries="SN")
    response = app.test_client().get("/export.json?country=ML")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert [a["name"] for a in json.loads(response.get_data(as_text=True))] == ["Mali Export"]


# -- freshness -------------------------------------------------------------

def make_stale(app, actor_id, days=400):
    with app.app_context():
        db.session.execute(update(Actor).where(Actor.id == actor_id).values(confirmed_at=utcnow() - timedelta(days=days)))
        db.session.commit()


def test_stale_entries_are_listed_and_owners_reminded_once(app, coordinator_client, runner):
    owner = add_user(app, "owner@example.org")
    stale = add_actor(app, name="Vieille Fiche")
    orphan = add_actor(app, name="Fiche Orpheline")
    fresh = add_actor(app, name="Fiche Récente")
    with app.app_context():
        db.session.get(Actor, stale).owner_id = owner
        db.session.commit()
    make_stale(app, stale)
    make_stale(app, orphan)
    listing = text(coordinator_client.get("/moderation/fraicheur"))
    assert "Vieille Fiche" in listing and "Fiche Orpheline" in listing and "Fiche Récente" not in listing
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0 and "1 rappel envoyé ; 1 fiche ancienne sans responsable" in result.output
    mail = last_mail(app, "owner@example.org")
    assert "toujours exacte" in mail["Subject"]
    again = runner.invoke(args=["remind"])
    assert "0 rappel envoyé" in again.output  # not twice within a month
    link = link_in(mail)
    assert link.startswith("http://127.0.0.1:5000/")
    path = link.replace("http://127.0.0.1:5000", "")
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Oui, elle est toujours exacte" in text(page)
    make_stale(app, stale)  # a GET changes nothing
    assert "Vieille Fiche" in text(coordinator_client.get("/moderation/fraicheur"))
    done = visitor.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert "confirmée pour un an" in text(done)
    assert "Vieille Fiche" not in text(coordinator_client.get("/moderation/fraicheur"))
    assert "Informations confirmées le" in text(visitor.get(f"/acteurs/{the_slug(app, stale)}"))
    assert visitor.get(path.replace("toujours-exacte/", "toujours-exacte/x")).status_code == 302


# -- statistics, dashboard, embedding --------------------------------------

def test_public_statistics_with_a_server_side_world_map(app):
    add_actor(app, name="Stat Un", countries="ML;SN", domains="eau")
    add_actor(app, name="Stat Deux", countries="ML", domains="sante", department="76", town="Rouen",
              postcode="76000")
    page = app.test_client().get("/statistiques")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in body and "<script" not in body.split("<svg", 1)[1]
    assert re.search(r'<a href="/\?country=ML" aria-label="Mali : 2 acteurs">', body)
    assert 'href="/?domain=eau"' in body and 'href="/?department=76"' in body and 'href="/?kind=association"' in body
    assert "http" not in re.sub(r'(xmlns="http://www.w3.org/2000/svg"|https?://schema.org)', "", body.split("<svg", 1)[1].split("</svg>")[0])


def test_dashboard_figures(app, coordinator_client):
    add_user(app, "m@example.org")
    member = app.test_client()
    login(member, "m@example.org")
    from web import ACTOR_FORM
    submit(member, "/mon-espace/inscrire", ACTOR_FORM)
    stale = add_actor(app, name="Ancienne")
    make_stale(app, stale)
    page = text(coordinator_client.get("/moderation/tableau-de-bord"))
    assert "1 demande en attente" in page and "1 fiche à vérifier" in page
    month = utcnow().strftime("%Y-%m")
    assert re.search(rf"{month} 1 1", page)


def test_embed_page_is_compact_framable_and_keeps_its_filters(app):
    add_actor(app, name="Embed Mali", countries="ML")
    add_actor(app, name="Embed Sénégal", countries="SN")
    client = app.test_client()
    response = client.get("/embed?country=ML")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Embed Mali" in body and "Embed Sénégal" not in body
    assert "X-Frame-Options" not in response.headers
    assert '<input type="hidden" name="country" value="ML">' in body
    assert 'class="site-header"' not in body
    assert client.get("/").headers["X-Frame-Options"] == "DENY"
    assert "/embed?country=ML" in html_unescape(client.get("/?country=ML").get_data(as_text=True))


def html_unescape(s):
    import html
    return html.unescape(s)


def test_actor_page_carries_schema_org_organization(app):
    add_actor(app, name="Organisation Structurée", acronym="OS", countries="ML", domains="eau",
              website="https://os.example.org", email="contact@os.example.org")
    body = app.test_client().get("/acteurs/organisation-structuree").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S).group(1))
    assert data["@type"] == "Organization" and data["name"] == "Organisation Structurée"
    assert data["alternateName"] == "OS" and data["url"] == "https://os.example.org"
    assert data["address"]["addressLocality"] == "Caen" and data["address"]["postalCode"] == "14000"
    assert {"@type": "Country", "name": "Mali"} in data["areaServed"]
    assert data["knowsAbout"] == ["Eau et assainissement"]
