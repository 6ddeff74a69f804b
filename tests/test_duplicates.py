"""One duplicate detector: what a member is warned about at entry is what the duplicates page lists.
One status path: a merge publishes through it, dated and in the history."""
import pytest
from sqlalchemy import select

from conftest import add_actor, add_user, login
from test_networks import world  # noqa: F401  (a fixture: two curating networks)
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


# -- stored pairs: found when an actor is written, read by the page and the dashboard -------------------------

HEADER = "name,acronym,kind,town,postcode,department,countries,intervention_towns,domains,activities,description,website,email,phone"


def pair_rows(client, page=1):
    """The pairs the duplicates page lists, as (name A, name B) sets."""
    html = client.get(f"/moderation/doublons?page={page}").get_data(as_text=True)
    import re
    return {frozenset(m) for m in re.findall(r'<span class="visually-hidden"> (.*?) / (.*?)</span>', html)}


def dashboard_figure(client):
    import re
    html = client.get("/moderation/tableau-de-bord").get_data(as_text=True)
    return int(re.search(r'<span class="number">(\d+)</span> doublons? probables?', html).group(1))


def test_pairs_are_stored_when_actors_are_written_and_follow_edits_and_archiving(app, coordinator_client):
    from conftest import edit_actor
    from repertoire.operations import archive_actor
    a = add_actor(app, name="Les Amis de Ségou", town="Caen", postcode="14000")
    b = add_actor(app, name="Amis de Segou", town="Caen", postcode="14200")  # another postcode of the town
    assert pair_rows(coordinator_client) == {frozenset({"Les Amis de Ségou", "Amis de Segou"})}
    assert dashboard_figure(coordinator_client) == 1
    edit_actor(app, b, name="Jardins de Kayes")
    assert pair_rows(coordinator_client) == set() and dashboard_figure(coordinator_client) == 0
    edit_actor(app, b, name="Amis de Ségou (ADS)")
    assert pair_rows(coordinator_client) == {frozenset({"Les Amis de Ségou", "Amis de Ségou (ADS)"})}
    with app.app_context():
        archive_actor(db.session, db.session.get(Actor, a))
        db.session.commit()
    assert pair_rows(coordinator_client) == set() and dashboard_figure(coordinator_client) == 0


def test_a_dismissed_pair_stays_dismissed_after_edits_and_a_rebuild(app, coordinator_client, runner):
    from conftest import edit_actor
    a = add_actor(app, name="Comité Caen Thiès", email="comite@thies.example.org")
    b = add_actor(app, name="Comite Caen-Thies", email="Comite@Thies.example.org")
    page = coordinator_client.get("/moderation/doublons").get_data(as_text=True)
    low, high = sorted((a, b))
    assert coordinator_client.post(f"/moderation/doublons/{low}/{high}/ignorer",
                                   data={"csrf_token": csrf_token(page)}).status_code == 302
    assert pair_rows(coordinator_client) == set()
    edit_actor(app, a, description="Une description nouvelle.")
    edit_actor(app, b, name="Comité Caen–Thiès")
    assert pair_rows(coordinator_client) == set()
    assert runner.invoke(args=["duplicates", "rebuild"]).exit_code == 0
    assert pair_rows(coordinator_client) == set() and dashboard_figure(coordinator_client) == 0


def test_an_import_stores_pairs_with_existing_actors_and_among_its_rows(app, coordinator_client, runner, tmp_path):
    add_actor(app, name="Partage Sans Frontières", acronym="PSF", town="Caen", postcode="14000")
    rows = ['"PSF",,Association,Caen,14000,14,,,,,,,,',
            '"Eau Vive Normandie",,Association,Rouen,76000,76,,,,,,,,02 35 00 11 22',
            '"Groupe Eau",,Association,Évreux,27000,27,,,,,,,,+33 2.35.00.11.22',
            '"Solidarité Laos",,Association,Caen,14000,14,,,,,,https://www.facebook.com/,,']
    path = tmp_path / "actors.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert pair_rows(coordinator_client) == {frozenset({"Partage Sans Frontières", "PSF"}),
                                             frozenset({"Eau Vive Normandie", "Groupe Eau"})}
    assert dashboard_figure(coordinator_client) == 2


def test_rebuild_recomputes_the_pairs_of_an_existing_database(app, coordinator_client, runner):
    from sqlalchemy import delete
    from repertoire.models import DuplicateKey, DuplicatePair
    add_actor(app, name="Saint-Lô Solidarité Togo", town="Saint-Lô", postcode="50000", department="50")
    add_actor(app, name="St Lo Solidarite Togo", town="St-Lô", postcode="50000", department="50")
    with app.app_context():  # a database that had actors before pairs were stored
        db.session.execute(delete(DuplicatePair))
        db.session.execute(delete(DuplicateKey))
        db.session.commit()
    assert pair_rows(coordinator_client) == set()
    result = runner.invoke(args=["duplicates", "rebuild"])
    assert result.exit_code == 0 and "1 paire de doublons" in result.output, result.output
    assert pair_rows(coordinator_client) == {frozenset({"Saint-Lô Solidarité Togo", "St Lo Solidarite Togo"})}


def test_merging_removes_the_pair_and_the_page_is_paged_by_50(app, coordinator_client, runner, tmp_path):
    fifty_five_pairs(runner, tmp_path)
    first, second = pair_rows(coordinator_client, 1), pair_rows(coordinator_client, 2)
    assert len(first) == 50 and len(second) == 5 and not first & second
    assert "55 paires probables" in text(coordinator_client.get("/moderation/doublons"))
    assert coordinator_client.get("/moderation/doublons?page=3").status_code == 404
    assert coordinator_client.get("/moderation/doublons?page=99999999999999999999").status_code == 404
    with app.app_context():
        keep, drop = (db.session.scalar(select(Actor.id).where(Actor.name == n)) for n in ("Groupe 0", "Antenne 0"))
    page = coordinator_client.get(f"/moderation/doublons/{keep}/{drop}").get_data(as_text=True)
    assert coordinator_client.post(f"/moderation/doublons/{keep}/{drop}",
                                   data={"csrf_token": csrf_token(page), "keep": "a"}).status_code == 302
    assert dashboard_figure(coordinator_client) == 54
    assert frozenset({"Groupe 0", "Antenne 0"}) not in pair_rows(coordinator_client, 1) | pair_rows(coordinator_client, 2)


def test_a_restored_backup_has_its_pairs_found_again(app, runner, tmp_path):
    from conftest import build_app, dispose
    from repertoire.operations import duplicate_count
    add_actor(app, name="Amitié Caen Kayes", email="kayes@example.org")
    add_actor(app, name="Amitie Caen-Kayes", town="Caen", postcode="14000")
    assert runner.invoke(args=["backup", str(tmp_path / "backups")]).exit_code == 0
    fresh = build_app(tmp_path / "fresh")
    restored = fresh.test_cli_runner().invoke(args=["restore", str(next((tmp_path / "backups").iterdir()))])
    assert restored.exit_code == 0, restored.output
    with fresh.app_context():
        assert duplicate_count(db.session) == 1
    dispose(fresh)


def test_a_bracketed_number_tells_names_apart_where_a_bracketed_acronym_does_not(app, coordinator_client):
    add_actor(app, name="Comité de jumelage de Bayeux (2)", town="Bayeux", postcode="14400")
    add_actor(app, name="Comité de jumelage de Bayeux (3)", town="Bayeux", postcode="14400")
    add_actor(app, name="Habitat sans frontières (2)", town="Bayeux", postcode="14400")
    add_actor(app, name="Droits sans frontières (2)", town="Bayeux", postcode="14400")
    add_actor(app, name="Partage Sans Frontières (PSF)", town="Bayeux", postcode="14400")
    add_actor(app, name="PSF", town="Bayeux", postcode="14400")
    assert pair_rows(coordinator_client) == {frozenset({"Partage Sans Frontières (PSF)", "PSF"})}


def test_an_acronym_shared_by_many_actors_of_a_town_pairs_none_of_them_but_a_few_still_meet(
        app, coordinator_client, runner, tmp_path):
    """A name block (here the acronym) that 25 other actors of the commune hold singles nobody out: those actors are
    not paired through it (each would otherwise be compared with every other, 325 pairs), while a true duplicate
    among them still meets its double through their rarer blocks, and three actors sharing an acronym in a
    smaller place are paired as before."""
    many = [f'"Aru{chr(97 + n)}a Dol{chr(97 + n)}e Mik{chr(97 + n)}o",ADM,Association,Caen,14000,14,,,,,,,,'
            for n in range(26)]
    typo = '"Arubba Dolbe Mikbo",ADM,Association,Caen,14000,14,,,,,,,,'  # « Aruba Dolbe Mikbo » mistyped
    few = [f'"Vol{n}ak Ter{n}um Pos{n}il",VTP,Association,Bayeux,14400,14,,,,,,,,' for n in "abc"]
    path = tmp_path / "actors.csv"
    path.write_text(HEADER + "\n" + "\n".join(many + [typo] + few) + "\n", encoding="utf-8")
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    assert pair_rows(coordinator_client) == {frozenset({"Aruba Dolbe Mikbo", "Arubba Dolbe Mikbo"}),
                                             frozenset({"Volaak Teraum Posail", "Volbak Terbum Posbil"}),
                                             frozenset({"Volaak Teraum Posail", "Volcak Tercum Poscil"}),
                                             frozenset({"Volbak Terbum Posbil", "Volcak Tercum Poscil"})}
    assert runner.invoke(args=["duplicates", "rebuild"]).exit_code == 0  # the same pairs computed again
    assert len(pair_rows(coordinator_client)) == 4
    add_user(app, "membre@example.org")  # the same rule warns at entry
    member = app.test_client()
    login(member, "membre@example.org")
    entry = {**ACTOR_FORM, "acronym": "ADM", "town": "Caen", "postcode": "14000", "department": "14", "website": "",
             "email": "", "phone": ""}
    warned = text(submit(member, "/mon-espace/inscrire", {**entry, "name": "Alto Dune Mer"}))
    assert "figure peut-être déjà dans le répertoire" not in warned
    warned = text(submit(member, "/mon-espace/inscrire", {**entry, "name": "Aruca Dolce Mikko"}))
    assert "figure peut-être déjà dans le répertoire" in warned and "Aruca Dolce Mikco" in warned


# -- big writes: their actors are listed, and compared after the commit (issue 15 point 2) ----------------------

BIG = [  # two pairs: one in a commune, one by telephone; plus actors like nothing
    '"Les Amis de Ségou",,Association,Caen,14000,14,,,,,,,,',
    '"Amis de Segou",,Association,Caen,14200,14,,,,,,,,',
    '"Eau Vive Normandie",,Association,Rouen,76000,76,,,,,,,,02 35 00 11 22',
    '"Groupe Eau",,Association,Évreux,27000,27,,,,,,,,+33 2.35.00.11.22',
    '"Jardins de Kayes",,Association,Lisieux,14100,14,,,,,,,,',
    '"Tout Autre Chose",,Association,Bayeux,14400,14,,,,,,,,',
]
BIG_PAIRS = {frozenset({"Les Amis de Ségou", "Amis de Segou"}), frozenset({"Eau Vive Normandie", "Groupe Eau"})}


def big_import(app, client, rows, drain_seconds=0):
    """Import ``rows`` through the back office, as a big write (the inline limit lowered to 3 actors); with
    ``drain_seconds`` 0 the page compares none of them after its commit. Return the page shown next."""
    import re
    from test_curation import upload
    app.config.update(DUPLICATES_INLINE_LIMIT=3, DUPLICATES_DRAIN_SECONDS=drain_seconds)
    report = upload(client, HEADER + "\n" + "\n".join(rows) + "\n")
    token = re.search(r'action="/moderation/import/([^"]+)"', report.get_data(as_text=True)).group(1)
    done = submit(client, f"/moderation/import/{token}", {}, form_url="/moderation/import")
    assert done.status_code == 302
    return text(client.get(done.headers["Location"]))


def pending_notice(html: str) -> int:
    """The number of actors the page says are still to compare (0 if it says nothing)."""
    import re
    found = re.search(r"(\d+) (fiches? res\w+ à comparer|entr(y|ies) (is|are) still to be compared)", html)
    return int(found.group(1)) if found else 0


def test_a_big_import_lists_its_actors_and_the_refresh_command_finds_their_pairs(app, coordinator_client, runner):
    page = big_import(app, coordinator_client, BIG)
    assert "6 fiches créées" in page and pending_notice(page) == 6 and "repertoire duplicates refresh" in page
    duplicates = text(coordinator_client.get("/moderation/doublons"))
    assert pending_notice(duplicates) == 6 and "repertoire duplicates refresh" in duplicates
    assert pair_rows(coordinator_client) == set()  # not computed in the import's transaction
    dashboard = text(coordinator_client.get("/moderation/tableau-de-bord"))
    assert pending_notice(dashboard) == 6 and "repertoire duplicates refresh" in dashboard
    result = runner.invoke(args=["duplicates", "refresh"])
    assert result.exit_code == 0 and "6 fiches comparées ; 2 paires de doublons probables." in result.output, \
        result.output
    assert pair_rows(coordinator_client) == BIG_PAIRS and dashboard_figure(coordinator_client) == 2
    assert pending_notice(text(coordinator_client.get("/moderation/doublons"))) == 0
    assert pending_notice(text(coordinator_client.get("/moderation/tableau-de-bord"))) == 0
    again = runner.invoke(args=["duplicates", "refresh"])  # nothing left: nothing done, nothing lost
    assert "Aucune fiche ne restait à comparer ; 2 paires" in again.output and pair_rows(coordinator_client) == BIG_PAIRS


def test_an_idle_job_worker_compares_what_a_big_write_left(app, coordinator_client, runner):
    import threading
    import time
    from repertoire.jobs import work
    page = big_import(app, coordinator_client, BIG)
    assert pending_notice(page) == 6 and pair_rows(coordinator_client) == set()
    runner.invoke(args=["jobs", "work", "--once"])  # a run until the queue is empty leaves them (an inline thread)
    assert pending_notice(text(coordinator_client.get("/moderation/doublons"))) == 6

    def running_worker():
        with app.app_context():
            work(poll=0.05, stop=stop)
    stop = threading.Event()
    worker = threading.Thread(target=running_worker)
    worker.start()  # a running worker with no job: it compares them
    try:
        for _ in range(400):
            if not pending_notice(text(coordinator_client.get("/moderation/doublons"))):
                break
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join()
    assert pair_rows(coordinator_client) == BIG_PAIRS and dashboard_figure(coordinator_client) == 2
    assert pending_notice(text(coordinator_client.get("/moderation/doublons"))) == 0


def test_a_small_write_still_stores_its_pairs_at_once(app, coordinator_client):
    page = big_import(app, coordinator_client, BIG[:3], drain_seconds=0)  # 3 actors: within the inline limit
    assert pending_notice(page) == 0
    assert pair_rows(coordinator_client) == {frozenset({"Les Amis de Ségou", "Amis de Segou"})}


def test_the_import_page_compares_the_imported_actors_after_its_commit(app, coordinator_client):
    page = big_import(app, coordinator_client, BIG, drain_seconds=60)
    assert "6 fiches créées" in page and pending_notice(page) == 0
    assert pair_rows(coordinator_client) == BIG_PAIRS and dashboard_figure(coordinator_client) == 2


def test_the_import_command_compares_a_big_file_after_its_commit(app, coordinator_client, runner, tmp_path):
    app.config["DUPLICATES_INLINE_LIMIT"] = 3
    path = tmp_path / "actors.csv"
    path.write_text(HEADER + "\n" + "\n".join(BIG) + "\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0 and "6 acteurs importés" in result.output, result.output
    assert pair_rows(coordinator_client) == BIG_PAIRS
    assert pending_notice(text(coordinator_client.get("/moderation/doublons"))) == 0


def test_a_drain_stopped_half_way_leaves_the_rest_pending_and_each_actor_is_compared_once(
        app, coordinator_client, runner):
    from repertoire.operations import drain_pending
    big_import(app, coordinator_client, BIG)
    # the same actors written again by a second big write: listed twice, compared once
    page = big_import(app, coordinator_client, [row.replace(",,,,,,,,", ",,,,,Présentation.,,,", 1) for row in BIG])
    assert "6 mises à jour" in page and pending_notice(page) == 6
    with app.app_context():  # a process that compared 4 actors, committed, and was killed
        assert drain_pending(db.session, 4) == 4
        db.session.commit()
    assert pending_notice(text(coordinator_client.get("/moderation/doublons"))) == 2
    result = runner.invoke(args=["duplicates", "refresh"])
    assert "2 fiches comparées ; 2 paires de doublons probables." in result.output, result.output
    assert pair_rows(coordinator_client) == BIG_PAIRS and dashboard_figure(coordinator_client) == 2
    with app.app_context():  # every pair stored once
        from repertoire.models import DuplicatePair
        assert db.session.scalar(select(func_count()).select_from(DuplicatePair)) == 2


def func_count():
    from sqlalchemy import func
    return func.count()


def test_a_dismissed_pair_stays_dismissed_through_a_big_write_and_its_drain(app, coordinator_client, runner):
    a = add_actor(app, name="Comité Caen Thiès", email="comite@thies.example.org")
    b = add_actor(app, name="Comite Caen-Thies", email="Comite@Thies.example.org")
    low, high = sorted((a, b))
    page = coordinator_client.get("/moderation/doublons").get_data(as_text=True)
    assert coordinator_client.post(f"/moderation/doublons/{low}/{high}/ignorer",
                                   data={"csrf_token": csrf_token(page)}).status_code == 302
    # one of the two written again, by a big write: compared again after the commit, with the other too
    rows = ['"Comité Caen Thiès",,Association,Caen,14000,14,,,,,Jumelage.,,comite@thies.example.org,'] + BIG[3:]
    page = big_import(app, coordinator_client, rows)
    assert "1 mise à jour" in page and pending_notice(page) == 4
    assert runner.invoke(args=["duplicates", "refresh"]).exit_code == 0
    assert pair_rows(coordinator_client) == set() and dashboard_figure(coordinator_client) == 0


def test_an_actor_archived_or_merged_while_pending_is_skipped(app, coordinator_client, runner):
    from repertoire.operations import archive_actor
    big_import(app, coordinator_client, BIG)
    with app.app_context():
        ids = {name: db.session.scalar(select(Actor.id).where(Actor.name == name))
               for name in ("Amis de Segou", "Eau Vive Normandie", "Groupe Eau")}
        archive_actor(db.session, db.session.get(Actor, ids["Amis de Segou"]))
        db.session.commit()
    keep, drop = ids["Eau Vive Normandie"], ids["Groupe Eau"]
    page = coordinator_client.get(f"/moderation/doublons/{keep}/{drop}").get_data(as_text=True)
    assert coordinator_client.post(f"/moderation/doublons/{keep}/{drop}",
                                   data={"csrf_token": csrf_token(page), "keep": "a"}).status_code == 302
    assert pending_notice(text(coordinator_client.get("/moderation/doublons"))) == 6
    result = runner.invoke(args=["duplicates", "refresh"])
    assert "6 fiches comparées ; 0 paire de doublons probables." in result.output, result.output
    assert pair_rows(coordinator_client) == set() and dashboard_figure(coordinator_client) == 0


def test_two_refreshes_at_once_compare_each_actor_and_store_each_pair_once(app, coordinator_client):
    import threading
    big_import(app, coordinator_client, BIG)
    start, results = threading.Barrier(2), []

    def refresh():
        runner = app.test_cli_runner()
        start.wait()
        results.append(runner.invoke(args=["duplicates", "refresh"]))
    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.exit_code == 0 for r in results), [(r.output, r.exception) for r in results]
    assert pair_rows(coordinator_client) == BIG_PAIRS and dashboard_figure(coordinator_client) == 2
    assert pending_notice(text(coordinator_client.get("/moderation/doublons"))) == 0


def test_an_import_stands_when_the_comparison_after_it_is_interrupted(app, coordinator_client, runner, tmp_path,
                                                                    monkeypatch):
    from repertoire import operations

    def interrupted(session, limit):
        raise KeyboardInterrupt  # Ctrl-C, or the process killed, while comparing
    monkeypatch.setattr(operations, "drain_pending", interrupted)
    app.config["DUPLICATES_INLINE_LIMIT"] = 3
    path = tmp_path / "actors.csv"
    path.write_text(HEADER + "\n" + "\n".join(BIG) + "\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0 and "6 acteurs importés" in result.output, result.output
    assert "lancez « repertoire duplicates refresh »" in result.output
    assert app.test_client().get("/api/actors").get_json()["total"] == 6
    assert pending_notice(text(coordinator_client.get("/moderation/doublons"))) == 6
    monkeypatch.undo()
    assert "6 fiches comparées" in runner.invoke(args=["duplicates", "refresh"]).output
    assert pair_rows(coordinator_client) == BIG_PAIRS


def test_the_import_page_says_what_is_left_when_its_comparison_fails(app, coordinator_client, runner, monkeypatch):
    from repertoire import operations

    def failing(session, limit):
        raise RuntimeError("base indisponible")
    monkeypatch.setattr(operations, "drain_pending", failing)
    page = big_import(app, coordinator_client, BIG, drain_seconds=60)
    assert "6 fiches créées" in page and pending_notice(page) == 6  # imported; the rest said, not lost
    monkeypatch.undo()
    assert runner.invoke(args=["duplicates", "refresh"]).exit_code == 0
    assert pair_rows(coordinator_client) == BIG_PAIRS


def test_a_network_coordinator_is_told_only_of_the_actors_of_their_scope_still_to_compare(app, world):
    from test_networks import client_of
    lyon = ['"Lyon Eau Partage",,Association,Lyon,69001,69,,,,,,,,', '"Villeurbanne Sahel",,Association,Lyon,69002,69,,,,,,,,']
    big_import(app, client_of(app, "global@example.org"), BIG + lyon)
    coord_a, coord_b = client_of(app, "coord.a@example.org"), client_of(app, "coord.b@example.org")
    assert pending_notice(text(coord_a.get("/moderation/doublons"))) == 6  # Normandy's six (in English: A's choice)
    assert pending_notice(text(coord_a.get("/moderation/tableau-de-bord"))) == 6
    assert pending_notice(text(coord_b.get("/moderation/doublons"))) == 2  # Lyon's two
    assert pending_notice(text(client_of(app, "global@example.org").get("/moderation/doublons"))) == 8


# -- counts capped at BACK_OFFICE_COUNT_CAP: a page reads as many pairs as it says, the list still navigable ---------

def fifty_five_pairs(runner, tmp_path):
    lines = []
    for i in range(55):
        lines.append(f'"Groupe {i}",,Association,Caen,14000,14,,,,,,,groupe{i}@example.org,')
        lines.append(f'"Antenne {i}",,Association,Bayeux,14400,14,,,,,,,GROUPE{i}@example.org,')
    path = tmp_path / "actors.csv"
    path.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    return {frozenset({f"Groupe {i}", f"Antenne {i}"}) for i in range(55)}


def test_over_the_cap_the_pairs_are_said_to_be_more_than_it_and_every_page_is_still_reached(app, coordinator_client,
                                                                                          runner, tmp_path):
    expected = fifty_five_pairs(runner, tmp_path)
    app.config["BACK_OFFICE_COUNT_CAP"] = 20
    page = text(coordinator_client.get("/moderation/doublons"))
    assert "Plus de 20 paires probables." in page and "55 paires" not in page
    html = coordinator_client.get("/moderation/doublons").get_data(as_text=True)
    assert 'href="/moderation/doublons?page=2"' in html  # a next page while pairs remain
    first, second = pair_rows(coordinator_client, 1), pair_rows(coordinator_client, 2)
    assert len(first) == 50 and len(second) == 5 and first | second == expected
    last = coordinator_client.get("/moderation/doublons?page=2").get_data(as_text=True)
    assert 'href="/moderation/doublons?page=3"' not in last and 'href="/moderation/doublons?page=1"' in last
    assert coordinator_client.get("/moderation/doublons?page=3").status_code == 404  # no page past the last pair
    assert coordinator_client.get("/moderation/doublons?page=0").status_code == 404
    dashboard = text(coordinator_client.get("/moderation/tableau-de-bord"))
    assert "plus de 20 doublons probables" in dashboard
    app.config["BACK_OFFICE_COUNT_CAP"] = 55  # at the cap: counted, exactly
    assert "55 paires probables." in text(coordinator_client.get("/moderation/doublons"))
    assert dashboard_figure(coordinator_client) == 55
    assert coordinator_client.get("/moderation/doublons?page=3").status_code == 404
    app.config["BACK_OFFICE_COUNT_CAP"] = 54
    assert "Plus de 54 paires probables." in text(coordinator_client.get("/moderation/doublons"))
    app.config["BACK_OFFICE_COUNT_CAP"] = 1
    assert "Plus de 1 paire probable." in text(coordinator_client.get("/moderation/doublons"))


def test_the_count_cap_is_written_with_a_thousands_separator(app, coordinator_client, runner, tmp_path, monkeypatch):
    from repertoire.operations import duplicates
    fifty_five_pairs(runner, tmp_path)
    app.config["BACK_OFFICE_COUNT_CAP"] = 1000
    monkeypatch.setattr(duplicates, "_count", lambda session, query, cap: cap + 1)  # as if 1,001 were found
    html = coordinator_client.get("/moderation/doublons").get_data(as_text=True)
    assert "Plus de 1\u202f000 paires probables." in html and "Plus de 1\u202f000 fiches restent" in html
    assert "plus de 1\u202f000</span> doublons probables" in \
        coordinator_client.get("/moderation/tableau-de-bord").get_data(as_text=True)


def test_over_the_cap_the_actors_still_to_compare_are_said_to_be_more_than_it(app, coordinator_client, runner):
    app.config["BACK_OFFICE_COUNT_CAP"] = 5
    page = big_import(app, coordinator_client, BIG)
    assert "6 fiches créées" in page and "Plus de 5 fiches restent à comparer" in page
    for url in ("/moderation/doublons", "/moderation/tableau-de-bord"):
        shown = text(coordinator_client.get(url))
        assert "Plus de 5 fiches restent à comparer" in shown and "6 fiches restent" not in shown
    app.config["BACK_OFFICE_COUNT_CAP"] = 6
    assert pending_notice(text(coordinator_client.get("/moderation/doublons"))) == 6
    assert runner.invoke(args=["duplicates", "refresh"]).exit_code == 0
    app.config["BACK_OFFICE_COUNT_CAP"] = 0  # nothing left: nothing said, whatever the cap
    assert "comparer" not in text(coordinator_client.get("/moderation/tableau-de-bord"))


@pytest.mark.parametrize("cap", [1000, 3], ids=["counted", "capped"])
def test_a_network_coordinator_pages_through_the_pairs_of_their_scope_only(app, world, cap, monkeypatch):
    """Five pairs in Lyon (network B's territory), one between Lyon and Caen, one in Rouen: B's pages, two
    pairs a page, list the five, whether they are counted or more than the cap (read in score order)."""
    from test_networks import client_of
    from repertoire.moderation import toolbox
    monkeypatch.setattr(toolbox, "PER_PAGE", 2)
    for i in range(5):
        for name in (f"Cercle {i}", f"Antenne {i}"):
            add_actor(app, name=name, town="Lyon", postcode="69003", department="69", email=f"lyon{i}@example.org")
    add_actor(app, name="Pont Lyon", town="Lyon", postcode="69003", department="69", email="pont@example.org")
    add_actor(app, name="Pont Caen", email="pont@example.org")  # Caen (14): a pair across the two territories
    app.config["BACK_OFFICE_COUNT_CAP"] = cap
    coord_b = client_of(app, "coord.b@example.org")
    pages = [pair_rows(coord_b, n) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert set().union(*pages) == {frozenset({f"Cercle {i}", f"Antenne {i}"}) for i in range(5)}
    assert coord_b.get("/moderation/doublons?page=4").status_code == 404
    shown = text(coord_b.get("/moderation/doublons"))
    assert ("5 paires probables." if cap > 5 else "Plus de 3 paires probables.") in shown
    dashboard = text(coord_b.get("/moderation/tableau-de-bord"))
    assert ("5 doublons probables" if cap > 5 else "plus de 3 doublons probables") in dashboard
    everyone = client_of(app, "global@example.org")  # the whole directory: the seven pairs
    assert len(pair_rows(everyone, 1) | pair_rows(everyone, 2) | pair_rows(everyone, 3) | pair_rows(everyone, 4)) \
        == 7
