"""Merges never hand over ownership (issue 15 point 4): only a claim a coordinator approved does.

A member who submits a copy of a published entry, hoping a coordinator merges it, gets at most an open
claim on the kept entry; the merge page shows each side's owner; two merges at once open one claim.
"""
from sqlalchemy import select

from conftest import add_actor, add_user, build_app, dispose, login
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest
from test_gunicorn import gunicorn
from test_races import all_at_once, coordinator_session, merge
from web import ACTOR_FORM, csrf_token, submit, text

PUBLISHED = dict(name="Association Puits du Sahel", acronym="APS", countries="ML;NE", intervention_towns="Kayes",
                 domains="eau", activities="projets", website="puits-sahel.example.org",
                 email="contact@puits-sahel.example.org", phone="02 31 12 34 56")


def member_copy(app, email="copieur@example.org", **changes):
    """A member submits a copy of the published entry (ticking « not a duplicate »); return (member, id)."""
    add_user(app, email)
    member = app.test_client()
    login(member, email)
    response = submit(member, "/mon-espace/inscrire", {**ACTOR_FORM, "not_duplicate": "y", **changes},
                      form_url="/mon-espace/inscrire")
    assert response.status_code == 302, text(response)[:2000]
    with app.app_context():
        copy = db.session.scalar(select(Actor).where(Actor.status == "pending").order_by(Actor.id.desc()))
        assert copy.owner.email == email
        return member, copy.id


def owner_of(app, actor_id):
    with app.app_context():
        owner = db.session.get(Actor, actor_id).owner
        return owner.email if owner else None


def claims_on(app, actor_id):
    with app.app_context():
        return [(r.user.email, r.status) for r in db.session.scalars(
            select(ChangeRequest).where(ChangeRequest.actor_id == actor_id, ChangeRequest.kind == "claim")
            .order_by(ChangeRequest.id))]


def set_owner(app, actor_id, email):
    with app.app_context():
        from repertoire.operations import find_user
        db.session.get(Actor, actor_id).owner_id = find_user(db.session, email).id
        db.session.commit()


def test_a_copy_merged_into_a_published_entry_does_not_give_the_member_that_entry(app, coordinator_client):
    published = add_actor(app, **PUBLISHED)
    member, copy = member_copy(app)
    page = text(coordinator_client.get(f"/moderation/doublons/{published}/{copy}"))
    assert "Compte responsable aucun copieur@example.org" in page  # each side's owner, A then B
    response = coordinator_client.post(f"/moderation/doublons/{published}/{copy}",
                                       data=merge(coordinator_client, published, copy))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/moderation/acteurs/{published}")
    assert owner_of(app, published) is None
    # the member can neither edit the kept entry nor reach it through the old one
    assert member.get(f"/mon-espace/fiches/{published}/modifier").status_code == 404
    assert member.get(f"/mon-espace/fiches/{copy}/modifier").status_code == 404
    assert f"/fiches/{published}/" not in member.get("/mon-espace").get_data(as_text=True)
    # what they get is a claim, waiting for a coordinator, listed in the queue and in their space
    assert claims_on(app, published) == [("copieur@example.org", "open")]
    assert "copieur@example.org" in text(coordinator_client.get("/moderation/"))
    assert "en attente de modération" in text(member.get("/mon-espace"))
    with app.app_context():
        claim = db.session.scalar(select(ChangeRequest.id).where(ChangeRequest.actor_id == published,
                                                                 ChangeRequest.kind == "claim"))
    # refused: still nobody's
    response = submit(coordinator_client, f"/moderation/demandes/{claim}/refuser", {"reason": "Pas la même."},
                      form_url=f"/moderation/demandes/{claim}")
    assert response.status_code == 302
    assert owner_of(app, published) is None
    assert member.get(f"/mon-espace/fiches/{published}/modifier").status_code == 404


def test_the_member_gets_the_kept_entry_only_once_a_coordinator_approves_the_claim(app, coordinator_client):
    published = add_actor(app, **PUBLISHED)
    member, copy = member_copy(app)
    coordinator_client.post(f"/moderation/doublons/{published}/{copy}", data=merge(coordinator_client, published, copy))
    assert member.get(f"/mon-espace/fiches/{published}/modifier").status_code == 404
    with app.app_context():
        claim = db.session.scalar(select(ChangeRequest.id).where(ChangeRequest.actor_id == published,
                                                                 ChangeRequest.kind == "claim"))
    detail = text(coordinator_client.get(f"/moderation/demandes/{claim}"))
    assert "fusion" in detail and "copieur@example.org" in detail
    assert submit(coordinator_client, f"/moderation/demandes/{claim}/accepter", {},
                  form_url=f"/moderation/demandes/{claim}").status_code == 302
    assert owner_of(app, published) == "copieur@example.org"
    assert member.get(f"/mon-espace/fiches/{published}/modifier").status_code == 200


def test_a_merge_keeps_the_kept_entrys_owner_and_their_rival_only_asks(app, coordinator_client):
    published = add_actor(app, **PUBLISHED)
    add_user(app, "titulaire@example.org")
    set_owner(app, published, "titulaire@example.org")
    _member, copy = member_copy(app)
    page = text(coordinator_client.get(f"/moderation/doublons/{published}/{copy}"))
    assert "Compte responsable titulaire@example.org copieur@example.org" in page
    # the coordinator keeps the copy's side (B) this time: the kept entry is still the published one
    data = {**merge(coordinator_client, published, copy), "choice-name": "b", "choice-phone": "b"}
    assert coordinator_client.post(f"/moderation/doublons/{published}/{copy}", data=data).status_code == 302
    assert owner_of(app, published) == "titulaire@example.org"
    assert claims_on(app, published) == [("copieur@example.org", "open")]
    with app.app_context():
        claim = db.session.scalar(select(ChangeRequest.id).where(ChangeRequest.actor_id == published))
    assert "actuellement rattachée à titulaire@example.org" in text(coordinator_client.get(f"/moderation/demandes/{claim}"))


def test_keeping_the_members_copy_does_not_give_them_the_published_entrys_history(app, coordinator_client):
    """The coordinator keeps the member's pending copy (A) and drops the published entry (B): the copy stays the
    member's (it was), the published entry's owner is asked through a claim."""
    published = add_actor(app, **PUBLISHED)
    add_user(app, "titulaire@example.org")
    set_owner(app, published, "titulaire@example.org")
    _member, copy = member_copy(app)
    response = coordinator_client.post(f"/moderation/doublons/{copy}/{published}",
                                       data=merge(coordinator_client, copy, published))
    assert response.status_code == 302
    assert owner_of(app, copy) == "copieur@example.org"
    assert claims_on(app, copy) == [("titulaire@example.org", "open")]


def test_open_claims_on_the_dropped_entry_follow_it_and_nobody_asks_twice(app, coordinator_client):
    keep = add_actor(app, **PUBLISHED)
    drop = add_actor(app, **{**PUBLISHED, "name": "Puits du Sahel (APS)", "phone": "02 31 12 34 57"})
    for email in ("un@example.org", "deux@example.org"):
        add_user(app, email)
        client = app.test_client()
        login(client, email)
        slug = app.test_client().get(f"/api/actors/{drop}").get_json()["slug"]
        assert submit(client, f"/acteurs/{slug}/revendiquer", {"message": "C'est nous."}).status_code == 302
    set_owner(app, keep, "deux@example.org")
    assert coordinator_client.post(f"/moderation/doublons/{keep}/{drop}",
                                   data=merge(coordinator_client, keep, drop)).status_code == 302
    assert claims_on(app, drop) == [("un@example.org", "withdrawn"), ("deux@example.org", "withdrawn")]
    assert claims_on(app, keep) == [("un@example.org", "open")]  # deux manages it already
    assert owner_of(app, keep) == "deux@example.org"


def test_two_merges_at_once_merge_once_and_open_one_claim(tmp_path):
    """Through gunicorn: the same merge sent four times, and the reverse merge four times, all at once."""
    app = build_app(tmp_path)
    add_user(app, "coord@example.org", role="coordinator")
    published = add_actor(app, **PUBLISHED)
    _member, copy = member_copy(app)
    with gunicorn(app, tmp_path) as base:
        cookies, token = coordinator_session(base)
        forward = (f"/moderation/doublons/{published}/{copy}", {"csrf_token": token, "keep": "a"})
        backward = (f"/moderation/doublons/{copy}/{published}", {"csrf_token": token, "keep": "b"})
        responses = all_at_once(base, cookies, [forward, backward] * 4)
    merged = [r for r in responses if r.status_code == 302]
    assert len(merged) == 1 and all(r.status_code == 200 for r in responses if r not in merged)
    with app.app_context():
        kept, dropped = db.session.get(Actor, published), db.session.get(Actor, copy)
        assert (kept.merged_into_id, dropped.merged_into_id, kept.status) == (None, published, "published")
        assert kept.owner_id is None
    assert claims_on(app, published) == [("copieur@example.org", "open")]
    dispose(app)
