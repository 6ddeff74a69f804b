"""Issue 17, points 4 and 7 in a browser: report an error without an account, the owner's « Modifier »,
the legal pages and account deletion, with axe-core at zero serious or critical."""
import re

from sqlalchemy import select

from conftest import add_actor, add_user
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest, User

from .conftest import PASSWORD, shot
from .test_accessibility import axe_violations, log_in


def published_slug(app, name):
    actor_id = add_actor(app, name=name, town="Caen", postcode="14000", department="14")
    with app.app_context():
        return actor_id, db.session.get(Actor, actor_id).slug


def test_a_visitor_reports_an_error_without_an_account(new_page, live):
    _, slug = published_slug(live.app, "Association Témoin du Signalement")
    page = new_page()
    page.goto(f"/acteurs/{slug}")
    page.get_by_role("link", name="Signaler une erreur").click()
    page.wait_for_url(re.compile(r"/signaler$"))
    assert axe_violations(page) == []
    page.get_by_label("Ce qui est inexact ou manque").fill("Le siège est désormais à Bayeux.")
    page.get_by_label("Votre adresse électronique (facultatif)").fill("lecteur@example.org")
    shot(page, "report-form")
    page.get_by_role("button", name="Envoyer le signalement").click()
    page.wait_for_url(re.compile(rf"/acteurs/{slug}$"))
    assert "Votre signalement a été transmis" in page.locator(".flashes").inner_text()
    with live.app.app_context():
        report = db.session.scalar(select(ChangeRequest).where(ChangeRequest.kind == "report",
                                                               ChangeRequest.email == "lecteur@example.org"))
        assert report.message == "Le siège est désormais à Bayeux." and report.status == "open"
    coordinator = new_page()  # the coordinator reads it in the queue and closes it
    log_in(coordinator)
    coordinator.goto(f"/moderation/demandes/{report.id}")
    assert "Le siège est désormais à Bayeux." in coordinator.locator("main").inner_text()
    assert axe_violations(coordinator) == []
    coordinator.get_by_role("button", name="Clôturer le signalement").click()
    coordinator.wait_for_url(re.compile(r"/moderation/$"))
    with live.app.app_context():
        assert db.session.get(ChangeRequest, report.id).status == "closed"


def test_the_owner_sees_modifier_and_reaches_their_edit_page(new_page, live):
    actor_id, slug = published_slug(live.app, "Association Témoin du Propriétaire")
    add_user(live.app, "proprietaire-navigateur@example.org", password=PASSWORD)
    with live.app.app_context():
        db.session.get(Actor, actor_id).owner_id = db.session.scalar(
            select(User.id).where(User.email == "proprietaire-navigateur@example.org"))
        db.session.commit()
    visitor = new_page()
    visitor.goto(f"/acteurs/{slug}")
    assert visitor.get_by_role("link", name="Modifier", exact=True).count() == 0
    page = new_page()
    log_in(page, "proprietaire-navigateur@example.org")
    page.goto(f"/acteurs/{slug}")
    shot(page, "actor-owner-actions")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Modifier", exact=True).click()
    page.wait_for_url(re.compile(rf"/mon-espace/fiches/{actor_id}/modifier$"))
    assert page.locator("#name").input_value() == "Association Témoin du Propriétaire"


def test_legal_pages_are_in_every_footer_and_have_no_serious_violation(new_page):
    page = new_page()
    page.goto("/")
    found = {}
    for name in ("Mentions légales", "Données personnelles", "Accessibilité : partiellement conforme"):
        page.locator(".site-footer").get_by_role("link", name=name).click()
        page.wait_for_load_state()
        shot(page, "legal-" + re.sub(r"\W+", "-", name.lower()))
        found[name] = axe_violations(page)
    assert {name: v for name, v in found.items() if v} == {}


def test_a_member_downloads_their_data_then_deletes_their_account(new_page, live):
    add_user(live.app, "partante@example.org", password=PASSWORD)
    page = new_page()
    log_in(page, "partante@example.org")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger mes données").click()
    assert "partante@example.org" in open(download.value.path(), encoding="utf-8").read()
    page.get_by_role("link", name="Supprimer mon compte").click()
    page.wait_for_url(re.compile(r"/compte/supprimer$"))
    assert axe_violations(page) == []
    page.get_by_label("Votre mot de passe, pour confirmer").fill(PASSWORD)
    page.get_by_role("button", name="Supprimer définitivement mon compte").click()
    page.wait_for_url(re.compile(r"/$"))
    assert "Votre compte a été supprimé" in page.locator(".flashes").inner_text()
    assert page.get_by_role("link", name="Se connecter").count() == 1
    with live.app.app_context():
        assert db.session.scalar(select(User).where(User.email == "partante@example.org")) is None


def test_new_pages_fit_a_phone(new_page, live):
    _, slug = published_slug(live.app, "Association Témoin du Téléphone")
    page = new_page(width=375, height=740)
    for url in (f"/acteurs/{slug}", f"/acteurs/{slug}/signaler", "/mentions-legales", "/confidentialite",
                "/accessibilite"):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px"
    shot(page, "legal-375-accessibilite")
