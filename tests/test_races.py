"""Races: simultaneous decisions, edits over newer versions, merges against edits.

The decisions are made at once by threads against gunicorn with four workers,
on SQLite or PostgreSQL (``make test-postgres``).
"""
import re
import threading

import requests
from sqlalchemy import select

from conftest import add_user, build_app, dispose, login
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest, Revision
from test_gunicorn import gunicorn
from web import ACTOR_FORM, csrf_token, outbox, submit


def coordinator_session(base):
    """Cookies and a CSRF token of a logged-in coordinator (coord@example.org)."""
    session = requests.Session()
    token = csrf_token(session.get(base + "/compte/connexion").text)
    response = session.post(base + "/compte/connexion", allow_redirects=False, data={
        "email": "coord@example.org", "password": "mot de passe solide", "csrf_token": token})
    assert response.status_code == 302
    return session.cookies.get_dict(), csrf_token(session.get(base + "/moderation/").text)


def all_at_once(base, cookies, posts):
    """POST each ``(path, data)`` from its own thread, released together; return the responses."""
    barrier = threading.Barrier(len(posts))
    responses = [None] * len(posts)

    def post(i, path, data):
        session = requests.Session()
        session.cookies.update(cookies)
        barrier.wait()
        responses[i] = session.post(base + path, data=data, allow_redirects=False, timeout=60)

    threads = [threading.Thread(target=post, args=(i, path, data)) for i, (path, data) in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def submitted_request(app, member_email, name):
    """A member's new entry waiting for moderation; return the request's id."""
    add_user(app, member_email)
    client = app.test_client()
    login(client, member_email)
    assert submit(client, "/mon-espace/inscrire", {**ACTOR_FORM, "name": name}).status_code == 302
    with app.app_context():
        return db.session.scalar(select(ChangeRequest.id).join(Actor).where(Actor.name == name))


def decisions(app, request_id):
    """(request status, actions recorded on the actor by moderation, mails to the member)."""
    with app.app_context():
        change = db.session.get(ChangeRequest, request_id)
        actions = [r.action for r in db.session.scalars(select(Revision).where(Revision.actor_id == change.actor_id))
                   if r.action in ("publish", "reject")]
        return change.status, actions, change.user.email


def test_ten_simultaneous_approvals_publish_once_and_send_one_mail(tmp_path):
    app = build_app(tmp_path)
    add_user(app, "coord@example.org", role="coordinator")
    request_id = submitted_request(app, "dix@example.org", "Association Dix Fois Acceptée")
    mails_before = len(outbox(app))
    with gunicorn(app, tmp_path) as base:
        cookies, token = coordinator_session(base)
        responses = all_at_once(base, cookies, [(f"/moderation/demandes/{request_id}/accepter",
                                                 {"csrf_token": token})] * 10)
        assert [r.status_code for r in responses] == [302] * 10  # the losers are told, no error page
        winners = [r for r in responses if r.headers["Location"].endswith("/moderation/")]
        assert len(winners) == 1
        loser = next(r for r in responses if r not in winners)
        page = requests.Session()
        page.cookies.update({**cookies, **loser.cookies.get_dict()})  # the message travels in the session
        assert "Cette demande a déjà été traitée." in page.get(base + loser.headers["Location"]).text
    status, actions, email = decisions(app, request_id)
    assert status == "approved" and actions == ["publish"]
    mails = [m for m in outbox(app)[mails_before:] if m["To"] == email]
    assert len(mails) == 1 and "acceptée" in mails[0]["Subject"]
    assert app.test_client().get("/api/actors?q=acceptée").get_json()["total"] == 1
    dispose(app)


def test_approve_and_reject_at_once_make_exactly_one_decision(tmp_path):
    app = build_app(tmp_path)
    add_user(app, "coord@example.org", role="coordinator")
    ids = [submitted_request(app, f"membre{i}@example.org", f"Association Disputée {i}") for i in range(3)]
    mails_before = len(outbox(app))
    with gunicorn(app, tmp_path) as base:
        cookies, token = coordinator_session(base)
        for request_id in ids:
            accept = (f"/moderation/demandes/{request_id}/accepter", {"csrf_token": token})
            refuse = (f"/moderation/demandes/{request_id}/refuser", {"csrf_token": token, "reason": "Incomplète."})
            responses = all_at_once(base, cookies, [accept, refuse] * 3)
            assert [r.status_code for r in responses] == [302] * 6
            assert len([r for r in responses if r.headers["Location"].endswith("/moderation/")]) == 1
    mails = outbox(app)[mails_before:]
    for request_id in ids:
        status, actions, email = decisions(app, request_id)
        assert (status, actions) in (("approved", ["publish"]), ("rejected", ["reject"]))
        assert len([m for m in mails if m["To"] == email]) == 1
    dispose(app)


# -- no silent lost update -------------------------------------------------

from conftest import add_actor, edit_actor  # noqa: E402
from web import text, version_in  # noqa: E402


def edit_form(client, url):
    page = client.get(url).get_data(as_text=True)
    return {"csrf_token": csrf_token(page), "version": version_in(page)}


COORDINATOR_EDIT = {"kind": "association", "town": "Caen", "postcode": "14000", "department": "14",
                    "countries-0": "Mali", "domains": "eau", "activities": "projets", "submit": "1"}


def test_a_coordinator_saving_over_a_newer_version_is_refused_with_what_changed(app, coordinator_client):
    actor_id = add_actor(app, name="Puits de Kayes", countries="ML", domains="eau", activities="projets",
                         phone="02 31 00 00 01", description="Forages.")
    url = f"/moderation/acteurs/{actor_id}"
    opened = edit_form(coordinator_client, url)
    edit_actor(app, actor_id, phone="02 31 99 99 99", description="Forages et latrines.")  # someone else, meanwhile
    typed = {**COORDINATOR_EDIT, **opened, "name": "Puits de Kayes et de Nioro", "description": "Forages."}
    response = coordinator_client.post(url, data=typed)
    assert response.status_code == 409
    body = text(response)
    assert "Cette fiche a été modifiée depuis l'ouverture du formulaire" in body
    assert "Téléphone : 02 31 00 00 01 → 02 31 99 99 99" in body
    assert "Présentation : Forages. → Forages et latrines." in body
    assert "Nom :" not in body  # unchanged meanwhile: not listed
    assert 'value="Puits de Kayes et de Nioro"' in response.get_data(as_text=True)  # what was typed is kept
    with app.app_context():
        assert db.session.get(Actor, actor_id).name == "Puits de Kayes"
    # Saving again from the conflict page is deliberate: it goes through.
    again = {**typed, "version": version_in(response.get_data(as_text=True)), "phone": "02 31 99 99 99"}
    assert coordinator_client.post(url, data=again).status_code == 302
    with app.app_context():
        saved = db.session.get(Actor, actor_id)
        assert (saved.name, saved.phone) == ("Puits de Kayes et de Nioro", "02 31 99 99 99")


def test_a_change_that_touches_no_field_is_no_conflict(app, coordinator_client):
    actor_id = add_actor(app, name="Confirmée Entre-Temps", countries="ML", domains="eau", activities="projets")
    url = f"/moderation/acteurs/{actor_id}"
    opened = edit_form(coordinator_client, url)
    with app.app_context():  # its owner says "still accurate" meanwhile: a revision, no field changed
        from repertoire.operations import confirm_still_accurate
        confirm_still_accurate(db.session, db.session.get(Actor, actor_id))
        db.session.commit()
    response = coordinator_client.post(url, data={**COORDINATOR_EDIT, **opened, "name": "Confirmée Puis Renommée"})
    assert response.status_code == 302


def test_a_forged_or_missing_version_is_refused_without_showing_another_actor(app, coordinator_client):
    other = add_actor(app, name="Secrète", phone="02 31 55 55 55")
    edit_actor(app, other, phone="02 31 66 66 66")
    actor_id = add_actor(app, name="Cible", countries="ML", domains="eau", activities="projets")
    url = f"/moderation/acteurs/{actor_id}"
    with app.app_context():
        foreign = db.session.scalar(select(Revision.id).where(Revision.actor_id == other).order_by(Revision.id))
    for version in (str(foreign), "", "abc", "9" * 40):
        data = {**COORDINATOR_EDIT, **edit_form(coordinator_client, url), "name": "Cible Forcée"}
        data["version"] = version
        response = coordinator_client.post(url, data=data)
        assert response.status_code == 409, version
        assert "version de départ de votre formulaire est inconnue" in text(response)
        assert "55 55" not in text(response)
    with app.app_context():
        assert db.session.get(Actor, actor_id).name == "Cible"


def test_a_member_saving_over_a_newer_version_is_refused_with_what_changed(app, coordinator_client):
    add_user(app, "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    assert submit(member, "/mon-espace/inscrire", ACTOR_FORM).status_code == 302
    actor_id = actor_id_named(app, ACTOR_FORM["name"])
    url = f"/mon-espace/fiches/{actor_id}/modifier"
    opened = edit_form(member, url)
    edit_actor(app, actor_id, acronym="APSA")  # a coordinator corrects the acronym meanwhile
    response = member.post(url, data={**ACTOR_FORM, **opened, "description": "Forages, puits et latrines."})
    assert response.status_code == 409
    assert "Sigle : APS → APSA" in text(response)
    assert "Forages, puits et latrines." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Actor, actor_id).description == ACTOR_FORM["description"]
    again = {**ACTOR_FORM, "acronym": "APSA", "description": "Forages, puits et latrines.",
             "csrf_token": opened["csrf_token"], "version": version_in(response.get_data(as_text=True))}
    assert member.post(url, data=again).status_code == 302
    with app.app_context():
        assert db.session.get(Actor, actor_id).acronym == "APSA"


def actor_id_named(app, name):
    with app.app_context():
        return db.session.scalar(select(Actor.id).where(Actor.name == name))


def merge(client, keep, drop, **choices):
    page = client.get(f"/moderation/doublons/{keep}/{drop}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "keep": "a", **{f"choice-{k}": v for k, v in choices.items()}}
    for side in "ab":  # the versions the page was opened on, as a browser sends them
        shown = re.search(rf'name="version-{side}" value="(\d+)"', page)
        if shown:
            data[f"version-{side}"] = shown.group(1)
    return data


def test_editing_a_merged_away_actor_leads_to_the_kept_one(app, coordinator_client):
    add_user(app, "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    assert submit(member, "/mon-espace/inscrire", ACTOR_FORM).status_code == 302
    drop = actor_id_named(app, ACTOR_FORM["name"])
    keep = add_actor(app, name="Puits du Sahel (Caen)", countries="ML")
    url = f"/moderation/acteurs/{drop}"
    opened = edit_form(coordinator_client, url)
    response = coordinator_client.post(f"/moderation/doublons/{keep}/{drop}",
                                       data=merge(coordinator_client, keep, drop))
    assert response.status_code == 302
    # the coordinator's form, opened before the merge, is sent to the kept actor; nothing is saved
    late = coordinator_client.post(url, data={**COORDINATOR_EDIT, **opened, "name": "Trop Tard"})
    assert late.status_code == 302 and late.headers["Location"].endswith(f"/moderation/acteurs/{keep}")
    assert "fusionnée dans « Puits du Sahel (Caen) »" in text(coordinator_client.get(late.headers["Location"]))
    assert actor_id_named(app, "Trop Tard") is None
    following = coordinator_client.get(url)
    assert following.status_code == 302 and following.headers["Location"].endswith(f"/moderation/acteurs/{keep}")
    # the member, whose entry it was, does not get the kept one (issue 15 point 4): a coordinator decides their claim
    assert member.get(f"/mon-espace/fiches/{drop}/modifier").status_code == 404
    with app.app_context():
        claim = db.session.scalars(select(ChangeRequest).where(ChangeRequest.actor_id == keep)).one()
        assert (claim.kind, claim.status, claim.user.email) == ("claim", "open", "membre@example.org")
    assert submit(coordinator_client, f"/moderation/demandes/{claim.id}/accepter", {},
                  form_url=f"/moderation/demandes/{claim.id}").status_code == 302
    mine = member.get(f"/mon-espace/fiches/{drop}/modifier")
    assert mine.status_code == 302 and mine.headers["Location"].endswith(f"/mon-espace/fiches/{keep}/modifier")


def test_a_merge_page_opened_before_an_edit_refuses_to_merge(app, coordinator_client):
    keep = add_actor(app, name="Amitiés Caen-Thiès", countries="SN", phone="02 31 00 00 01")
    drop = add_actor(app, name="Amities Caen Thies", countries="SN", phone="02 31 00 00 02")
    data = merge(coordinator_client, keep, drop, phone="b")
    edit_actor(app, drop, phone="02 31 00 00 03")
    response = coordinator_client.post(f"/moderation/doublons/{keep}/{drop}", data=data)
    assert response.status_code == 200 and "rien n'a été fusionné" in text(response)
    assert "02 31 00 00 03" in text(response)  # the page now shows the current values
    with app.app_context():
        assert db.session.get(Actor, drop).merged_into_id is None


def test_an_edit_during_a_merge_is_never_silently_lost(app, coordinator_client, monkeypatch):
    """The merge reads both actors, then (forced here) waits while an edit of the dropped one is sent."""
    from repertoire.operations import duplicates as curation
    keep = add_actor(app, name="Amitiés Caen-Thiès", countries="SN", phone="02 31 00 00 01")
    drop = add_actor(app, name="Amities Caen Thies", countries="SN", phone="02 31 00 00 02")
    editor = app.test_client()
    login(editor, "coord@example.org")
    url = f"/moderation/acteurs/{drop}"
    edit = {**COORDINATOR_EDIT, **edit_form(editor, url), "name": "Amities Caen Thies", "countries-0": "Sénégal",
            "domains": [], "activities": [], "phone": "02 31 00 00 09"}
    merge_data = merge(coordinator_client, keep, drop, phone="b")
    merge_read, edit_done = threading.Event(), threading.Event()
    original, calls = curation.actor_input, []

    def reading_then_waiting(actor):
        values = original(actor)
        calls.append(actor.id)
        if len(calls) == 2:  # both actors read by the merge
            merge_read.set()
            edit_done.wait(timeout=5)  # without locks the edit lands here, between the merge's read and write
        return values

    monkeypatch.setattr(curation, "actor_input", reading_then_waiting)
    results = {}

    def merging():
        results["merge"] = coordinator_client.post(f"/moderation/doublons/{keep}/{drop}", data=merge_data)

    def editing():
        results["edit"] = editor.post(url, data=edit)
        edit_done.set()

    merger = threading.Thread(target=merging)
    merger.start()
    assert merge_read.wait(timeout=60)
    edit_thread = threading.Thread(target=editing)
    edit_thread.start()
    merger.join(timeout=120)
    edit_thread.join(timeout=120)
    assert results["merge"].status_code == 302
    with app.app_context():
        kept_phone = db.session.get(Actor, keep).phone
    saved = results["edit"].headers["Location"].endswith(f"/moderation/acteurs/{drop}")
    if saved:  # the edit went first: the merge took its value
        assert kept_phone == "02 31 00 00 09"
    else:  # the merge went first: the edit was refused and sent to the kept actor
        assert results["edit"].headers["Location"].endswith(f"/moderation/acteurs/{keep}")
        assert kept_phone == "02 31 00 00 02"
        assert "rien n'a été enregistré" in text(editor.get(results["edit"].headers["Location"]))


def test_simultaneous_saves_of_one_version_keep_exactly_one(tmp_path):
    """Six coordinators save the same form at once: one is saved, five are told what changed."""
    app = build_app(tmp_path)
    add_user(app, "coord@example.org", role="coordinator")
    actor_id = add_actor(app, name="Disputée", countries="ML", domains="eau", activities="projets")
    with gunicorn(app, tmp_path) as base:
        cookies, token = coordinator_session(base)
        page = requests.get(f"{base}/moderation/acteurs/{actor_id}", cookies=cookies).text
        form = {**COORDINATOR_EDIT, "csrf_token": token, "version": version_in(page), "name": "Disputée"}
        responses = all_at_once(base, cookies, [(f"/moderation/acteurs/{actor_id}",
                                                 {**form, "description": f"Version {i}"}) for i in range(6)])
        assert sorted(r.status_code for r in responses) == [302] + [409] * 5
        winner = next(i for i, r in enumerate(responses) if r.status_code == 302)
        assert all(f"Présentation : — → Version {winner}" in r.text for r in responses if r.status_code == 409)
    with app.app_context():
        assert db.session.get(Actor, actor_id).description == f"Version {winner}"
        updates = db.session.scalars(select(Revision.action).where(Revision.actor_id == actor_id)).all()
        assert updates.count("update") == 1
    dispose(app)
