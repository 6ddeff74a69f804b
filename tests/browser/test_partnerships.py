"""Issue 14 point 3: a citizen finds « jumelage avec l'Italie avant 1970 » in the Calvados on /partenariats
and opens the partner's page, with the mouse and with the keyboard only."""
import re

import pytest

from conftest import add_actor

from .conftest import shot
from .driving import Person


@pytest.fixture(scope="module")
def twinned(live):
    """A Calvados town twinned with an Italian town whose friendship committee is in the directory."""
    add_actor(live.app, name="Comitato Amici di Figline", town="Mondeville", department="14",
              description="Les amis de Figline Valdarno à Mondeville.")
    add_actor(live.app, name="Ville de Mondeville", kind="collectivite", town="Mondeville", postcode="14120",
              department="14", partnerships=[
                  {"kind": "jumelage", "start": "1966", "partners": [
                      {"name": "Figline Valdarno", "country": "IT", "locality": "Figline Valdarno",
                       "actor": "comitato-amici-di-figline"}]},
                  {"kind": "jumelage", "start": "1985", "partners": [
                      {"name": "Ringwood", "country": "GB", "locality": "Ringwood"}]}])


@pytest.mark.parametrize("mode", ["mouse", "keyboard"])
def test_citizen_finds_a_calvados_twinning_with_italy_before_1970_and_opens_the_partner(new_page, twinned, mode):
    page = new_page()
    person = Person(page, mode)
    person.goto("/partenariats?kind=jumelage&department=14")
    assert re.match(r"\d+ partenariats? trouvés?", page.locator("#results-title").inner_text())
    person.click(page.locator("#facette-country input[value=IT]"))
    person.fill(page.locator("#p-until"), "1969")
    person.click(page.get_by_role("button", name="Rechercher", exact=True))
    page.wait_for_url(re.compile(r"until=1969"))
    query = page.url.split("?", 1)[1]
    for pair in ("kind=jumelage", "country=IT", "department=14", "until=1969"):
        assert pair in query
    # (the demo directory may hold other such twinnings)
    assert re.fullmatch(r"\d+ partenariats? trouvés?", " ".join(page.locator("#results-title").inner_text().split()))
    result = page.locator(".result-list .card", has_text="Ville de Mondeville")
    assert "depuis 1966" in result.inner_text()
    assert "Ringwood" not in page.locator(".result-list").inner_text()
    shot(page, f"partnerships-{mode}-1-italy-before-1970")
    person.click(result.get_by_role("link", name="Figline Valdarno"))
    page.wait_for_url(re.compile(r"/acteurs/comitato-amici-di-figline$"))
    assert page.locator("h1").inner_text().strip() == "Comitato Amici di Figline"
    shot(page, f"partnerships-{mode}-2-partner")


def test_the_shared_address_gives_the_same_page_without_javascript(new_page, twinned):
    page = new_page(javascript=False)
    page.goto("/partenariats?kind=jumelage&country=IT&department=14&until=1969")
    assert "Figline Valdarno" in page.locator(".result-list").inner_text()
    page.get_by_role("link", name="Ville de Mondeville").click()
    page.wait_for_url(re.compile(r"/acteurs/ville-de-mondeville$"))


def test_the_partnerships_page_has_no_serious_accessibility_violation(new_page, twinned):
    from .test_accessibility import axe_violations
    page = new_page()
    page.goto("/partenariats?kind=jumelage&department=14")
    assert axe_violations(page) == []
    page.goto("/?partnership=jumelage")
    assert axe_violations(page) == []
