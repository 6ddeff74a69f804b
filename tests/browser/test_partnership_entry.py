"""Issue 14: a member adds a three-party twinning to their entry without JavaScript; a coordinator approves it;
the actor page shows it. axe on the form with rows and errors, the request's diff and the actor page."""
import re

from sqlalchemy import select

from conftest import add_user
from repertoire.extensions import db
from repertoire.models import Actor

from .conftest import PASSWORD, shot
from .test_accessibility import axe_violations, log_in

MEMBER = "jumelage@example.org"


def test_member_adds_a_three_party_twinning_and_a_coordinator_approves_it(new_page, live):
    add_user(live.app, MEMBER, password=PASSWORD)
    page = new_page(javascript=False)  # the rows work without JavaScript
    log_in(page, MEMBER)
    page.goto("/mon-espace/inscrire")
    page.fill("#name", "Comité de jumelage d'Hérouville")
    page.select_option("#kind", label="Comité de jumelage")
    page.fill("#town", "Hérouville-Saint-Clair")
    page.fill("#postcode", "14200")
    page.select_option("#department", label="Calvados (14)")
    page.fill("#countries-0", "Allemagne")

    page.get_by_role("button", name="Ajouter un partenariat").click()
    page.locator("#partnerships-0-kind").wait_for()
    assert page.locator("#name").input_value() == "Comité de jumelage d'Hérouville"  # nothing lost
    page.select_option("#partnerships-0-kind", label="Jumelage")
    page.fill("#partnerships-0-start", "1972")
    page.fill("#partnerships-0-end", "1965")  # a mistake
    page.fill("#partnerships-0-partners-0-name", "Oranienburg")
    page.fill("#partnerships-0-partners-0-country", "Allemagne")
    page.get_by_role("button", name="Ajouter un partenaire").click()
    page.fill("#partnerships-0-partners-1-name", "Massala")
    page.fill("#partnerships-0-partners-1-country", "Mali")
    page.get_by_role("button", name="Ajouter un partenaire").click()
    # the third partner is in the directory: looked up by name, chosen among the answers
    page.fill("#partnerships-0-partners-2-actor_query", "Bagnolet")
    page.locator("#partnerships-0-partners-2 [name$='-find']").click()
    page.get_by_label("Ville de Bagnolet (Bagnolet)").check()
    page.get_by_role("button", name="Ajouter un réseau").click()
    page.fill("#networks-0-network_query", "Horizons Solidaires")
    page.locator("#networks-0 [name$='-find']").click()
    page.get_by_label("Horizons Solidaires (Caen)").check()
    page.fill("#networks-0-since", "1998")
    shot(page, "partnership-1-rows")
    page.get_by_role("button", name="Envoyer ma fiche").click()

    page.locator("#erreurs").wait_for()
    assert "la fin (1965) précède le début (1972)" in page.locator("#partnerships-0-end-error").inner_text()
    assert page.locator("#partnerships-0-partners-1-name").input_value() == "Massala"
    assert page.locator("#partnerships-0-partners-2-actor-chosen").is_checked()
    shot(page, "partnership-2-error")  # (axe runs below, in a page with JavaScript)
    page.get_by_role("link", name=re.compile("la fin")).click()
    page.fill("#partnerships-0-end", "")
    page.get_by_role("button", name="Envoyer ma fiche").click()
    page.wait_for_url(re.compile(r"/mon-espace(#[\w-]+)?$"))
    assert "Votre fiche a été envoyée" in page.locator("main").inner_text()

    coordinator = new_page()
    log_in(coordinator)
    coordinator.goto("/moderation/")
    coordinator.get_by_role("link", name=re.compile("Comité de jumelage d'Hérouville")).click()
    main = " ".join(coordinator.locator("main").inner_text().split())
    assert "Jumelage avec Oranienburg (Allemagne), Massala (Mali) et Ville de Bagnolet (Bagnolet, France), " \
           "depuis 1972" in main
    assert "Horizons Solidaires, depuis 1998" in main
    assert axe_violations(coordinator) == []
    shot(coordinator, "partnership-3-request")
    coordinator.get_by_role("button", name="Accepter").click()
    coordinator.wait_for_url(re.compile(r"/moderation/?$"))

    visitor = new_page()
    visitor.goto("/?name=Hérouville")
    visitor.get_by_role("link", name="Comité de jumelage d'Hérouville").click()
    timeline = " ".join(visitor.locator("#s-partenariats + .timeline").inner_text().split())
    assert "depuis 1972" in timeline and "Oranienburg (Allemagne)" in timeline and "Massala (Mali)" in timeline
    assert visitor.get_by_role("link", name="Horizons Solidaires").count() == 1
    shot(visitor, "partnership-4-actor")
    assert axe_violations(visitor) == []
    visitor.locator(".timeline").get_by_role("link", name="Ville de Bagnolet").click()
    visitor.wait_for_url(re.compile(r"/acteurs/ville-de-bagnolet$"))
    assert "Comité de jumelage d'Hérouville" in visitor.locator("#s-partenaire-de").locator("..").inner_text()

    # the same form in the back office, with its rows filled, then with an error beside a row's field
    coordinator.goto(f"/moderation/acteurs/{actor_id(live.app, 'comite-de-jumelage-d-herouville')}")
    assert coordinator.locator("#partnerships-0-partners-2-actor-chosen").is_checked()
    assert axe_violations(coordinator) == []
    coordinator.fill("#partnerships-0-end", "1965")
    coordinator.get_by_role("button", name="Enregistrer").click()
    coordinator.locator("#partnerships-0-end-error").wait_for()
    shot(coordinator, "partnership-5-back-office-error")
    assert axe_violations(coordinator) == []


def actor_id(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Actor.id).where(Actor.slug == slug))
