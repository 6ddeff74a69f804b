"""Issue 16 in a browser: a network's coordinator does not see another network's pending entry, and is told
by mail of a new submission in their territory (demo networks and accounts of `repertoire demo`)."""
import re

from sqlalchemy import select

from conftest import add_user, login
from repertoire.demo import CURATING_NETWORKS
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest
from web import ACTOR_FORM, link_in, outbox, submit

from .conftest import PASSWORD, shot
from .test_accessibility import axe_violations

HORIZONS, OTHER_NETWORK = (spec["coordinator"] for spec in CURATING_NETWORKS)


def log_in_as(page, email, password):
    page.goto("/compte/connexion")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/mon-espace"))


def test_a_network_coordinator_sees_only_their_territory_and_gets_its_mail(new_page, live):
    app = live.app
    add_user(app, "membre-reseaux@example.org", password=PASSWORD)
    member = app.test_client()
    login(member, "membre-reseaux@example.org")
    name = "Association Témoin des Réseaux"  # Caen (14): Horizons Solidaires' territory
    assert submit(member, "/mon-espace/inscrire", {**ACTOR_FORM, "name": name, "acronym": "",
                                                   "website": "", "email": "", "phone": ""}).status_code == 302
    with app.app_context():
        request = db.session.scalar(select(ChangeRequest).join(ChangeRequest.actor).where(Actor.name == name))
    mails = [m for m in outbox(app) if m["To"] == HORIZONS[0] and name in m["Subject"]]
    assert len(mails) == 1
    assert not [m for m in outbox(app) if m["To"] == OTHER_NETWORK[0] and name in m["Subject"]]

    other = new_page()  # the other network's coordinator: not in the queue, not even by its address
    log_in_as(other, *OTHER_NETWORK)
    other.goto("/moderation/")
    assert name not in other.locator("main").inner_text()
    assert axe_violations(other) == []
    response = other.goto(f"/moderation/demandes/{request.id}")
    assert response.status == 404

    page = new_page()  # Horizons Solidaires' coordinator follows the mail's link and accepts
    log_in_as(page, *HORIZONS)
    page.goto(link_in(mails[0]))
    assert name in page.locator("main").inner_text()
    assert axe_violations(page) == []
    shot(page, "network-request")
    page.get_by_role("button", name="Accepter").click()
    page.wait_for_url(re.compile(r"/moderation/$"))
    with app.app_context():
        assert db.session.get(ChangeRequest, request.id).status == "approved"
