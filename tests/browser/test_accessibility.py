"""axe-core in the browser on every kind of page, the skip link, focus, layouts and print."""
import re

import pytest
from sqlalchemy import select

from repertoire.auth import reset_token, still_accurate_token
from repertoire.extensions import db
from repertoire.serialize import CSV_COLUMNS
from repertoire.models import Actor, ChangeRequest, User
from conftest import add_actor, add_user, login
from web import ACTOR_FORM, submit

from .conftest import AXE, PASSWORD, shot
from .driving import FOCUS_VISIBLE

BLOCKING = ("serious", "critical")
HEADER = ",".join(CSV_COLUMNS[:14])  # the contract's columns: the others are optional


def axe_violations(page) -> list[str]:
    """Run axe-core in the page (evaluated through the DevTools protocol, so the CSP stays on)."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    results = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}" for v in results if v["impact"] in BLOCKING]


def log_in(page, email="coordination@example.org"):
    page.goto("/compte/connexion")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/mon-espace"))


@pytest.fixture(scope="module")
def sample(live):
    """Ids and tokens for pages that need them; a pending request and a duplicate pair."""
    app = live.app
    add_actor(app, name="Association Doublon Témoin", town="Caen", postcode="14000", department="14")
    add_actor(app, name="Association Doublon Temoin", town="Caen", postcode="14000", department="14")
    add_user(app, "membre-axe@example.org", password=PASSWORD)
    member = app.test_client()
    login(member, "membre-axe@example.org", PASSWORD)
    sent = submit(member, "/mon-espace/inscrire", {**ACTOR_FORM, "name": "Fiche Témoin Accessibilité",
                                                    "website": "temoin-axe.example.org", "email": ""})
    assert sent.status_code == 302
    with app.app_context():
        request_id = db.session.scalar(select(ChangeRequest.id).where(ChangeRequest.status == "open"))
        actor = db.session.scalar(select(Actor).where(Actor.status == "published").order_by(Actor.id))
        coordinator = db.session.scalar(select(User).where(User.email == "coordination@example.org"))
        with app.test_request_context():
            return {"slug": actor.slug, "id": actor.id, "reset": reset_token(coordinator),
                    "still": still_accurate_token(actor), "request": request_id}


PUBLIC_PAGES = {
    "search": "/",
    "search-results": "/?intervention=Mali&domain=education",
    "search-empty": "/?name=zzzzzz",
    "search-error": "/?domain=inconnu",
    "actor": "/acteurs/{slug}",
    "statistics": "/statistiques",
    "embed": "/embed?country=SN",
    "not-found": "/nulle-part",
    "signup": "/compte/inscription",
    "login": "/compte/connexion",
    "forgot-password": "/compte/mot-de-passe-oublie",
    "reset-password": "/compte/nouveau-mot-de-passe/{reset}",
    "still-accurate": "/fiches/{id}/toujours-exacte/{still}",
}

PRIVATE_PAGES = {
    "space": "/mon-espace",
    "actor-form": "/mon-espace/inscrire",
    "change-password": "/compte/mot-de-passe",
    "claim": "/acteurs/{slug}/revendiquer",
    "moderation-queue": "/moderation/",
    "moderation-request": "/moderation/demandes/{request}",
    "moderation-actors": "/moderation/acteurs",
    "moderation-actor-edit": "/moderation/acteurs/{id}",
    "moderation-history": "/moderation/acteurs/{id}/historique",
    "taxonomy": "/moderation/taxonomie",
    "duplicates": "/moderation/doublons",
    "import": "/moderation/import",
    "freshness": "/moderation/fraicheur",
    "dashboard": "/moderation/tableau-de-bord",
    "accounts": "/moderation/comptes",
}


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages_have_no_serious_violation(new_page, sample, name):
    page = new_page()
    page.goto(PUBLIC_PAGES[name].format(**sample))
    shot(page, f"axe-{name}")
    assert axe_violations(page) == []


def test_back_office_and_forms_have_no_serious_violation(new_page, sample):
    page = new_page()
    log_in(page)
    found = {}
    for name, url in PRIVATE_PAGES.items():
        page.goto(url.format(**sample))
        assert page.url.endswith(url.format(**sample).rstrip("/") if url != "/moderation/" else "/moderation/"), name
        found[name] = axe_violations(page)
    # forms once sent with mistakes: messages beside the fields and in a summary
    page.goto("/mon-espace/inscrire")
    page.fill("#website", "pas un site")
    page.get_by_role("button", name="Envoyer ma fiche").click()
    page.locator("#erreurs").wait_for()
    shot(page, "axe-actor-form-errors")
    found["actor-form-errors"] = axe_violations(page)
    page.goto("/moderation/doublons")
    page.locator("a[href*='/moderation/doublons/']").first.click()
    page.get_by_role("heading", name="Fusionner deux fiches").wait_for()
    found["merge"] = axe_violations(page)
    page.goto("/moderation/import")
    page.set_input_files("input[type=file]", files=[{
        "name": "acteurs.csv", "mimeType": "text/csv",
        "buffer": (HEADER + "\nAmis de Tombouctou,,association,Caen,14000,14,ML,,eau,projets,,,,\n"
                   "Sans commune,,association,,,14,ML,,eau,projets,,,,\n").encode()}])
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.get_by_role("heading", name="Lignes à corriger").wait_for()
    shot(page, "axe-import-report")
    found["import-report"] = axe_violations(page)
    assert {name: v for name, v in found.items() if v} == {}


def test_english_pages_have_no_serious_violation(new_page, sample):
    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    found = {}
    for url in ("/", "/?intervention=Mali", "/acteurs/{slug}", "/compte/inscription"):
        page.goto(url.format(**sample))
        found[url] = axe_violations(page)
    shot(page, "english-signup")
    assert {url: v for url, v in found.items() if v} == {}


@pytest.mark.parametrize("url,target", [("/?intervention=Mali", "results-title"), ("/statistiques", "contenu")])
def test_skip_link_is_the_first_stop_and_leads_to_the_content(new_page, url, target):
    """On the search page it leads to the results (issue 17); elsewhere to the main content."""
    page = new_page()
    page.goto(url)
    page.keyboard.press("Tab")
    focused = page.evaluate_handle("document.activeElement")
    assert page.evaluate("el => el.classList.contains('skip-link')", focused)
    assert page.evaluate(FOCUS_VISIBLE, focused)
    box = page.locator(".skip-link").bounding_box()
    assert box and box["y"] >= 0 and box["height"] > 10  # on screen once focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == target
    page.keyboard.press("Tab")  # the next stop is inside the main content, not the header
    assert page.evaluate("document.getElementById('contenu').contains(document.activeElement)")


@pytest.mark.parametrize("width,height", [(375, 740), (1920, 1080)])
def test_layouts_fit_a_phone_and_a_wide_screen(new_page, sample, width, height):
    page = new_page(width=width, height=height)
    for name, url in (("search", "/?intervention=Mali"), ("actor", "/acteurs/{slug}"),
                      ("signup", "/compte/inscription"), ("statistics", "/statistiques")):
        page.goto(url.format(**sample))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        shot(page, f"layout-{width}-{name}")
    if width >= 1920:  # lines stay readable: the content does not stretch across the screen
        assert page.locator("main .wrap").bounding_box()["width"] <= 1400


def test_actor_page_prints_without_navigation(new_page, sample):
    page = new_page()
    page.goto("/acteurs/{slug}".format(**sample))
    page.emulate_media(media="print")
    assert not page.locator(".site-header nav").is_visible()
    assert not page.locator(".breadcrumb").is_visible()
    assert page.locator("h1").is_visible()
    pdf_bytes = page.pdf(format="A4")
    assert pdf_bytes.startswith(b"%PDF")
    shot(page, "print-actor")


def test_axe_does_report_what_it_should(new_page):
    """The check above can fail: a page with known faults gives serious violations."""
    page = new_page()
    page.goto("/nulle-part")
    page.evaluate("""() => {
        document.querySelector('main').insertAdjacentHTML('beforeend',
            '<input type="text"><img src="/static/favicon.svg"><a href="/"></a>');
    }""")
    found = " ".join(axe_violations(page))
    assert "label" in found and "image-alt" in found and "link-name" in found


def test_pages_use_nothing_from_other_sites(new_page, live, sample):
    """No CDN, no external font or script: every request stays on our own server."""
    page = new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    for url in ("/", "/?intervention=Mali", "/acteurs/{slug}", "/statistiques", "/compte/inscription"):
        page.goto(url.format(**sample))
    assert len(requested) >= 10
    assert [url for url in requested if not url.startswith(live.url + "/")] == []
