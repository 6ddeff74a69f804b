"""A citizen's typo is forgiven (issue 17): « Vouliez-vous dire … ? » leads to results, chips remove criteria."""
import re

import pytest

from .conftest import shot
from .driving import Person, values_in
from .test_accessibility import axe_violations

MODES = ["mouse", "keyboard"]


def heading(page) -> str:
    return " ".join(page.locator("#results-title").inner_text().split())


def count(page) -> int:
    found = re.match(r"([\d\s\u202f\u00a0]+) acteurs? trouvés?", heading(page))
    return int(re.sub(r"\D", "", found[1])) if found else 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_typo_is_suggested_right_then_a_chip_removes_a_criterion(new_page, mode, javascript):
    page = new_page(javascript=javascript)
    person = Person(page, mode)
    person.goto("/")
    person.fill(page.locator("#f-place"), "Normandie")
    person.fill(page.locator("#f-intervention"), "madagscar")
    if mode == "keyboard":
        page.keyboard.press("Enter")
    else:
        person.click(page.get_by_role("button", name="Rechercher", exact=True))
    page.wait_for_url(re.compile(r"intervention=madagscar"))
    assert heading(page) == "Aucun acteur trouvé"
    assert values_in(page.url, "sort") in ([], [""])  # the sort menu's default is no sort: relevance
    shot(page, f"typo-{mode}-{'js' if javascript else 'nojs'}-1-nothing")
    if mode == "mouse" and javascript:  # axe runs as a script
        assert axe_violations(page) == []

    person.click(page.get_by_role("link", name="Madagascar"))  # « Vouliez-vous dire Madagascar ? »
    page.wait_for_url(re.compile(r"intervention=Madagascar"))
    page.locator(".result-list").wait_for()
    found = count(page)
    assert found >= 1
    assert page.locator("#f-intervention").input_value() == "Madagascar"
    assert page.locator("#f-sort option:checked").inner_text() == "pertinence"
    chips = page.locator(".active-filters a.chip")
    assert chips.count() == 2
    shot(page, f"typo-{mode}-{'js' if javascript else 'nojs'}-2-suggested")
    if mode == "mouse" and javascript:  # axe runs as a script
        assert axe_violations(page) == []  # the chips too

    person.click(page.locator(".active-filters a.chip", has_text="Normandie"))
    page.wait_for_url(lambda url: "place=" not in url)
    page.locator(".active-filters a.chip", has_text="Normandie").wait_for(state="detached")
    assert count(page) > found
    assert page.locator("#f-place").input_value() == ""
    assert page.locator("#f-intervention").input_value() == "Madagascar"
    if javascript:  # ticking a filter afterwards keeps the search as it now stands
        person.click(page.locator("#facette-domain input[type=checkbox]").first)
        page.wait_for_url(re.compile(r"domain="))
        assert values_in(page.url, "place") == [] and values_in(page.url, "intervention") == ["Madagascar"]
    shot(page, f"typo-{mode}-{'js' if javascript else 'nojs'}-3-chip-removed")
