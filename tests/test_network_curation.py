"""Issue 16, four gaps in curating networks: a network's own journal, join requests routed to the network,
two admins at once on the same coordinator, a network's own taxonomy labels."""
import ast
import csv
import io
import pathlib

from sqlalchemy import select

from conftest import add_actor, add_user
from repertoire.extensions import db
from repertoire.models import Actor, AuditEvent, ChangeRequest, CuratingNetwork, User
from test_networks import client_of, world  # noqa: F401  (the fixture: two curating networks A and B)
from test_partnership_entry import press
from web import outbox, submit, text

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "repertoire"


def approve(client, request_id):
    response = submit(client, f"/moderation/demandes/{request_id}/accepter", {}, form_url="/moderation/")
    assert response.status_code == 302, text(response)[:500]


def event_of(app, kind, label):
    with app.app_context():
        return db.session.scalar(select(AuditEvent.id).where(AuditEvent.kind == kind,
                                                             AuditEvent.target_label == label))


def user_id(app, email):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def csv_targets(response):
    assert response.status_code == 200
    return [row["target"] for row in csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))]


# -- 1. a network's coordinators read their network's journal ----------------

def test_a_network_coordinator_reads_their_networks_journal_and_nothing_else(app, world):
    coord_a, coord_b = client_of(app, "coord.a@example.org"), client_of(app, "coord.b@example.org")
    admin = client_of(app, "admin@example.org")
    approve(coord_a, world["request"].id)
    approve(coord_b, world["lyon_request"].id)
    # an admin's archive of an actor of A's territory (not a member: its seat is in Normandy)
    assert submit(admin, f"/moderation/acteurs/{world['pair'][1]}/archiver", {},
                  form_url=f"/moderation/acteurs/{world['pair'][1]}").status_code == 302
    # a shared matter: the taxonomy
    assert submit(admin, "/moderation/taxonomie/domain/ajouter", {"label": "Eau potable"},
                  form_url="/moderation/taxonomie").status_code == 302

    page = text(coord_a.get("/moderation/journal"))
    assert "Association Puits du Sahel" in page and "Comite jumelage Rouen" in page
    assert "Lyon Solidarité Sahel" not in page and "Eau potable" not in page and "Resacoop" not in page
    assert "coord.b@example.org" not in page  # nor B's coordinator in the people filter

    exported = csv_targets(coord_a.get("/moderation/journal.csv"))
    assert "Association Puits du Sahel" in exported and "Comite jumelage Rouen" in exported
    assert "Lyon Solidarité Sahel" not in exported and not any("Eau potable" in t for t in exported)

    # an admin's network menu lists the networks some event is filed under, not every network
    menu = admin.get("/moderation/journal").get_data(as_text=True).split('name="reseau"')[1].split("</select>")[0]
    assert f'value="{world["a"]}"' in menu
    idle = add_actor(app, name="Réseau sans histoire", kind="reseau", town="Brest", postcode="29200",
                     department="29")
    assert f'value="{idle}"' not in admin.get("/moderation/journal").get_data(as_text=True)
    # filters: their own network works; another network's id, in the page or the CSV, is refused
    assert "Association Puits du Sahel" in text(coord_a.get(f"/moderation/journal?reseau={world['a']}"))
    assert coord_a.get(f"/moderation/journal?reseau={world['b']}").status_code == 403
    assert coord_a.get(f"/moderation/journal.csv?reseau={world['b']}").status_code == 403
    by_b = text(coord_a.get(f"/moderation/journal?personne={user_id(app, 'coord.b@example.org')}"))
    assert "Lyon Solidarité Sahel" not in by_b and "Association Puits du Sahel" not in by_b
    assert "Lyon Solidarité Sahel" not in text(coord_a.get("/moderation/journal?type=request.approve"))

    # one event by its id: another network's does not exist for them, and nothing is undone from here
    lyon = event_of(app, "request.approve", "Lyon Solidarité Sahel")
    caen = event_of(app, "request.approve", "Association Puits du Sahel")
    assert coord_a.get(f"/moderation/journal/{lyon}").status_code == 404
    assert coord_a.get(f"/moderation/journal/{caen}").status_code == 200
    assert coord_b.get(f"/moderation/journal/{caen}").status_code == 404
    assert "Lyon Solidarité Sahel" in text(coord_b.get(f"/moderation/journal/{lyon}"))

    page_b = text(coord_b.get("/moderation/journal"))
    assert "Lyon Solidarité Sahel" in page_b and "Association Puits du Sahel" not in page_b
    assert "Demande acceptée" in page_b and "Coordinateur ajouté à un réseau" in page_b  # B reads French
    assert "Comite jumelage Rouen" not in page_b
    everything = text(admin.get("/moderation/journal"))
    assert all(name in everything for name in ("Lyon Solidarité Sahel", "Association Puits du Sahel",
                                               "Eau potable"))


def test_a_coordinator_of_two_networks_pages_through_both_without_gap_nor_repeat(app, world):
    from repertoire.operations import record_action
    admin = client_of(app, "admin@example.org")
    both = submit(admin, f"/moderation/reseaux/{world['b']}", {"coordinator-email": "coord.a@example.org",
                                                                "coordinator-submit": "1"})
    assert both.status_code == 302
    with app.app_context():  # 70 events, alternately A's, B's and both networks'
        for i in range(70):
            concerned = [[world["a"]], [world["b"]], [world["a"], world["b"]]][i % 3]
            record_action(db.session, None, "import", ("import", None, f"lot-{i:02d}.csv"), None, {}, concerned)
        record_action(db.session, None, "import", ("import", None, "ailleurs.csv"), None, {}, [])
        db.session.commit()
    client, seen, url = client_of(app, "coord.a@example.org"), [], "/moderation/journal?type=import"
    while url:
        page = text(client.get(url))
        seen += [f"lot-{i:02d}.csv" for i in range(70) if f"lot-{i:02d}.csv" in page]
        following = [line for line in client.get(url).get_data(as_text=True).split('"')
                     if line.startswith("/moderation/journal?") and "avant=" in line]
        url = following[0].replace("&amp;", "&") if following else None
    assert sorted(seen) == [f"lot-{i:02d}.csv" for i in range(70)] and len(seen) == 70
    assert "ailleurs.csv" not in text(client.get("/moderation/journal?type=import"))
    assert len(csv_targets(client.get("/moderation/journal.csv?type=import"))) == 70


def test_events_written_before_0018_are_filed_under_the_territorys_network_by_the_migration(app):
    import importlib.util
    from repertoire.operations import archive_actor
    from repertoire.operations.networks import add_coordinator, make_curating, set_territory
    network = add_actor(app, name="Réseau Bretagne Solidaire", kind="reseau", town="Rennes", postcode="35000",
                        department="35")
    quimper = add_actor(app, name="Quimper Ouagadougou", town="Quimper", postcode="29000", department="29")
    lyon = add_actor(app, name="Lyon Ouagadougou", town="Lyon", postcode="69001", department="69")
    add_user(app, "coord.bzh@example.org")
    with app.app_context():  # archived before the network curates its territory: filed under no network
        for actor in (quimper, lyon):
            archive_actor(db.session, db.session.get(Actor, actor))
        db.session.commit()
        curating = make_curating(db.session, db.session.get(Actor, network))
        set_territory(db.session, curating, ["29", "35"])
        add_coordinator(db.session, curating, "coord.bzh@example.org")
        db.session.commit()
    coordinator = client_of(app, "coord.bzh@example.org")
    assert "Quimper Ouagadougou" not in text(coordinator.get("/moderation/journal"))
    path = PACKAGE / "migrations" / "versions" / "0018_network_labels.py"
    spec = importlib.util.spec_from_file_location("migration_0018", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        for _ in range(2):  # twice: what is filed is not filed again (the primary key would refuse it)
            migration.file_under_territories(db.session.connection())
        db.session.commit()
    journal = text(coordinator.get("/moderation/journal"))
    assert "Quimper Ouagadougou" in journal and "Lyon Ouagadougou" not in journal


def kinds_written_by_the_code() -> dict[str, str]:
    """Every audit kind the package can write: the string constants in the ``kind`` argument of each
    ``record_action(...)`` call and of each ``AuditEvent(kind=...)``; kind -> where."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "record_action" and len(node.args) >= 3:
                argument = node.args[2]
            elif name == "AuditEvent":
                argument = next((k.value for k in node.keywords if k.arg == "kind"), None)
                if argument is None or isinstance(argument, ast.Attribute) or (  # kind=AuditEvent.kind: no new one
                        path.name == "audit.py" and "kind" in {n.id for n in ast.walk(argument)
                                                               if isinstance(n, ast.Name)}):  # record_action's own
                    continue
            else:
                continue
            constants = [n.value for n in ast.walk(argument) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            assert constants, f"{where}: a kind made at run time cannot be checked for a label"
            for kind in constants:
                found.setdefault(kind, where)
    return found


def test_every_audit_kind_the_code_can_write_has_a_french_label(app):
    from repertoire.moderation.journal import KINDS
    written = kinds_written_by_the_code()
    assert {"request.approve", "publish-own", "undo", "network.coordinator.add", "account.close"} <= set(written)
    missing = {kind: where for kind, where in written.items() if kind not in KINDS}
    assert not missing, missing
    with app.test_request_context():
        for kind in written:
            assert str(KINDS[kind]).strip() and str(KINDS[kind]) != kind


# -- 2. a member's change asking to join a network goes to that network ------

def ask_to_join(app, member, actor_id, network_slug):
    """The member proposes, through the entry form, that their published entry joins ``network_slug``."""
    url = f"/mon-espace/fiches/{actor_id}/modifier"
    page = press(member, url, member.get(url).get_data(as_text=True), "add_network").get_data(as_text=True)
    response = press(member, url, page, "submit", **{"networks-0-network": network_slug, "networks-0-since": "2024"})
    assert response.status_code == 302, text(response)[:2000]
    with app.app_context():
        return db.session.scalar(select(ChangeRequest).where(ChangeRequest.actor_id == actor_id,
                                                             ChangeRequest.kind == "change",
                                                             ChangeRequest.status == "open"))


def mails_to(app, email, subject_part):
    return [m for m in outbox(app) if m["To"] == email and subject_part in m["Subject"]]


def test_a_change_asking_to_join_a_network_goes_to_its_queue_and_coordinators(app, world):
    from test_networks import slug_of
    coord_a, coord_b = client_of(app, "coord.a@example.org"), client_of(app, "coord.b@example.org")
    approve(coord_b, world["lyon_request"].id)  # Lyon (B's territory), attached to autre@example.org
    with app.app_context():
        lyon = db.session.scalar(select(Actor.id).where(Actor.name == "Lyon Solidarité Sahel"))
    member = client_of(app, "autre@example.org")
    change = ask_to_join(app, member, lyon, slug_of(app, world["a"]))
    # A's queue and B's (the seat's territory); each is told once, in their language
    assert "Lyon Solidarité Sahel" in text(coord_a.get("/moderation/"))
    assert "Lyon Solidarité Sahel" in text(coord_b.get("/moderation/"))
    assert coord_a.get(f"/moderation/demandes/{change.id}").status_code == 200
    assert len(mails_to(app, "coord.a@example.org", "Lyon Solidarité Sahel")) == 1
    (mail,) = mails_to(app, "coord.b@example.org", "Demande d'adhésion à valider : Lyon Solidarité Sahel")
    assert f"/moderation/demandes/{change.id}" in mail.get_content()
    # the same proposal sent again: no second mail
    ask_again = press(member, f"/mon-espace/fiches/{lyon}/modifier",
                      member.get(f"/mon-espace/fiches/{lyon}/modifier").get_data(as_text=True), "submit")
    assert ask_again.status_code == 302
    assert len(mails_to(app, "coord.a@example.org", "Lyon Solidarité Sahel")) == 1
    # A's coordinator decides it: the entry joins A, and the decision is in A's journal
    approve(coord_a, change.id)
    with app.app_context():
        actor = db.session.get(Actor, lyon)
        assert [m.network_id for m in actor.memberships] == [world["a"]]
    assert "Lyon Solidarité Sahel" in text(coord_a.get("/moderation/journal?type=request.approve"))


def test_a_change_not_asking_to_join_stays_out_of_other_networks_and_a_refusal_is_in_their_journal(app, world):
    from test_networks import slug_of
    coord_a, coord_b = client_of(app, "coord.a@example.org"), client_of(app, "coord.b@example.org")
    approve(coord_b, world["lyon_request"].id)
    with app.app_context():
        lyon = db.session.scalar(select(Actor.id).where(Actor.name == "Lyon Solidarité Sahel"))
    member = client_of(app, "autre@example.org")
    url = f"/mon-espace/fiches/{lyon}/modifier"
    assert press(member, url, member.get(url).get_data(as_text=True), "submit",
                 description="Puits et maraîchage au Sahel.").status_code == 302
    with app.app_context():
        plain = db.session.scalar(select(ChangeRequest.id).where(ChangeRequest.kind == "change"))
    assert "Lyon Solidarité Sahel" not in text(coord_a.get("/moderation/"))
    assert coord_a.get(f"/moderation/demandes/{plain}").status_code == 404
    assert mails_to(app, "coord.a@example.org", "Lyon") == []
    # now it asks to join A: in A's queue; A refuses it, which A's journal shows
    change = ask_to_join(app, member, lyon, slug_of(app, world["a"]))
    assert change.id == plain  # the same open proposal, now routed to A
    response = submit(coord_a, f"/moderation/demandes/{change.id}/refuser", {"reason": "Hors de notre réseau."},
                      form_url=f"/moderation/demandes/{change.id}")
    assert response.status_code == 302
    assert "Lyon Solidarité Sahel" in text(coord_a.get("/moderation/journal?type=request.reject"))
    with app.app_context():
        assert db.session.get(Actor, lyon).memberships == []


def test_the_daily_digest_includes_a_change_asking_to_join(app, world, runner):
    from test_networks import choose, slug_of
    choose(app, "coord.b@example.org", "daily")
    approve(client_of(app, "coord.a@example.org"), world["request"].id)  # Caen, A's, membre@example.org's
    with app.app_context():
        caen = db.session.scalar(select(Actor.id).where(Actor.name == "Association Puits du Sahel"))
    ask_to_join(app, client_of(app, "membre@example.org"), caen, slug_of(app, world["b"]))
    assert mails_to(app, "coord.b@example.org", "Puits du Sahel") == []  # a digest, not a mail each
    assert "Association Puits du Sahel" in text(client_of(app, "coord.b@example.org").get("/moderation/"))
    result = runner.invoke(args=["notify", "digest"])
    assert result.exit_code == 0, result.output
    (digest,) = [m for m in outbox(app) if m["To"] == "coord.b@example.org" and "Association Puits du Sahel"
                 in m.get_content()]
    assert "nouvelle fiche à valider" in digest["Subject"]


# -- 3. two admins at once on the same coordinator ----------------------------

def admin_client(app, email):
    """A logged-in admin's client and the CSRF token of its session."""
    from web import csrf_token
    client = client_of(app, email)
    return client, csrf_token(client.get("/moderation/reseaux").get_data(as_text=True))


def at_once(requests_to_send):
    """POST each ``(client, path, data)`` from its own thread (each client its own session and database
    connection), released together; return the responses."""
    import threading
    barrier = threading.Barrier(len(requests_to_send))
    responses = [None] * len(requests_to_send)

    def post(i, client, path, data):
        barrier.wait()
        responses[i] = client.post(path, data=data)

    threads = [threading.Thread(target=post, args=(i, *r)) for i, r in enumerate(requests_to_send)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def two_networks(app):
    from repertoire.operations.networks import make_curating
    actors = [add_actor(app, name=name, kind="reseau") for name in ("Réseau Nord", "Réseau Sud")]
    with app.app_context():
        ids = [make_curating(db.session, db.session.get(Actor, actor)).actor_id for actor in actors]
        db.session.commit()
    for email in ("admin1@example.org", "admin2@example.org"):
        add_user(app, email, role="admin")
    add_user(app, "personne@example.org")
    return ids


def coordinator_rows(app, email):
    from repertoire.models import NetworkCoordinator
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        return user.role, sorted(db.session.scalars(select(NetworkCoordinator.network_id)
                                                    .where(NetworkCoordinator.user_id == user.id)))


def audit_kinds(app, kind):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).all()


def test_two_admins_adding_the_same_coordinator_at_once_add_it_once(app):
    north, _south = two_networks(app)
    data = {"coordinator-email": "personne@example.org", "coordinator-submit": "1"}
    admins = [admin_client(app, email) for email in ("admin1@example.org", "admin2@example.org") * 2]
    responses = at_once([(client, f"/moderation/reseaux/{north}", {**data, "csrf_token": token})
                         for client, token in admins])
    codes = sorted(r.status_code for r in responses)
    assert codes == [302, 400, 400, 400], codes  # no 500
    for refused in (r for r in responses if r.status_code == 400):
        assert "personne@example.org coordonne déjà ce réseau." in text(refused)
    assert coordinator_rows(app, "personne@example.org") == ("coordinator", [north])
    assert len(audit_kinds(app, "network.coordinator.add")) == 1


def test_removing_a_coordinator_twice_at_once_and_from_its_two_last_networks_at_once(app):
    from repertoire.operations.networks import add_coordinator
    north, south = two_networks(app)
    with app.app_context():
        for network in (north, south):
            add_coordinator(db.session, db.session.get(CuratingNetwork, network), "personne@example.org")
        db.session.commit()
    person = user_id(app, "personne@example.org")
    # the same removal twice at once: one removes, the other is told it is done
    first, second = admin_client(app, "admin1@example.org"), admin_client(app, "admin2@example.org")
    twice = at_once([(client, f"/moderation/reseaux/{north}", {"remove": str(person), "csrf_token": token})
                     for client, token in (first, second)])
    assert [r.status_code for r in twice] == [302, 302]
    assert coordinator_rows(app, "personne@example.org") == ("coordinator", [south])
    assert len(audit_kinds(app, "network.coordinator.remove")) == 1
    messages = [text(client.get(f"/moderation/reseaux/{north}")) for client, _token in (first, second)]
    assert sum("Ce compte ne coordonne déjà plus ce réseau." in m for m in messages) == 1
    # back in both, then removed from both at once: a member again, never a coordinator of everything
    with app.app_context():
        add_coordinator(db.session, db.session.get(CuratingNetwork, north), "personne@example.org")
        db.session.commit()
    assert coordinator_rows(app, "personne@example.org") == ("coordinator", [north, south])
    both = at_once([(first[0], f"/moderation/reseaux/{north}", {"remove": str(person), "csrf_token": first[1]}),
                    (second[0], f"/moderation/reseaux/{south}", {"remove": str(person), "csrf_token": second[1]})])
    assert [r.status_code for r in both] == [302, 302]
    assert coordinator_rows(app, "personne@example.org") == ("member", [])
    assert client_of(app, "personne@example.org").get("/moderation/").status_code == 403


# -- 4. a network's own taxonomy labels ---------------------------------------

def test_a_networks_own_labels_show_on_its_pages_only(app, world):
    from repertoire.models import Domain
    from test_networks import slug_of
    a_slug, b_slug = slug_of(app, world["a"]), slug_of(app, world["b"])
    add_actor(app, name="Dispensaire de Bayeux", town="Bayeux", postcode="14400", department="14", domains="sante",
              networks=a_slug)
    add_actor(app, name="Santé Rhône Sahel", town="Lyon", postcode="69002", department="69", domains="sante",
              networks=b_slug)
    with app.app_context():
        health = db.session.scalar(select(Domain).where(Domain.slug == "sante"))
        health_id, shared = health.id, health.label
    visitor = app.test_client()
    assert shared in text(visitor.get(f"/reseaux/{a_slug}/"))  # seen (and cached) before the change
    url = f"/moderation/reseaux/{world['a']}/libelles"
    coord_a, coord_b = client_of(app, "coord.a@example.org"), client_of(app, "coord.b@example.org")
    # another network's coordinator: the page does not exist for them, and saving changes nothing
    assert coord_b.get(url).status_code == 404
    assert submit(coord_b, url, {f"domain-{health_id}": "Piraté"},
                  form_url=f"/moderation/reseaux/{world['b']}/libelles").status_code == 404
    # too long: a French message, nothing saved
    too_long = submit(client_of(app, "admin@example.org"), url, {f"domain-{health_id}": "x" * 161})
    assert too_long.status_code == 400 and "Un libellé fait 160 caractères au plus." in text(too_long)
    response = submit(coord_a, url, {f"domain-{health_id}": "Soins pour tous",
                                     f"domain-{health_id}-en": "Care for all"})
    assert response.status_code == 302
    assert 'value="Soins pour tous"' in coord_a.get(url).get_data(as_text=True)

    own = text(visitor.get(f"/reseaux/{a_slug}/"))
    assert "Soins pour tous" in own and "Dispensaire de Bayeux" in own  # the facet and the card
    assert "Soins pour tous" in text(visitor.get(f"/reseaux/{a_slug}/?domain=sante"))
    assert "Soins pour tous" in text(visitor.get(f"/reseaux/{a_slug}/statistiques"))
    for elsewhere in ("/", f"/reseaux/{b_slug}/", "/statistiques", "/?domain=sante"):
        page = text(visitor.get(elsewhere))
        assert "Soins pour tous" not in page and shared in page, elsewhere
    facets = visitor.get(f"/api/actors?network={a_slug}").get_json()["facets"]["domain"]
    assert any(f["value"] == "sante" and f["label"] == shared for f in facets)  # the API keeps the shared ones
    assert "Piraté" not in own
    assert "Horizons Solidaires" in text(client_of(app, "global@example.org").get(
        "/moderation/journal?type=network.label"))
    # emptied: back to the shared label
    assert submit(coord_a, url, {f"domain-{health_id}": "", f"domain-{health_id}-en": ""}).status_code == 302
    page = text(visitor.get(f"/reseaux/{a_slug}/"))
    assert "Soins pour tous" not in page and shared in page
