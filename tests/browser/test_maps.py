"""The statistics page's server-drawn maps in a real browser, on a phone and without JavaScript."""
import pytest

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
