"""Curating networks (issue 16 points 1, 3, 6, 7): scope by URL for every role, mails, coordinators' entries, demo."""
import pytest
from sqlalchemy import func, select

from conftest import add_actor, add_user, login
from repertoire.extensions import db
from repertoire.jobs import wait_inline
from repertoire.models import Actor, AuditEventNetwork, ChangeRequest, DuplicatePair, Kind, Revision, User
from web import ACTOR_FORM, csrf_token, outbox, submit, text

PASSWORD = "mot de passe solide"
NORMANDY = "14 27 50 61 76"
LYON_FORM = {**ACTOR_FORM, "name": "Lyon Solidarité Sahel", "acronym": "", "town": "Lyon", "postcode": "69003",
             "department": "69", "website": "lyon-sahel.example.org", "email": "contact@lyon-sahel.example.org",
             "phone": "04 72 12 34 56"}


def client_of(app, email):
    client = app.test_client()
    if email:
        login(client, email)
    return client


def make_curating(admin, slug, departments, *coordinators):
    response = submit(admin, "/moderation/reseaux", {"network": slug})
    assert response.status_code == 302, text(response)[:800]
    url = response.headers["Location"]
    assert submit(admin, url, {"territory-departments": departments, "territory-submit": "1"}).status_code == 302
    for email in coordinators:
        assert submit(admin, url, {"coordinator-email": email, "coordinator-submit": "1"}).status_code == 302
    return int(url.rstrip("/").rsplit("/", 1)[1])


def slug_of(app, actor_id):
    with app.app_context():
        return db.session.get(Actor, actor_id).slug


def request_of(app, name):
    with app.app_context():
        return db.session.scalar(select(ChangeRequest).join(ChangeRequest.actor).where(Actor.name == name))


@pytest.fixture
def world(app):
    """Two curating networks (A: Normandy, B: Lyon), one pending submission in each territory, accounts."""
    horizons = add_actor(app, name="Horizons Solidaires", kind="reseau")
    resacoop = add_actor(app, name="Resacoop", kind="reseau", town="Lyon", postcode="69001", department="69")
    add_user(app, "admin@example.org", role="admin")
    for email in ("coord.a@example.org", "coord.b@example.org", "membre@example.org", "autre@example.org"):
        add_user(app, email)
    add_user(app, "global@example.org", role="coordinator")
    with app.app_context():  # coordinator A reads English
        db.session.scalar(select(User).where(User.email == "coord.a@example.org")).locale = "en"
        db.session.commit()
    admin = client_of(app, "admin@example.org")
    a = make_curating(admin, slug_of(app, horizons), NORMANDY, "coord.a@example.org")
    b = make_curating(admin, slug_of(app, resacoop), "69 38", "coord.b@example.org")
    member = client_of(app, "membre@example.org")
    assert submit(member, "/mon-espace/inscrire", ACTOR_FORM).status_code == 302  # Caen (14): A's
    assert submit(client_of(app, "autre@example.org"), "/mon-espace/inscrire", LYON_FORM).status_code == 302
    rouen = add_actor(app, name="Comité de jumelage de Rouen", town="Rouen", postcode="76000", department="76",
                      email="jumelage@rouen.example.org")
    rouen_again = add_actor(app, name="Comite jumelage Rouen", town="Rouen", postcode="76000", department="76",
                            email="jumelage@rouen.example.org")
    with app.app_context():
        revision = db.session.scalar(select(Revision.id).where(Revision.actor_id == rouen))
        pair = db.session.scalar(select(DuplicatePair))
        assert pair is not None and {pair.actor_a_id, pair.actor_b_id} == {rouen, rouen_again}
        kind_id = db.session.scalar(select(Kind.id).where(Kind.slug == "association"))
        event = db.session.scalar(select(func.min(AuditEventNetwork.event_id)).where(AuditEventNetwork.network_id == a))
        from repertoire.operations import queue_bulk
        coord_a = db.session.scalar(select(User).where(User.email == "coord.a@example.org"))
        job = queue_bulk(db.session, "bulk.export", [rouen], coord_a, {"q": "rouen"}, [a]).id  # network A's export
        db.session.commit()
    wait_inline(app)
    return {"job": job, "event": event, "a": a, "b": b, "request": request_of(app, "Association Puits du Sahel"),
            "lyon_request": request_of(app, "Lyon Solidarité Sahel"), "actor": rouen, "pair": (rouen, rouen_again),
            "revision": revision, "kind": kind_id, "member": member}


# -- point 1: authorisation by URL, every role × route, from the url_map ---

LIST, SCOPED, SHARED, ADMIN = "list", "scoped", "shared", "admin"
ROUTES = {  # every back-office endpoint: what it needs
    "moderation.queue": LIST, "moderation.dashboard": LIST, "moderation.actors": LIST,
    "moderation.duplicates": LIST, "moderation.freshness": LIST,
    "moderation.request_detail": SCOPED, "moderation.approve": SCOPED, "moderation.reject": SCOPED,
    "moderation.close_report": SCOPED, "moderation.edit_actor": SCOPED, "moderation.archive": SCOPED,
    "moderation.restore": SCOPED, "moderation.history": SCOPED, "moderation.restore_revision": SCOPED,
    "moderation.dismiss_duplicate": SCOPED, "moderation.merge_duplicate": SCOPED,
    "moderation.taxonomy": SHARED, "moderation.add_term": SHARED, "moderation.change_term": SHARED,
    "moderation.import_file": SHARED, "moderation.confirm_import": SHARED,
    "moderation.import_valid_rows": SHARED, "moderation.refused_file": SHARED, "moderation.import_report": SHARED,
    "moderation.journal": LIST, "moderation.journal_csv": LIST, "moderation.journal_event": SCOPED,
    "moderation.undo_event": SHARED, "moderation.confirm_term": SHARED,
    "moderation.bulk": LIST, "moderation.bulk_apply": LIST, "moderation.jobs": LIST,
    "moderation.job_detail": SCOPED, "moderation.job_file": SCOPED, "moderation.cancel_job": SCOPED,
    "moderation.users": ADMIN, "moderation.networks_page": ADMIN, "moderation.network_detail": ADMIN,
    "moderation.network_labels": SCOPED,
}
ROLES = {  # who: (the account, what each kind of route answers them about network A's entries)
    "anonymous": (None, {LIST: 403, SCOPED: 403, SHARED: 403, ADMIN: 403}),
    "member": ("membre@example.org", {LIST: 403, SCOPED: 403, SHARED: 403, ADMIN: 403}),
    "coordinator of B": ("coord.b@example.org", {LIST: "ok", SCOPED: 404, SHARED: 403, ADMIN: 403}),
    "coordinator of A": ("coord.a@example.org", {LIST: "ok", SCOPED: "ok", SHARED: 403, ADMIN: 403}),
    "global coordinator": ("global@example.org", {LIST: "ok", SCOPED: "ok", SHARED: "ok", ADMIN: 403}),
    "admin": ("admin@example.org", {LIST: "ok", SCOPED: "ok", SHARED: "ok", ADMIN: "ok"}),
}


def back_office_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith("/moderation")),
                  key=lambda r: r.endpoint)


def url_for_rule(rule, world):
    """The rule's URL naming network A's entries (its pending request, a Normandy actor and pair)."""
    values = {"request_id": world["request"].id, "actor_id": world["actor"], "revision_id": world["revision"],
              "a_id": world["pair"][0], "b_id": world["pair"][1], "name": "kind", "term_id": world["kind"],
              "action": "monter", "token": "A" * 22 + ".csv", "network_id": world["a"],
              "event_id": world["event"], "job_id": world["job"]}
    if rule.endpoint == "moderation.confirm_term":
        values = {**values, "action": "retirer"}
    return rule.build({name: values[name] for name in rule.arguments})[1]


def test_every_back_office_route_is_in_the_matrix(app):
    assert {rule.endpoint for rule in back_office_rules(app)} == set(ROUTES)


def check_role(app, world, role):
    email, expected = ROLES[role]
    client = client_of(app, email)
    token = csrf_token(client.get("/compte/connexion").get_data(as_text=True))
    for rule in back_office_rules(app):
        url = url_for_rule(rule, world)
        if "GET" in rule.methods:
            status = client.get(url).status_code
        else:
            status = client.post(url, data={"csrf_token": token}).status_code
        want = expected[ROUTES[rule.endpoint]]
        if want == "ok":  # let in (a missing upload is a 404 of its own, not of scope)
            refused = (401, 403, 404) if ROUTES[rule.endpoint] == SCOPED else (401, 403)
            assert status not in refused and status < 500, (role, rule.rule, status)
        else:
            assert status == want, (role, rule.rule, status)


def test_authorisation_by_url_for_every_role_and_network(app, world):
    for role in ("anonymous", "member", "coordinator of B"):
        check_role(app, world, role)
    with app.app_context():  # nothing the forbidden ones tried changed anything
        actor = db.session.get(Actor, world["actor"])
        assert actor.status == "published" and actor.merged_into_id is None
        assert db.session.get(ChangeRequest, world["request"].id).status == "open"
    for role in ("coordinator of A", "global coordinator", "admin"):
        check_role(app, world, role)


def test_each_coordinator_sees_only_their_networks_queue_actors_and_duplicates(app, world):
    coord_a, coord_b = client_of(app, "coord.a@example.org"), client_of(app, "coord.b@example.org")
    everyone = client_of(app, "global@example.org")
    assert "Puits du Sahel" in text(coord_a.get("/moderation/"))
    assert "Puits du Sahel" in text(coord_a.get("/moderation/acteurs?status=pending"))
    assert "Lyon Solidarité Sahel" not in text(coord_a.get("/moderation/"))
    assert "Lyon Solidarité Sahel" in text(coord_b.get("/moderation/"))
    assert "Puits du Sahel" not in text(coord_b.get("/moderation/"))
    assert "Puits du Sahel" not in text(coord_b.get("/moderation/acteurs?status=pending"))
    assert "Jumelage" not in text(coord_b.get("/moderation/doublons"))
    assert "Comite jumelage Rouen" in text(coord_a.get("/moderation/doublons"))
    assert "1 demande en attente" in text(coord_b.get("/moderation/tableau-de-bord"))
    assert "2 demandes en attente" in text(everyone.get("/moderation/tableau-de-bord"))
    queue = text(everyone.get("/moderation/"))  # attached to no network: everything, as before
    assert "Puits du Sahel" in queue and "Lyon Solidarité Sahel" in queue
    # coordinator B decides nothing of A's, even with the id
    assert submit(coord_b, f"/moderation/demandes/{world['request'].id}/accepter", {},
                  form_url="/moderation/").status_code == 404
    assert submit(coord_a, f"/moderation/demandes/{world['request'].id}/accepter", {},
                  form_url="/moderation/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Actor.status).where(Actor.name == "Association Puits du Sahel")) == \
            "published"



@pytest.mark.parametrize("cap", [10**9, 0], ids=["by-actor", "by-score"])
def test_a_duplicate_pair_across_two_territories_is_shown_to_neither_network(app, world, cap):
    """A pair is in a network's list only when both entries are in its scope (one of them is not enough),
    whichever way the page is read (a scope with few pairs, counted, or with more than the count's cap)."""
    app.config["BACK_OFFICE_COUNT_CAP"] = cap
    lyon = add_actor(app, name="Comité de jumelage de Rouen", town="Lyon", postcode="69001", department="69",
                     email="jumelage@rouen.example.org")
    with app.app_context():
        pairs = {frozenset((p.actor_a_id, p.actor_b_id)) for p in db.session.scalars(select(DuplicatePair))}
    assert frozenset((world["actor"], lyon)) in pairs
    coord_a, coord_b = client_of(app, "coord.a@example.org"), client_of(app, "coord.b@example.org")
    everyone = client_of(app, "global@example.org")
    seen_by_a, seen_by_b = text(coord_a.get("/moderation/doublons")), text(coord_b.get("/moderation/doublons"))
    assert "Rouen (76)" in seen_by_a and "Lyon (69)" not in seen_by_a
    assert "Lyon (69)" not in seen_by_b and "Rouen (76)" not in seen_by_b
    seen_by_all = text(everyone.get("/moderation/doublons"))
    assert "Lyon (69)" in seen_by_all and "Rouen (76)" in seen_by_all

def test_members_and_those_asking_to_join_are_in_scope_wherever_their_seat(app, world):
    from repertoire.operations import submit_actor
    from repertoire.validation import Vocabulary, validate_actor
    paris = add_actor(app, name="Solidarité Paris Mali", town="Paris", postcode="75011", department="75")
    coord_a = client_of(app, "coord.a@example.org")
    assert coord_a.get(f"/moderation/acteurs/{paris}").status_code == 404
    with app.app_context():
        horizons = db.session.get(Actor, world["a"]).slug
        vocab = Vocabulary(db.session)
        actor = db.session.get(Actor, paris)
        actor.memberships  # noqa: B018
        from repertoire.operations import actor_input, update_actor
        data = actor_input(actor)
        data.networks = [{"network": horizons, "since": 2020}]
        update_actor(db.session, actor, data, vocab)
        # a submission from Marseille that asks to join Horizons Solidaires
        raw = {"name": "Marseille Tamkine", "kind": "association", "town": "Marseille", "postcode": "13001",
               "department": "13", "networks": horizons}
        data, errors = validate_actor(raw, vocab)
        assert not errors, errors
        submit_actor(db.session, db.session.scalar(select(User).where(User.email == "autre@example.org")),
                     data, vocab)
        db.session.commit()
    assert coord_a.get(f"/moderation/acteurs/{paris}").status_code == 200
    assert "Marseille Tamkine" in text(coord_a.get("/moderation/"))
    assert "Marseille Tamkine" not in text(client_of(app, "coord.b@example.org").get("/moderation/"))


def test_only_admins_make_networks_curating_and_only_network_actors(app, world):
    admin = client_of(app, "admin@example.org")
    other = add_actor(app, name="Association Caen Bamako")
    response = submit(admin, "/moderation/reseaux", {"network": slug_of(app, other)})
    assert response.status_code == 400 and "Seul un réseau publié" in text(response)
    page = text(admin.get(f"/moderation/reseaux/{world['a']}"))
    assert "coord.a@example.org" in page and "Calvados (14)" in page
    bad = submit(admin, f"/moderation/reseaux/{world['a']}", {"territory-departments": "14 999",
                                                              "territory-submit": "1"})
    assert bad.status_code == 400 and "999" in text(bad)


# -- point 3: told, not polling --------------------------------------------

def mails_to(app, email):
    return [m for m in outbox(app) if m["To"] == email]


def test_a_new_submission_mails_the_coordinators_of_its_networks_in_their_language(app, world):
    (mail,) = mails_to(app, "coord.a@example.org")
    assert mail["Subject"] == "New entry to review: Association Puits du Sahel — Répertoire"
    assert f"/moderation/demandes/{world['request'].id}" in mail.get_content()
    (mail,) = mails_to(app, "coord.b@example.org")
    assert "Lyon Solidarité Sahel" in mail["Subject"] and "Nouvelle fiche" in mail["Subject"]
    assert mails_to(app, "global@example.org") == []  # attached to no network: as before, no mail


def choose(app, email, mode):
    client = client_of(app, email)
    assert "Courriels de mes réseaux" in text(client.get("/mon-espace"))
    assert submit(client, "/mon-espace/avis", {"mode": mode}, form_url="/mon-espace").status_code == 302


def test_daily_digest_instead_of_a_mail_each_never_twice(app, world, runner, monkeypatch):
    choose(app, "coord.b@example.org", "daily")
    before = len(mails_to(app, "coord.b@example.org"))
    other = client_of(app, "autre@example.org")
    for name in ("Grenoble Burkina", "Villeurbanne Haïti"):
        form = {**LYON_FORM, "name": name, "website": "", "email": "", "phone": "",
                "department": "38" if name.startswith("G") else "69",
                "town": name.split()[0], "postcode": "38000" if name.startswith("G") else "69100"}
        assert submit(other, "/mon-espace/inscrire", form).status_code == 302
    assert len(mails_to(app, "coord.b@example.org")) == before  # no mail each any more
    result = runner.invoke(args=["notify", "digest"])
    assert result.exit_code == 0, result.output
    digest = mails_to(app, "coord.b@example.org")[before:]
    assert len(digest) == 1 and digest[0]["Subject"] == "2 nouvelles fiches à valider — Répertoire"
    body = digest[0].get_content()
    assert "Grenoble Burkina" in body and "Villeurbanne Haïti" in body and "Lyon Solidarité" not in body
    assert runner.invoke(args=["notify", "digest"]).exit_code == 0  # run twice: nothing more
    assert len(mails_to(app, "coord.b@example.org")) == before + 1
    assert mails_to(app, "coord.a@example.org")[-1]["Subject"].startswith("New entry")  # A still one each


def test_a_digest_killed_half_way_never_mails_a_submission_twice(app, world, runner, monkeypatch):
    choose(app, "coord.b@example.org", "daily")
    before = len(mails_to(app, "coord.b@example.org"))
    form = {**LYON_FORM, "name": "Grenoble Burkina", "website": "", "email": "", "phone": "", "town": "Grenoble",
            "postcode": "38000", "department": "38"}
    assert submit(client_of(app, "autre@example.org"), "/mon-espace/inscrire", form).status_code == 302
    import repertoire.web.transactions as transactions
    # killed after its commit, while sending: that mail is lost, never sent twice
    monkeypatch.setattr(transactions, "flush_queue", lambda: (_ for _ in ()).throw(KeyboardInterrupt))
    assert runner.invoke(args=["notify", "digest"]).exit_code != 0
    monkeypatch.undo()
    assert len(mails_to(app, "coord.b@example.org")) == before
    assert runner.invoke(args=["notify", "digest"]).exit_code == 0
    assert len(mails_to(app, "coord.b@example.org")) == before


def test_the_first_digest_after_a_commit_failure_sends_it_once(app, world, runner, monkeypatch):
    choose(app, "coord.b@example.org", "daily")
    before = len(mails_to(app, "coord.b@example.org"))
    form = {**LYON_FORM, "name": "Grenoble Burkina", "website": "", "email": "", "phone": "", "town": "Grenoble",
            "postcode": "38000", "department": "38"}
    assert submit(client_of(app, "autre@example.org"), "/mon-espace/inscrire", form).status_code == 302
    import repertoire.web.transactions as transactions
    monkeypatch.setattr(transactions.db.session, "commit", lambda: (_ for _ in ()).throw(KeyboardInterrupt))
    assert runner.invoke(args=["notify", "digest"]).exit_code != 0
    monkeypatch.undo()
    assert runner.invoke(args=["notify", "digest"]).exit_code == 0
    assert runner.invoke(args=["notify", "digest"]).exit_code == 0
    (mail,) = mails_to(app, "coord.b@example.org")[before:]
    assert "Grenoble Burkina" in mail.get_content()


def test_no_mail_for_a_coordinator_who_chose_none_and_the_choice_is_for_network_coordinators(app, world):
    choose(app, "coord.b@example.org", "none")
    before = len(mails_to(app, "coord.b@example.org"))
    assert submit(client_of(app, "autre@example.org"), "/mon-espace/inscrire",
                  {**LYON_FORM, "name": "Lyon Mali", "website": "", "email": "", "phone": ""}).status_code == 302
    assert len(mails_to(app, "coord.b@example.org")) == before
    everyone = client_of(app, "global@example.org")
    assert "Courriels de mes réseaux" not in text(everyone.get("/mon-espace"))
    token = csrf_token(everyone.get("/mon-espace").get_data(as_text=True))
    assert everyone.post("/mon-espace/avis", data={"csrf_token": token, "mode": "none"}).status_code == 403
    token = csrf_token(world["member"].get("/mon-espace").get_data(as_text=True))
    assert world["member"].post("/mon-espace/avis", data={"csrf_token": token, "mode": "none"}).status_code == 403


def test_the_member_is_told_when_a_coordinator_edits_their_entry(app, world):
    coord_a = client_of(app, "coord.a@example.org")
    assert submit(coord_a, f"/moderation/demandes/{world['request'].id}/accepter", {},
                  form_url="/moderation/").status_code == 302
    actor_id = world["request"].actor_id
    before = len(mails_to(app, "membre@example.org"))
    url = f"/moderation/acteurs/{actor_id}"
    form = {**ACTOR_FORM, "description": "Forages et latrines au Mali."}
    assert submit(coord_a, url, form).status_code == 302
    (mail,) = mails_to(app, "membre@example.org")[before:]
    assert "Association Puits du Sahel" in mail["Subject"] and "modifiée" in mail["Subject"]
    assert submit(coord_a, url, form).status_code == 302  # nothing changed: no mail
    assert len(mails_to(app, "membre@example.org")) == before + 1


# -- point 6: coordinators' own entries ------------------------------------

def test_a_coordinators_new_entry_in_their_scope_is_published_without_owner_nor_queue(app, world, monkeypatch):
    import repertoire.operations.audit as audit
    recorded = []
    monkeypatch.setattr(audit, "record_action", lambda session, user, kind, target, before, after, networks:
                        recorded.append((user.email, kind, target.id, before, after["name"], networks)))
    coord_a = client_of(app, "coord.a@example.org")
    form = {**ACTOR_FORM, "name": "Rouen Madagascar", "town": "Rouen", "postcode": "76000", "department": "76",
            "acronym": "", "website": "", "email": "", "phone": ""}
    response = submit(coord_a, "/mon-espace/inscrire", form)
    assert response.status_code == 302 and "/moderation/acteurs/" in response.headers["Location"]
    with app.app_context():
        actor = db.session.scalar(select(Actor).where(Actor.name == "Rouen Madagascar"))
        assert actor.status == "published" and actor.owner_id is None
        assert db.session.scalar(select(ChangeRequest).where(ChangeRequest.actor_id == actor.id)) is None
        assert recorded == [("coord.a@example.org", "publish-own", actor.id, None, "Rouen Madagascar",
                             [world["a"]])]
    assert app.test_client().get(f"/acteurs/{actor.slug}").status_code == 200
    assert "Rouen Madagascar" not in text(coord_a.get("/moderation/"))


def test_a_coordinators_entry_outside_their_networks_goes_to_the_other_networks_queue(app, world):
    coord_a = client_of(app, "coord.a@example.org")
    form = {**LYON_FORM, "name": "Lyon Haïti", "website": "", "email": "", "phone": ""}
    assert submit(coord_a, "/mon-espace/inscrire", form).status_code == 302
    with app.app_context():
        actor = db.session.scalar(select(Actor).where(Actor.name == "Lyon Haïti"))
        assert actor.status == "pending"
    assert "Lyon Haïti" in text(client_of(app, "coord.b@example.org").get("/moderation/"))
    assert "Lyon Haïti" in mails_to(app, "coord.b@example.org")[-1]["Subject"]


def test_a_global_coordinators_new_entry_is_published_directly(app, world):
    everyone = client_of(app, "global@example.org")
    form = {**LYON_FORM, "name": "Nantes Bénin", "town": "Nantes", "postcode": "44000", "department": "44",
            "website": "", "email": "", "phone": ""}
    assert submit(everyone, "/mon-espace/inscrire", form).status_code == 302
    with app.app_context():
        actor = db.session.scalar(select(Actor).where(Actor.name == "Nantes Bénin"))
        assert actor.status == "published" and actor.owner_id is None


def test_deleting_a_coordinators_account_removes_it_from_its_network(app, world):
    coord_b = client_of(app, "coord.b@example.org")
    response = submit(coord_b, "/compte/supprimer", {"password": PASSWORD})
    assert response.status_code == 302
    admin = client_of(app, "admin@example.org")
    assert "coord.b@example.org" not in text(admin.get(f"/moderation/reseaux/{world['b']}"))


# -- point 7: demo ---------------------------------------------------------

def test_demo_makes_two_curating_networks_with_local_coordinator_accounts(app, runner):
    from repertoire.demo import CURATING_NETWORKS
    result = runner.invoke(args=["demo", "--generated", "0"])
    assert result.exit_code == 0, result.output
    assert "coord.horizons@demo.example.org" in result.output
    assert runner.invoke(args=["demo", "--generated", "0"]).exit_code == 0  # again: no error, nothing doubled
    for spec in CURATING_NETWORKS:
        email, password = spec["coordinator"]
        client = app.test_client()
        login(client, email, password)
        assert client.get("/moderation/").status_code == 200
    horizons = app.test_client()
    login(horizons, "coord.horizons@demo.example.org", "demo-horizons-2026")
    with app.app_context():
        lyon = db.session.scalar(select(Actor).where(Actor.name == "Cités Unies France"))
        caen = db.session.scalar(select(Actor).where(Actor.name == "Horizons Solidaires"))
    assert horizons.get(f"/moderation/acteurs/{lyon.id}").status_code == 404
    assert horizons.get(f"/moderation/acteurs/{caen.id}").status_code == 200


def test_demo_refuses_coordinator_accounts_in_production(tmp_path):
    from conftest import build_app, dispose
    app = build_app(tmp_path, REPERTOIRE_ENV="production", SECRET_KEY="a-long-enough-secret-for-tests")
    try:
        result = app.test_cli_runner().invoke(args=["demo", "--generated", "0"])
        assert result.exit_code == 0, result.output
        assert "refuse" in result.output
        with app.app_context():
            assert db.session.scalar(select(User).where(User.email.like("%@demo.example.org"))) is None
    finally:
        dispose(app)
