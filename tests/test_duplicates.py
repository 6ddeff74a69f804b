"""One duplicate detector: what a member is warned about at entry is what the duplicates page lists.
One status path: a merge publishes through it, dated and in the history."""
from sqlalchemy import select

from conftest import add_actor, add_user, login
from repertoire.extensions import db
from repertoire.models import Actor, Revision
from web import ACTOR_FORM, csrf_token, submit, text

ENTRY = {**ACTOR_FORM, "name": "Solidarite Benin Caen", "website": "", "email": "Contact@Benin.example.org"}


def test_entry_warning_and_duplicates_page_apply_the_same_rule(app, coordinator_client):
    add_actor(app, name="Association Solidarité Bénin Caen", email="contact@benin.example.org")
    add_user(app, "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    warned = text(submit(member, "/mon-espace/inscrire", ENTRY))
    # filler words and accents aside the names are the same; the address differs only in case
    assert "figure peut-être déjà dans le répertoire" in warned and "Association Solidarité Bénin Caen" in warned
    assert "nom identique ou proche dans la même commune" in warned and "même adresse électronique" in warned
    assert submit(member, "/mon-espace/inscrire", {**ENTRY, "not_duplicate": "y"}).status_code == 302
    page = text(coordinator_client.get("/moderation/doublons"))
    assert "Solidarite Benin Caen" in page  # the pending entry, paired with the published one, for the same reasons
    assert "nom identique ou proche dans la même commune" in page and "même adresse électronique" in page
    unrelated = {**ACTOR_FORM, "name": "Tout Autre Chose", "acronym": "", "website": "", "email": "autre@example.org",
                 "phone": "02 31 99 88 77"}
    assert submit(member, "/mon-espace/inscrire", unrelated).status_code == 302  # no warning, no pair
    assert "Tout Autre Chose" not in text(coordinator_client.get("/moderation/doublons"))


def test_merging_a_published_actor_into_a_pending_one_publishes_it_through_the_status_operation(
        app, coordinator_client):
    keep = add_actor(app, status="pending", name="Amitiés Caen-Thiès", countries="SN")
    drop = add_actor(app, name="Amities Caen Thies", countries="SN")
    page = coordinator_client.get(f"/moderation/doublons/{keep}/{drop}").get_data(as_text=True)
    merged = coordinator_client.post(f"/moderation/doublons/{keep}/{drop}",
                                     data={"csrf_token": csrf_token(page), "keep": "a"})
    assert merged.status_code == 302
    with app.app_context():
        kept = db.session.get(Actor, keep)
        actions = [r.action for r in db.session.scalars(select(Revision).where(Revision.actor_id == keep)
                                                        .order_by(Revision.id))]
        assert kept.status == "published" and kept.confirmed_at is not None
        assert actions[-1] == "publish"  # the publication is in the history, like any other
    assert app.test_client().get(f"/api/actors/{keep}").status_code == 200
    assert "publication" in text(coordinator_client.get(f"/moderation/acteurs/{keep}/historique"))
