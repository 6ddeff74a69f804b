"""The statistics page's server-drawn maps in a real browser, on a phone and without JavaScript."""
import pytest

from conftest import add_actor

from .conftest import shot


@pytest.mark.parametrize("javascript", [True, False])
def test_statistics_maps_fit_a_phone_whole(new_page, javascript):
    """Issue 17: on a phone the world map showed the Americas only (the rest was off to the side)."""
    page = new_page(width=375, height=740, javascript=javascript)
    page.goto("/statistiques")
    width = page.evaluate("window.innerWidth")
    for selector in ("svg.world-map", "svg.france-map"):
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{selector} overflows: {box}"
        wrap = page.locator(selector).locator("xpath=..")
        assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth"), f"{selector} scrolls sideways"
    assert page.locator("svg.france-map a").count() == 101
    page.locator("#s-france").scroll_into_view_if_needed()
    shot(page, f"statistics-maps-375{'' if javascript else '-nojs'}")


def test_france_map_departments_are_links_to_their_search(new_page):
    page = new_page(javascript=False)
    page.goto("/statistiques")
    link = page.locator('svg.france-map a[data-department="44"]')
    label = link.get_attribute("aria-label")
    assert label.startswith("Loire-Atlantique (44) : ")
    link.locator("path").click()
    assert page.url.endswith("/?department=44")
    assert page.locator("h1").count() == 1


def test_paris_is_a_link_a_finger_can_hit_on_a_phone(new_page):
    page = new_page(width=375, height=740, javascript=False)
    page.goto("/statistiques")
    paris = page.locator('svg.france-map a[data-department="75"] path')
    box = paris.bounding_box()
    assert box["width"] >= 12 and box["height"] >= 8, box
    paris.click()
    assert page.url.endswith("/?department=75")


@pytest.fixture(scope="module")
def twinned(live):
    """An actor with partnerships far apart (the demo has none yet), so that both maps draw arcs."""
    partnerships = [{"kind": "jumelage", "start": "1962", "partners": [
                        {"name": "Sesto Fiorentino", "country": "IT", "locality": "Sesto Fiorentino"}]},
                    {"kind": "cooperation", "start": "2010", "partners": [
                        {"name": "Carrefour", "country": "HT", "locality": "Carrefour"},
                        {"name": "Commune rurale de Massala", "country": "ML", "locality": "Massala"}]}]
    add_actor(live.app, name="Ville Jumelée Témoin", kind="collectivite", town="Bagnolet", postcode="93170",
              department="93", partnerships=partnerships)
    return "/acteurs/ville-jumelee-temoin"


@pytest.mark.parametrize("javascript", [True, False])
def test_partnership_maps_fit_a_phone_whole(new_page, twinned, javascript):
    """Issue 14: the statistics page's map of flows, its charts and an actor's map of partners on a phone."""
    page = new_page(width=375, height=740, javascript=javascript)
    for url, selectors in (("/statistiques", ("svg.flows-map", "svg.bar-chart")), (twinned, ("svg.arcs-map",))):
        page.goto(url)
        width = page.evaluate("window.innerWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{url} scrolls sideways"
        for selector in selectors:
            for svg in page.locator(selector).all():
                box = svg.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{selector} overflows: {box}"
                assert box["height"] > 30
        assert page.locator("svg.arcs-map path.arc").count() >= 3
    page.goto("/statistiques")
    page.locator("#s-partnerships").scroll_into_view_if_needed()
    shot(page, f"statistics-partnerships-375{'' if javascript else '-nojs'}")
    page.goto(twinned)
    page.locator("#s-partners-map").scroll_into_view_if_needed()
    shot(page, f"actor-partners-map-375{'' if javascript else '-nojs'}")


def test_flows_table_opens_from_the_keyboard(new_page, twinned):
    page = new_page(width=375, height=740, javascript=False)
    page.goto("/statistiques")
    table = page.locator("table.flows-table")
    assert not table.is_visible()
    page.locator(".flows-details summary").focus()
    page.keyboard.press("Enter")
    assert table.is_visible()
    assert table.locator("tbody tr").count() >= 3
    box = table.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.evaluate("window.innerWidth")


def test_partnership_maps_and_charts_have_no_serious_violation(new_page, twinned):
    from .test_accessibility import axe_violations
    page = new_page()
    for url in ("/statistiques", twinned):
        page.goto(url)
        assert page.locator("svg.arcs-map").count() == 1
        assert axe_violations(page) == [], url
    page.locator(".arcs-list").scroll_into_view_if_needed()
    shot(page, "actor-partners-map")
