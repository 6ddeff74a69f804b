"""A curating network's scope kept as rows (issue 15 point 1, migration 0020): the rows follow every operation that
changes who is in a scope, a rebuild gives the same rows, and the counts a coordinator sees are plain counts."""
import importlib.util
import re
import threading

import pytest
from sqlalchemy import func, or_, select

from conftest import add_actor, add_user, edit_actor, login
from repertoire.extensions import db
from repertoire.models import Actor, CuratingNetwork, Membership, NetworkActor, NetworkDepartment, User
from web import submit, text

PACKAGE = __import__("repertoire").__path__[0]


def client_of(app, email):
    client = app.test_client()
    login(client, email)
    return client


def slug_of(app, actor_id):
    with app.app_context():
        return db.session.get(Actor, actor_id).slug


def plain_scope(network_id):
    """The scope by its definition, read from the sources (what the rows must hold)."""
    return set(db.session.scalars(select(Actor.id).where(or_(
        Actor.id == network_id,
        Actor.department.in_(select(NetworkDepartment.department).where(NetworkDepartment.network_id == network_id)),
        Actor.id.in_(select(Membership.actor_id).where(Membership.network_id == network_id))))))


def rows():
    return set(db.session.execute(select(NetworkActor.network_id, NetworkActor.actor_id, NetworkActor.status,
                                         NetworkActor.name_sort, NetworkActor.confirmed_at, NetworkActor.town,
                                         NetworkActor.founded)).all())


def every_plain_scope():
    """Every scope's rows by the definition, with the actor's status, sort name and confirmation date."""
    copies = {a.id: (a.status, a.name_sort, a.confirmed_at, a.town, a.founded) for a in db.session.scalars(select(Actor))}
    return {(n, a, *copies[a]) for n in db.session.scalars(select(CuratingNetwork.actor_id)) for a in plain_scope(n)}


def sees(client, actor_id) -> bool:
    status = client.get(f"/moderation/acteurs/{actor_id}").status_code
    assert status in (200, 404)
    return status == 200


@pytest.fixture
def world(app):
    """Network A curates Normandy (14, 76), network B curates the Rhône (69); a coordinator for each."""
    a = add_actor(app, name="Horizons Solidaires", kind="reseau")  # Caen (14)
    b = add_actor(app, name="Resacoop", kind="reseau", town="Lyon", postcode="69001", department="69")
    add_user(app, "admin@example.org", role="admin")
    add_user(app, "coord.a@example.org")
    add_user(app, "coord.b@example.org")
    admin = client_of(app, "admin@example.org")
    for network, departments, email in ((a, "14 76", "coord.a@example.org"), (b, "69", "coord.b@example.org")):
        response = submit(admin, "/moderation/reseaux", {"network": slug_of(app, network)})
        assert response.status_code == 302, text(response)[:500]
        url = response.headers["Location"]
        assert submit(admin, url, {"territory-departments": departments, "territory-submit": "1"}).status_code == 302
        assert submit(admin, url, {"coordinator-email": email, "coordinator-submit": "1"}).status_code == 302
    lyon = add_actor(app, name="Lyon Solidarité Sahel", town="Lyon", postcode="69003", department="69")
    return {"a": a, "b": b, "lyon": lyon, "admin": admin, "coord_a": client_of(app, "coord.a@example.org"),
            "coord_b": client_of(app, "coord.b@example.org")}


def check_rows(app):
    with app.app_context():
        assert rows() == every_plain_scope()


def test_a_department_changed_moves_the_actor_from_one_scope_to_the_other(app, world):
    lyon = world["lyon"]
    assert sees(world["coord_b"], lyon) and not sees(world["coord_a"], lyon)
    edit_actor(app, lyon, town="Rouen", postcode="76000", department="76")
    assert sees(world["coord_a"], lyon) and not sees(world["coord_b"], lyon)
    check_rows(app)


def test_a_coordinator_moving_an_actor_out_of_their_territory_loses_it(app, world):
    from web import ACTOR_FORM
    caen = add_actor(app, name="Caen Bamako", town="Caen", postcode="14000", department="14")
    form = {**ACTOR_FORM, "name": "Caen Bamako", "acronym": "", "town": "Lyon", "postcode": "69002",
            "department": "69", "website": "", "email": "", "phone": ""}
    response = submit(world["coord_a"], f"/moderation/acteurs/{caen}", form)
    assert response.status_code == 302, text(response)[:800]
    assert not sees(world["coord_a"], caen) and sees(world["coord_b"], caen)
    check_rows(app)


def test_a_status_change_keeps_the_actor_in_scope_and_the_dashboard_counts_are_plain_counts(app, world):
    from repertoire.operations import archive_actor, restore_actor
    caen = add_actor(app, name="Caen Bamako", town="Caen", postcode="14000", department="14")
    add_actor(app, status="pending", name="Rouen Dakar", town="Rouen", postcode="76000", department="76")
    with app.app_context():
        archive_actor(db.session, db.session.get(Actor, caen))
        db.session.commit()
    assert sees(world["coord_a"], caen)
    assert "Caen Bamako" in text(world["coord_a"].get("/moderation/acteurs?status=archived"))
    with app.app_context():
        scope = plain_scope(world["a"])
        counts = dict(db.session.execute(select(Actor.status, func.count()).where(Actor.id.in_(scope))
                                         .group_by(Actor.status)).all())
    assert counts == {"published": 1, "archived": 1, "pending": 1}  # the network itself; Caen; Rouen
    page = world["coord_a"].get("/moderation/tableau-de-bord").get_data(as_text=True)
    for status, label in (("published", "publiée"), ("archived", "archivée"), ("pending", "en attente")):
        n = counts[status]
        assert re.search(rf'status={status}"><span class="number">{n}</span>\s*fiches? {label}', page), status
    with app.app_context():
        restore_actor(db.session, db.session.get(Actor, caen))
        db.session.commit()
    assert sees(world["coord_a"], caen)
    check_rows(app)


def test_a_membership_added_then_removed_brings_the_actor_in_then_out(app, world):
    lyon, horizons = world["lyon"], slug_of(app, world["a"])
    edit_actor(app, lyon, networks=[{"network": horizons, "since": 2021}])
    assert sees(world["coord_a"], lyon) and sees(world["coord_b"], lyon)
    check_rows(app)
    edit_actor(app, lyon, networks=[])
    assert not sees(world["coord_a"], lyon) and sees(world["coord_b"], lyon)
    check_rows(app)


def test_a_territory_changed_and_emptied_is_followed(app, world):
    lyon, url = world["lyon"], f"/moderation/reseaux/{world['a']}"
    assert submit(world["admin"], url, {"territory-departments": "14 69", "territory-submit": "1"}).status_code == 302
    assert sees(world["coord_a"], lyon)
    check_rows(app)
    assert submit(world["admin"], url, {"territory-departments": "", "territory-submit": "1"}).status_code == 302
    assert not sees(world["coord_a"], lyon)
    with app.app_context():
        assert plain_scope(world["a"]) == {world["a"]}
    check_rows(app)


def test_a_network_made_curating_holds_its_members_at_once_and_a_merge_moves_them(app, world):
    from repertoire.operations import merge_actors
    from repertoire.operations.networks import add_coordinator, make_curating
    paris_net = add_actor(app, name="Réseau Paris Afrique", kind="reseau", town="Paris", postcode="75010",
                          department="75")
    marseille = add_actor(app, name="Marseille Tamkine", town="Marseille", postcode="13001", department="13",
                          networks=slug_of(app, paris_net))
    add_user(app, "coord.p@example.org")
    with app.app_context():
        curating = make_curating(db.session, db.session.get(Actor, paris_net))
        add_coordinator(db.session, curating, "coord.p@example.org")
        db.session.commit()
    coord_p = client_of(app, "coord.p@example.org")
    assert sees(coord_p, marseille) and sees(coord_p, paris_net) and not sees(coord_p, world["lyon"])
    check_rows(app)
    # another network merged into A: its members become A's
    other = add_actor(app, name="Collectif Toulouse Sahel", kind="reseau", town="Toulouse", postcode="31000",
                      department="31")
    toulouse = add_actor(app, name="Toulouse Niamey", town="Toulouse", postcode="31000", department="31",
                         networks=slug_of(app, other))
    assert not sees(world["coord_a"], toulouse)
    with app.app_context():
        merge_actors(db.session, db.session.get(Actor, world["a"]), db.session.get(Actor, other), {}, None)
        db.session.commit()
    assert sees(world["coord_a"], toulouse)
    check_rows(app)


def test_archiving_a_curating_network_keeps_its_scope_as_defined(app, world):
    from repertoire.operations import archive_actor
    caen = add_actor(app, name="Caen Bamako", town="Caen", postcode="14000", department="14")
    with app.app_context():
        archive_actor(db.session, db.session.get(Actor, world["a"]))
        db.session.commit()
    assert sees(world["coord_a"], caen)
    check_rows(app)


def test_a_submission_asking_to_join_and_an_import_are_in_scope(app, world, runner, tmp_path):
    from repertoire.operations import submit_actor
    from repertoire.validation import Vocabulary, validate_actor
    horizons = slug_of(app, world["a"])
    add_user(app, "membre@example.org")
    with app.app_context():
        vocab = Vocabulary(db.session)
        data, errors = validate_actor({"name": "Nice Tamkine", "kind": "association", "town": "Nice",
                                       "postcode": "06000", "department": "06", "networks": horizons}, vocab)
        assert not errors, errors
        actor = submit_actor(db.session, db.session.scalar(select(User).where(User.email == "membre@example.org")),
                             data, vocab)
        db.session.commit()
        nice = actor.id
    assert sees(world["coord_a"], nice)
    path = tmp_path / "acteurs.csv"
    path.write_text("name,kind,town,postcode,department,networks\n"
                    "Cherbourg Conakry,association,Cherbourg,50100,50,\n"
                    "Évreux Lomé,association,Évreux,27000,27," + horizons + "\n"
                    "Le Havre Dakar,association,Le Havre,76600,76,\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ids = {name: i for name, i in db.session.execute(select(Actor.name, Actor.id))}
    assert sees(world["coord_a"], ids["Le Havre Dakar"]) and sees(world["coord_a"], ids["Évreux Lomé"])
    assert not sees(world["coord_a"], ids["Cherbourg Conakry"])  # 50 is not in A's territory
    check_rows(app)


def test_a_rebuild_and_the_migration_give_the_same_rows(app, world, runner):
    edit_actor(app, world["lyon"], networks=[{"network": slug_of(app, world["a"]), "since": 2020}])
    add_actor(app, name="Caen Bamako", town="Caen", postcode="14000", department="14")
    with app.app_context():
        kept = rows()
        assert kept == every_plain_scope() and len(kept) > 4
        db.session.execute(NetworkActor.__table__.delete())
        db.session.add(NetworkActor(network_id=world["b"], actor_id=world["a"], status="published",
                                    name_sort="horizons solidaires", town="Caen"))  # a wrong row
        db.session.commit()
    assert sees(world["coord_b"], world["a"])
    result = runner.invoke(args=["networks", "rebuild"])
    assert result.exit_code == 0, result.output
    assert f"recalculés : {len(kept)} fiches" in result.output
    assert not sees(world["coord_b"], world["a"])
    with app.app_context():
        assert rows() == kept
    spec = importlib.util.spec_from_file_location("migration_0020",
                                                  f"{PACKAGE}/migrations/versions/0020_network_scope.py")
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        db.session.execute(NetworkActor.__table__.delete())
        db.session.connection().exec_driver_sql(migration.FILL)
        assert rows() == kept
        db.session.rollback()


def names_listed(client, url):
    """The actors' names a back-office list shows, in its order, and the count it prints."""
    page = client.get(url).get_data(as_text=True)
    total = int(re.search(r"<p>(\d+) fiches?( à vérifier)?</p>", page).group(1))
    return total, re.findall(r'<a href="/moderation/acteurs/\d+">([^<]+)</a>', page)


def test_a_coordinator_of_two_networks_sees_lists_and_counts_equal_to_plain_queries(app, world):
    from datetime import timedelta

    from repertoire.models import utcnow
    from repertoire.operations.networks import add_coordinator
    from repertoire.text import fold_words
    add_user(app, "coord.ab@example.org")
    with app.app_context():
        for network in (world["a"], world["b"]):
            add_coordinator(db.session, db.session.get(CuratingNetwork, network), "coord.ab@example.org")
        db.session.commit()
    edit_actor(app, world["lyon"], networks=[{"network": slug_of(app, world["a"]), "since": 2020}])  # A's and B's
    for i, (town, postcode, department) in enumerate([("Caen", "14000", "14"), ("Rouen", "76000", "76"),
                                                      ("Lyon", "69002", "69"), ("Brest", "29200", "29")]):
        add_actor(app, name=f"Solidarité {town} {i}", town=town, postcode=postcode, department=department,
                  founded=str(2000 - i % 2) if i else "")
    add_actor(app, status="pending", name="Zèbre Rouen Sahel", town="Rouen", postcode="76000", department="76")
    with app.app_context():  # two of them not confirmed for two years: stale
        for name in ("Solidarité Rouen 1", "Lyon Solidarité Sahel"):
            db.session.scalar(select(Actor).where(Actor.name == name)).confirmed_at = utcnow() - timedelta(days=800)
        db.session.commit()
        scope = plain_scope(world["a"]) | plain_scope(world["b"])
        actors = [a for a in db.session.scalars(select(Actor).where(Actor.id.in_(scope))
                                                .order_by(Actor.name_sort, Actor.id))]
        stale = [a.name for a in sorted((a for a in actors if a.status == "published" and a.confirmed_at <
                                         utcnow() - timedelta(days=365)), key=lambda a: (a.confirmed_at, a.name_sort))]
        published = [a.name for a in actors if a.status == "published"]
        solidarite = [a.name for a in actors if a.status == "published" and fold_words("solidarité") in a.name_sort]
    check_rows(app)
    both = client_of(app, "coord.ab@example.org")
    assert names_listed(both, "/moderation/acteurs") == (len(actors), [a.name for a in actors])
    assert names_listed(both, "/moderation/acteurs?status=published") == (len(published), published)
    assert names_listed(both, "/moderation/acteurs?status=published&q=Solidarité") == (len(solidarite), solidarite)
    for sort in ("founded", "town"):  # empty values last, then by name
        ordered = sorted(actors, key=lambda a: (getattr(a, sort) in (None, ""), getattr(a, sort) or 0 if sort ==
                                                 "founded" else getattr(a, sort), a.name_sort, a.id))
        assert names_listed(both, f"/moderation/acteurs?sort={sort}") == (len(actors), [a.name for a in ordered])
    assert "Solidarité Brest 3" not in text(both.get("/moderation/acteurs"))
    assert names_listed(both, "/moderation/fraicheur") == (2, stale)
    page = both.get("/moderation/tableau-de-bord").get_data(as_text=True)
    assert re.search(rf'status=published"><span class="number">{len(published)}</span>', page)
    assert re.search(r'status=pending"><span class="number">1</span>', page)
    assert re.search(r'fraicheur"><span class="number">2</span>', page)
    app.config["BACK_OFFICE_COUNT_CAP"] = 2  # at the cap (each stale actor of the two networks once): counted
    assert 'fraicheur"><span class="number">2</span>' in both.get("/moderation/tableau-de-bord").get_data(as_text=True)
    app.config["BACK_OFFICE_COUNT_CAP"] = 1
    assert 'fraicheur"><span class="number">plus de 1</span>' in \
        both.get("/moderation/tableau-de-bord").get_data(as_text=True)


def run_together(*targets):
    """Run each of ``targets`` in its own thread, all at once, and wait for them (a minute at most)."""
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def test_an_actor_added_while_a_territory_grows_is_in_scope(app, world):
    """Two transactions at once: a territory gains the Rhône while an actor of the Rhône is entered. Neither sees
    the other's uncommitted write; the scope's lock (PostgreSQL; SQLite's write lock) makes the second wait and
    read the first's."""

    from repertoire.operations.networks import set_territory
    from repertoire.validation import Vocabulary
    from conftest import new_actor
    flushed, done = threading.Event(), threading.Event()
    errors = []

    def territory():
        try:
            with app.app_context():
                set_territory(db.session, db.session.get(CuratingNetwork, world["a"]), ["14", "76", "69"])
                db.session.flush()  # its rows computed, the lock held until the commit
                flushed.set()
                done.wait(timeout=2)  # the entry below is then waiting on the lock (or, if slower, after it)
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            flushed.set()

    def entry():
        try:
            flushed.wait(timeout=30)
            with app.app_context():
                new_actor(Vocabulary(db.session), name="Villeurbanne Tombouctou", town="Villeurbanne",
                          postcode="69100", department="69")
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    run_together(territory, entry)
    assert not errors, errors
    with app.app_context():
        villeurbanne = db.session.scalar(select(Actor.id).where(Actor.name == "Villeurbanne Tombouctou"))
    assert sees(world["coord_a"], villeurbanne) and sees(world["coord_a"], world["lyon"])
    check_rows(app)


def test_a_backup_restored_keeps_the_curating_networks_their_coordinators_and_scopes(app, world, runner, tmp_path):
    """A restore recomputes the scopes from what the backup holds: the curating networks, their territories and
    coordinators must be in it, or every network coordinator of the restored instance curates nothing."""
    edit_actor(app, world["lyon"], networks=[{"network": slug_of(app, world["a"]), "since": 2020}])
    caen = add_actor(app, name="Caen Bamako", town="Caen", postcode="14000", department="14")
    assert runner.invoke(args=["backup", str(tmp_path / "b"), "--with-passwords"]).exit_code == 0
    folder = next((tmp_path / "b").iterdir())
    from conftest import build_app, dispose
    fresh = build_app(tmp_path / "fresh")
    try:
        restored = fresh.test_cli_runner().invoke(args=["restore", str(folder)])
        assert restored.exit_code == 0, restored.output
        coord_a = client_of(fresh, "coord.a@example.org")
        assert sees(coord_a, caen) and sees(coord_a, world["lyon"])  # territory and membership
        assert coord_a.get("/moderation/reseaux").status_code in (403, 404)  # still a network's coordinator only
        assert "Caen Bamako" in text(coord_a.get("/moderation/acteurs"))
        coord_b = client_of(fresh, "coord.b@example.org")
        assert not sees(coord_b, caen) and sees(coord_b, world["lyon"])
        with app.app_context():
            before = rows()
        with fresh.app_context():
            assert rows() == before
    finally:
        dispose(fresh)


def test_an_actor_edited_while_the_scopes_are_rebuilt_is_saved_and_its_rows_follow(app, world):
    """``repertoire networks rebuild`` (every row deleted then written again) while a coordinator saves an actor of
    a scope: the save must neither fail on the rows the rebuild wrote meanwhile (PostgreSQL: a duplicate key,
    the entry lost) nor leave the rows the rebuild read before it (the scope's lock, taken alone by the
    rebuild, makes one wait for the other; SQLite's write lock does the same)."""

    from repertoire.operations.networks import rebuild_scopes
    flushed, done = threading.Event(), threading.Event()
    errors = []

    def rebuild():
        try:
            with app.app_context():
                rebuild_scopes(db.session.connection())
                flushed.set()
                done.wait(timeout=2)  # the save below is then waiting (or, if slower, after the commit)
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            flushed.set()

    def save():
        try:
            flushed.wait(timeout=30)
            edit_actor(app, world["lyon"], name="Lyon Solidarité Sahel et Niger")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    run_together(rebuild, save)
    assert not errors, errors
    with app.app_context():
        assert db.session.get(Actor, world["lyon"]).name == "Lyon Solidarité Sahel et Niger"
    check_rows(app)


def test_a_member_edited_while_its_network_is_merged_away_keeps_its_scope_rows(app, world):
    """A coordinator saves an actor (its own lock held) while an admin merges the network it is a member of into
    network A (the merge moves the members without locking each of them): the merge, waiting, must not fail on
    the rows the save wrote (PostgreSQL: a duplicate key, the merge lost) and the rows must follow both."""

    from repertoire.operations import actor_input, merge_actors, update_actor
    from repertoire.validation import Vocabulary
    other = add_actor(app, name="Collectif Toulouse Sahel", kind="reseau", town="Toulouse", postcode="31000",
                      department="31")
    toulouse = add_actor(app, name="Toulouse Niamey", town="Toulouse", postcode="31000", department="31",
                         networks=slug_of(app, other))
    flushed, done = threading.Event(), threading.Event()
    errors = []

    def save():
        try:
            with app.app_context():
                actor = db.session.get(Actor, toulouse)
                data = actor_input(actor)
                data.name = "Toulouse Niamey Zinder"
                update_actor(db.session, actor, data, Vocabulary(db.session))
                db.session.flush()  # its scope rows written, held until the commit
                flushed.set()
                done.wait(timeout=2)  # the merge below is then waiting (or, if slower, after the commit)
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            flushed.set()

    def merge():
        try:
            flushed.wait(timeout=30)
            with app.app_context():
                merge_actors(db.session, db.session.get(Actor, world["a"]), db.session.get(Actor, other), {}, None)
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    run_together(save, merge)
    assert not errors, errors
    assert sees(world["coord_a"], toulouse)
    check_rows(app)
