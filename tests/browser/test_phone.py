"""Phones and keyboards (issue 17 point 3): filters from a button before the results, a skip link to the
results, the back office within 375 px, screenshots of each."""
import re

import pytest
from sqlalchemy import select

from conftest import add_user, login
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest
from web import ACTOR_FORM, submit

from .conftest import PASSWORD, shot
from .driving import wait_until
from .test_accessibility import PRIVATE_PAGES, axe_violations, log_in

PHONE = {"width": 375, "height": 740}
SEARCH = "/?intervention=Mali"


@pytest.fixture(scope="module")
def sample(live):
    """What the back-office pages need: an actor, a pending request (its own, whatever ran before)."""
    app = live.app
    add_user(app, "membre-telephone@example.org", password=PASSWORD)
    member = app.test_client()
    login(member, "membre-telephone@example.org", PASSWORD)
    sent = submit(member, "/mon-espace/inscrire", {**ACTOR_FORM, "name": "Fiche Témoin Téléphone",
                                                    "website": "temoin-telephone.example.org", "email": ""})
    assert sent.status_code == 302
    with app.app_context():
        request_id = db.session.scalar(select(ChangeRequest.id).where(ChangeRequest.status == "open"))
        actor = db.session.scalar(select(Actor).where(Actor.status == "published").order_by(Actor.id))
        return {"slug": actor.slug, "id": actor.id, "request": request_id}


def top(page, selector) -> float:
    return page.locator(selector).first.bounding_box()["y"]


def in_view(page, selector) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and -1 <= box["y"] < page.evaluate("window.innerHeight")  # sub-pixel scrolling


@pytest.mark.parametrize("javascript", [True, False])
def test_on_a_phone_filters_open_from_a_button_before_the_results(new_page, javascript):
    page = new_page(javascript=javascript, **PHONE)
    page.goto(SEARCH)
    button = page.locator("details[data-facets] > summary")
    assert button.is_visible() and button.inner_text().strip().endswith("Filtres")
    assert top(page, "details[data-facets] > summary") < top(page, "#results-title")
    assert top(page, "#results-title") < 2 * 740  # the results, not 9,600 px of filters, come first
    checkbox = page.locator("#facette-domain input[type=checkbox]").first
    assert not checkbox.is_visible()  # closed until asked for
    shot(page, f"phone-375-search{'' if javascript else '-nojs'}")

    button.click()
    assert checkbox.is_visible()
    shot(page, f"phone-375-filters-open{'' if javascript else '-nojs'}")
    before = " ".join(page.locator("#results-title").inner_text().split())
    url = page.url
    page.evaluate("window.stillTheSamePage = true")
    checkbox.check()
    page.wait_for_timeout(300)
    assert page.url == url  # nothing changes out of sight while filters are being chosen
    assert " ".join(page.locator("#results-title").inner_text().split()) == before
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url(re.compile(r"domain="))
    wait_until(page, "document.getElementById('results-title') && "
                     "!document.querySelector('[data-live-region][aria-busy=true]')")
    after = " ".join(page.locator("#results-title").inner_text().split())
    assert after != before
    assert page.locator("details[data-facets] > summary").inner_text().strip().endswith("Filtres (1 actif)")
    if javascript:  # applied in place, then the results come into view with the focus
        assert page.evaluate("window.stillTheSamePage === true")
        wait_until(page, "document.activeElement && document.activeElement.id === 'results-title'")
        assert in_view(page, "#results-title"), (page.locator("#results-title").bounding_box(), page.evaluate("[window.scrollY, document.activeElement.id, document.querySelector(\"details[data-facets]\").open]"))
        assert not page.locator("#facette-domain input[type=checkbox]").first.is_visible()
    shot(page, f"phone-375-filtered{'' if javascript else '-nojs'}")


def test_on_a_wide_screen_filters_stay_beside_the_results_without_a_button(new_page):
    for javascript in (True, False):
        page = new_page(javascript=javascript)
        page.goto(SEARCH)
        assert not page.locator("details[data-facets] > summary").is_visible()
        facets = page.locator("aside.facets").bounding_box()
        results = page.locator("section.results").bounding_box()
        assert facets["x"] + facets["width"] <= results["x"]  # side by side
        assert page.locator("#facette-domain input[type=checkbox]").first.is_visible()


@pytest.mark.parametrize("size", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def test_the_keyboard_reaches_the_first_result_in_a_few_tabs(new_page, size):
    """Issue 17: it took 65 Tab presses. Now: Tab to the skip link, Enter, then a few Tabs."""
    page = new_page(**size)
    page.goto(SEARCH)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Aller aux résultats"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "results-title"
    first = page.locator(".result-list .card-title a").first.element_handle()
    presses = 1
    for presses in range(1, 20):
        page.keyboard.press("Tab")
        if page.evaluate("el => document.activeElement === el", first):
            break
    else:
        raise AssertionError("the first result cannot be reached with Tab")
    assert 1 + presses <= 4, f"{1 + presses} Tab presses to reach the first result"


def test_back_office_fits_a_phone_and_its_tables_scroll_in_their_box(new_page, sample):
    page = new_page(**PHONE)
    log_in(page)
    problems, scrolling = {}, []
    for name, url in PRIVATE_PAGES.items():
        page.goto(url.format(**sample))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems[name] = f"page scrolls sideways by {overflow}px"
        elif violations := axe_violations(page):
            problems[name] = violations
        scrolling += page.evaluate("""() => Array.from(document.querySelectorAll('table'))
            .filter(t => t.scrollWidth > t.clientWidth + 1).map(t => location.pathname)""")
        shot(page, f"phone-375-{name}")
    assert problems == {}
    assert scrolling, "no back-office table was wide enough to need its own scroll: the check proves nothing"


def test_statistics_and_actor_pages_fit_a_phone(new_page, sample):
    page = new_page(**PHONE)
    for name, url in (("statistics", "/statistiques"), ("actor", "/acteurs/{slug}")):
        page.goto(url.format(**sample))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        for svg in page.locator("main svg").all():
            box = svg.bounding_box()
            if box:
                assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (name, box)
        shot(page, f"phone-375-{name}")
