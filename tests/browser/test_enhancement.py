"""Progressive enhancement: JavaScript makes things quicker, never necessary; English in a real browser."""
import re

from .conftest import shot
from .driving import values_in, wait_until


def test_without_javascript_filters_sort_and_pages_still_work(new_page):
    page = new_page(javascript=False)
    page.goto("/?intervention=Mali")
    assert page.get_by_role("button", name="Appliquer les filtres").is_visible()
    page.locator("#facette-domain input[type=checkbox]").first.check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url(re.compile(r"domain="))
    assert page.locator("#facette-domain input:checked").count() == 1
    page.select_option("#f-sort", "updated")
    page.get_by_role("button", name="Trier", exact=True).click()
    page.wait_for_url(re.compile(r"sort=updated"))
    page.goto("/")
    page.get_by_role("navigation", name="Pages de résultats").get_by_role("link", name="2", exact=True).click()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator("[aria-current=page]", has_text="2").count() == 1
    shot(page, "no-javascript-page-2")


def test_with_javascript_pages_change_in_place_and_back_works(new_page):
    page = new_page()
    page.goto("/")
    assert not page.get_by_role("button", name="Appliquer les filtres").is_visible()
    page.evaluate("window.stillTheSamePage = true")
    first_page_names = page.locator(".result-list .card-title a").all_inner_texts()
    page.get_by_role("navigation", name="Pages de résultats").get_by_role("link", name="2", exact=True).click()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.evaluate("window.stillTheSamePage === true")
    assert page.evaluate("document.activeElement.id") == "results-title"  # focus follows the new results
    second_page_names = page.locator(".result-list .card-title a").all_inner_texts()
    assert second_page_names and set(second_page_names).isdisjoint(first_page_names)
    page.select_option("#f-sort", "updated")
    page.wait_for_url(re.compile(r"sort=updated"))
    assert values_in(page.url, "page") == []  # a new order starts at page 1
    page.go_back()
    page.wait_for_url(re.compile(r"page=2"))
    wait_until(page, "document.querySelector('.pagination [aria-current=page]').textContent.trim() === '2'")
    assert page.locator(".result-list .card-title a").all_inner_texts() == second_page_names
    assert page.evaluate("window.stillTheSamePage === true")


def test_name_and_town_fields_suggest_as_one_types(new_page):
    page = new_page()
    page.goto("/")
    page.locator("#f-place").press_sequentially("Cae", delay=30)
    wait_until(page, "document.querySelectorAll('#f-place-suggestions option').length > 0")
    towns = page.locator("#f-place-suggestions option").evaluate_all("os => os.map(o => o.value)")
    assert towns[0] == "Caen" and page.locator("#f-place").get_attribute("list") == "f-place-suggestions"
    page.locator("#f-name").press_sequentially("jumel", delay=30)
    wait_until(page, "document.querySelectorAll('#f-name-suggestions option').length > 0")
    names = page.locator("#f-name-suggestions option").evaluate_all("os => os.map(o => o.value)")
    assert names and all("jumel" in name.lower() for name in names)


def test_language_switch_is_remembered_across_pages(new_page):
    page = new_page()
    page.goto("/?intervention=Mali")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"intervention=Mali"))
    assert page.locator("h1").inner_text() == "Find an actor of international solidarity"
    countries = " ".join(page.locator("#facette-country label").all_inner_texts())
    assert "Senegal" in countries and "Sénégal" not in countries
    page.get_by_role("link", name="Statistics").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "The directory in figures" in page.locator("h1").inner_text()
    shot(page, "english-statistics")
    page.get_by_role("link", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"
