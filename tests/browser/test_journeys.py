"""The three journeys of the brief, each with the mouse and with the keyboard only."""
import re

import pytest

from web import last_mail, link_in

from .conftest import PASSWORD, shot
from .driving import Person, values_in

MODES = ["mouse", "keyboard"]


def results_heading(page) -> str:
    return " ".join(page.locator("#results-title").inner_text().split())


@pytest.mark.parametrize("mode", MODES)
def test_citizen_searches_by_country_narrows_opens_an_actor_and_comes_back(new_page, mode):
    page = new_page()
    person = Person(page, mode)
    person.goto("/")
    person.fill(page.locator("#f-intervention"), "Sénégal")
    if mode == "keyboard":
        page.keyboard.press("Enter")
    else:
        person.click(page.get_by_role("button", name="Rechercher", exact=True))
    page.wait_for_url(re.compile(r"intervention=S"))
    everyone = results_heading(page)
    assert re.match(r"\d+ acteurs trouvés", everyone)
    shot(page, f"citizen-{mode}-1-country")

    # two facets, applied in place: no page load, the address follows
    page.evaluate("window.stillTheSamePage = true")
    domain = page.locator("#facette-domain input[type=checkbox]").first
    person.click(domain)
    page.wait_for_url(re.compile(r"domain="))
    activity = page.locator("#facette-activity input[type=checkbox]").first
    activity_value = activity.get_attribute("value")
    person.click(activity)
    page.wait_for_url(re.compile(r"activity="))
    assert page.evaluate("window.stillTheSamePage === true"), "the facets reloaded the whole page"
    narrowed = results_heading(page)
    assert narrowed != everyone
    filtered_url = page.url
    assert len(values_in(filtered_url, "domain")) == 1 and values_in(filtered_url, "activity") == [activity_value]
    assert page.locator("#facette-activity input:checked").count() == 1
    assert page.locator("#search-status").inner_text() == narrowed  # told to screen readers
    shot(page, f"citizen-{mode}-2-facets")

    # the URL is shareable: another visitor opening it sees the same search
    other = new_page()
    other.goto(filtered_url)
    assert results_heading(other) == narrowed and other.locator("#facette-domain input:checked").count() == 1

    first = page.locator(".result-list .card-title a").first
    name = first.inner_text()
    person.click(first)
    page.wait_for_url(re.compile(r"/acteurs/"))
    assert page.locator("h1").inner_text() == name
    shot(page, f"citizen-{mode}-3-actor")

    if mode == "keyboard":
        person.click(page.get_by_role("link", name="← Retour à la recherche"))
    else:
        page.go_back()
    page.wait_for_url(filtered_url)
    assert results_heading(page) == narrowed
    assert page.locator("#facette-activity input:checked").get_attribute("value") == activity_value
    assert page.locator("#f-intervention").input_value() == "Sénégal"
    shot(page, f"citizen-{mode}-4-back")


ENTRIES = {
    "mouse": {"name": "Les Amis de Kayes", "town": "Caen", "postcode": "14000", "department": "Calvados (14)",
              "country": "Mali", "itown": "Kayes", "email": "amis-kayes@example.org", "website": "amis-kayes.example.org"},
    "keyboard": {"name": "Jardins de Ouahigouya", "town": "Rouen", "postcode": "76000",
                 "department": "Seine-Maritime (76)", "country": "Burkina Faso", "itown": "Ouahigouya",
                 "email": "jardins-ouahigouya@example.org", "website": "jardins-ouahigouya.example.org"},
}


@pytest.mark.parametrize("mode", MODES)
def test_association_registers_then_a_coordinator_publishes_it(new_page, live, mode):
    entry = ENTRIES[mode]
    page = new_page()
    person = Person(page, mode)

    # sign up and confirm by the link of the mail
    person.goto("/")
    person.click(page.get_by_role("link", name="Inscrire mon association"))
    person.fill(page.locator("#email"), entry["email"])
    person.fill(page.locator("#password"), "une phrase de passe")
    person.fill(page.locator("#confirm"), "une phrase de passe")
    shot(page, f"association-{mode}-1-signup")
    person.click(page.get_by_role("button", name="Créer mon compte"))
    page.get_by_role("heading", name="Consultez votre messagerie").wait_for()
    page.goto(link_in(last_mail(live.app, entry["email"])))
    page.wait_for_url(re.compile(r"/compte/connexion$"))  # the link confirms; the member then logs in
    assert "Votre adresse est confirmée" in page.locator(".flashes").inner_text()
    person.fill(page.locator("#email"), entry["email"])
    person.fill(page.locator("#password"), "une phrase de passe")
    person.click(page.locator("main").get_by_role("button", name="Se connecter"))
    page.wait_for_url(re.compile(r"/mon-espace$"))

    # the entry, with a mistake in the website
    person.click(page.get_by_role("link", name="Inscrire une structure"))
    person.fill(page.locator("#name"), entry["name"])
    person.choose(page.locator("#kind"), "Association")
    person.fill(page.locator("#town"), entry["town"])
    person.fill(page.locator("#postcode"), entry["postcode"])
    person.choose(page.locator("#department"), entry["department"])
    person.fill(page.locator("#countries-0"), entry["country"])
    person.fill(page.locator("#intervention_towns-0"), entry["itown"])
    person.click(page.get_by_label("Eau et assainissement"))
    person.click(page.get_by_label("Projets de développement"))
    person.fill(page.locator("#description"), "Puits et jardins maraîchers avec les villages partenaires.")
    person.fill(page.locator("#website"), "pas un site")
    person.click(page.get_by_role("button", name="Envoyer ma fiche"))

    summary = page.locator("#erreurs")
    summary.wait_for()
    assert "adresse de site invalide" in summary.inner_text()
    shot(page, f"association-{mode}-2-error")
    # nothing typed is lost
    assert page.locator("#name").input_value() == entry["name"]
    assert page.locator("#countries-0").input_value() == entry["country"]
    assert page.locator("#intervention_towns-0").input_value() == entry["itown"]
    assert page.get_by_label("Eau et assainissement").is_checked()
    assert page.locator("#department option:checked").inner_text() == entry["department"]
    # the summary links to the field
    person.click(summary.get_by_role("link"))
    assert page.evaluate("document.activeElement.id") == "website"
    person.fill(page.locator("#website"), entry["website"])
    person.click(page.get_by_role("button", name="Envoyer ma fiche"))
    page.wait_for_url(re.compile(r"/mon-espace(#\w+)?$"))  # a redirect keeps the #website of the summary link
    assert "Votre fiche a été envoyée" in page.locator("main").inner_text()
    shot(page, f"association-{mode}-3-sent")

    # not public yet
    visitor = new_page()
    visitor.goto("/?name=" + entry["name"])
    assert results_heading(visitor) == "Aucun acteur trouvé"

    # a coordinator approves it
    coordinator = new_page()
    staff = Person(coordinator, mode)
    staff.goto("/compte/connexion")
    staff.fill(coordinator.locator("#email"), "coordination@example.org")
    staff.fill(coordinator.locator("#password"), PASSWORD)
    staff.click(coordinator.locator("main").get_by_role("button", name="Se connecter"))
    staff.click(coordinator.get_by_role("link", name="Modération"))
    shot(coordinator, f"association-{mode}-4-queue")
    staff.click(coordinator.get_by_role("link", name=re.compile(re.escape(entry["name"]))))
    assert entry["name"] in coordinator.locator("main").inner_text()
    shot(coordinator, f"association-{mode}-5-request")
    staff.click(coordinator.get_by_role("button", name="Accepter"))
    coordinator.wait_for_url(re.compile(r"/moderation/?$"))
    assert "Demande acceptée" in coordinator.locator(".flashes").inner_text()

    # and it appears in search
    visitor.goto("/?name=" + entry["name"])
    assert results_heading(visitor) == "1 acteur trouvé"
    assert visitor.locator(".result-list .card-title a").inner_text() == entry["name"]
    shot(visitor, f"association-{mode}-6-published")
