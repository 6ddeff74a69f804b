"""Issue 15: back-office lists show fifty rows a page, with page links that work without JavaScript, and
their figures are counts done by the database (the same numbers as before)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from conftest import add_user, login, new_actor
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest, User, utcnow
from repertoire.validation import Vocabulary
from web import text


def add_actors(app, count, prefix="Fiche", status="published", **fields):
    """``count`` actors named ``prefix 000``… in one transaction; return their ids."""
    ids = []
    with app.app_context():
        vocab = Vocabulary(db.session)
        for i in range(count):
            actor = new_actor(vocab, status, **{"name": f"{prefix} {i:03d}", **fields})
            db.session.flush()
            ids.append(actor.id)
        db.session.commit()
    return ids


def names_in(page: str, prefix: str) -> list[str]:
    """Names ``prefix 000``… in the page; a prefix starting with ``<`` is a pattern of its own."""
    return re.findall(prefix if prefix.startswith("<") else rf"{prefix} \d{{3}}", page)


def assert_paged(client, url, prefix, total=60):
    """Page 1 shows 50 of ``total``, links to page 2 which shows the other 10; past the end is 404."""
    sep = "&" if "?" in url else "?"
    first = client.get(url)
    assert first.status_code == 200
    body = first.get_data(as_text=True)
    shown = set(names_in(body, prefix))
    assert len(shown) == 50
    link = re.search(r'<a href="([^"]*page=2[^"]*)" rel="next">', body)
    assert link, "no link to page 2"
    second = client.get(link.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    rest = set(names_in(second.get_data(as_text=True), prefix))
    assert len(rest) == total - 50 and not rest & shown
    assert 'rel="next"' not in second.get_data(as_text=True)
    assert 'rel="prev"' in second.get_data(as_text=True)
    for page in (3, 2**63, 0, -1):
        assert client.get(f"{url}{sep}page={page}").status_code == 404, page


def test_actors_list_pages(app, coordinator_client):
    add_actors(app, 60)
    assert_paged(coordinator_client, "/moderation/acteurs", "Fiche")
    assert "60 fiches" in text(coordinator_client.get("/moderation/acteurs"))
    # the filters travel with the page link
    add_actors(app, 3, prefix="Autre", status="pending")
    assert_paged(coordinator_client, "/moderation/acteurs?status=published&sort=name", "Fiche")
    page = coordinator_client.get("/moderation/acteurs?status=pending").get_data(as_text=True)
    assert len(names_in(page, "Autre")) == 3 and not names_in(page, "Fiche") and 'rel="next"' not in page
    # an empty list is one page, not a 404
    assert coordinator_client.get("/moderation/acteurs?status=archived").status_code == 200


def test_actors_list_by_name_is_in_name_order_across_pages(app, coordinator_client):
    add_actors(app, 60)
    first = names_in(coordinator_client.get("/moderation/acteurs").get_data(as_text=True), "Fiche")
    second = names_in(coordinator_client.get("/moderation/acteurs?page=2").get_data(as_text=True), "Fiche")
    assert first + second == [f"Fiche {i:03d}" for i in range(60)]


def test_actors_list_by_founded_is_in_year_order_undated_last_across_pages(app, coordinator_client):
    """Issue 15 at 1,000,000: the order (year, undated last, then name) is the one an index walks; what the
    coordinator sees is unchanged, filtered or not, page after page."""
    dated = add_actors(app, 40, prefix="Datée")  # years 2039 down to 2000: the year order is not the name order
    add_actors(app, 25, prefix="Inconnue")
    add_actors(app, 3, prefix="Attente", status="pending")
    with app.app_context():
        for i, actor_id in enumerate(dated):
            db.session.execute(update(Actor).where(Actor.id == actor_id).values(founded=2039 - i))
        db.session.commit()
    expected = [f"Datée {i:03d}" for i in reversed(range(40))] + [f"Inconnue {i:03d}" for i in range(25)]
    pattern = r"(?:Datée|Inconnue) \d{3}"
    for url in ("/moderation/acteurs?sort=founded", "/moderation/acteurs?sort=founded&status=published"):
        first = re.findall(pattern, coordinator_client.get(url).get_data(as_text=True))
        second = re.findall(pattern, coordinator_client.get(url + "&page=2").get_data(as_text=True))
        assert first + second == expected, url
    page = coordinator_client.get("/moderation/acteurs?sort=founded&q=inconnue").get_data(as_text=True)
    assert re.findall(pattern, page) == [f"Inconnue {i:03d}" for i in range(25)]
    page = coordinator_client.get("/moderation/acteurs?sort=founded&status=pending").get_data(as_text=True)
    assert names_in(page, "Attente") == ["Attente 000", "Attente 001", "Attente 002"]
    assert not re.findall(pattern, page)


def test_actors_list_by_town_is_in_town_then_name_order_across_pages(app, coordinator_client):
    """By town, then by name (an index's order at 1,000,000), filtered or not, page after page."""
    towns = ["Vire", "Alençon", "Caen", "Lisieux", "Bayeux"]
    ids = add_actors(app, 60)
    add_actors(app, 2, prefix="Attente", status="pending", town="Agen")
    with app.app_context():
        for i, actor_id in enumerate(ids):
            db.session.execute(update(Actor).where(Actor.id == actor_id).values(town=towns[i % 5]))
        db.session.commit()
    expected = [f"Fiche {i:03d}" for town in sorted(towns) for i in range(60) if towns[i % 5] == town]
    for url in ("/moderation/acteurs?sort=town", "/moderation/acteurs?sort=town&status=published"):
        first = names_in(coordinator_client.get(url).get_data(as_text=True), "Fiche")
        second = names_in(coordinator_client.get(url + "&page=2").get_data(as_text=True), "Fiche")
        assert first + second == expected, url
    assert "60 fiches" in text(coordinator_client.get("/moderation/acteurs?sort=town&status=published"))
    page = coordinator_client.get("/moderation/acteurs?sort=town").get_data(as_text=True)
    assert names_in(page, "Attente") == ["Attente 000", "Attente 001"]  # Agen first, whatever the status
    page = coordinator_client.get("/moderation/acteurs?sort=town&q=fiche 01").get_data(as_text=True)
    assert names_in(page, "Fiche") == [n for n in expected if n.startswith("Fiche 01")]


def test_queue_pages_and_counts(app, coordinator_client):
    ids = add_actors(app, 60, status="pending")
    with app.app_context():
        for i, actor_id in enumerate(ids):
            user = User(email=f"membre{i}@example.org", password_hash="-")
            db.session.add(user)
            db.session.flush()
            db.session.add(ChangeRequest(kind="new", actor_id=actor_id, user_id=user.id,
                                         created_at=utcnow() - timedelta(minutes=60 - i)))
        db.session.commit()
    assert_paged(coordinator_client, "/moderation/", "Fiche")
    first = coordinator_client.get("/moderation/").get_data(as_text=True)
    assert "60 demandes en attente" in text(coordinator_client.get("/moderation/"))
    # the oldest first, with the member's address and the actor's town
    assert names_in(first, "Fiche")[0] == "Fiche 000" and "membre0@example.org" in first and "(Caen)" in first
    assert "60 demandes en attente" in text(coordinator_client.get("/moderation/tableau-de-bord"))


def test_freshness_pages_and_dashboard_counts_the_stale(app, coordinator_client):
    ids = add_actors(app, 60)
    add_actors(app, 2, prefix="Récente")
    with app.app_context():
        db.session.execute(update(Actor).where(Actor.id.in_(ids))
                           .values(confirmed_at=utcnow() - timedelta(days=400)))
        db.session.execute(update(Actor).where(Actor.id == ids[0]).values(confirmed_at=None))
        db.session.commit()
    assert_paged(coordinator_client, "/moderation/fraicheur", "Fiche")
    page = text(coordinator_client.get("/moderation/fraicheur"))
    assert "60 fiches à vérifier" in page and "Récente" not in page
    assert page.index("Fiche 000") < page.index("Fiche 001")  # never confirmed comes first
    assert "60 fiches à vérifier" in text(coordinator_client.get("/moderation/tableau-de-bord"))
    app.config["BACK_OFFICE_COUNT_CAP"] = 60  # at the cap: counted
    assert "60 fiches à vérifier" in text(coordinator_client.get("/moderation/tableau-de-bord"))
    app.config["BACK_OFFICE_COUNT_CAP"] = 59  # over it: the dashboard says so, the list keeps its exact count
    dashboard = text(coordinator_client.get("/moderation/tableau-de-bord"))
    assert "plus de 59 fiches à vérifier" in dashboard and "60 fiches" not in dashboard
    assert "60 fiches à vérifier" in text(coordinator_client.get("/moderation/fraicheur"))


def query_plan(query) -> str:
    """How the database would run ``query`` (a select), as text; PostgreSQL told to avoid whole-table scans,
    which a table of a few rows makes cheapest (the plan a table of a million rows would get)."""
    connection = db.session.connection()
    compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}"))
    return "\n".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))


def test_a_freshness_page_is_read_in_order_from_an_index_not_sorted(app):
    """The stale actors of a large directory (333,000 of 1,000,000) are never sorted for one page of them."""
    from repertoire.operations import stale_actors_query
    from repertoire.operations.networks import scope_stale_keys
    with app.app_context():
        for query in (stale_actors_query().limit(50), scope_stale_keys([1]).limit(50)):
            plan = query_plan(query)
            assert "TEMP B-TREE" not in plan and "Sort" not in plan and "Index" in plan.title(), plan


def test_accounts_page(app):
    add_user(app, "admin@example.org", role="admin")
    with app.app_context():
        for i in range(59):
            db.session.add(User(email=f"compte{i:03d}@example.org", password_hash="-"))
        db.session.commit()
    client = app.test_client()
    login(client, "admin@example.org")
    body = client.get("/moderation/comptes").get_data(as_text=True)
    assert "60 comptes" in body
    assert_paged(client, "/moderation/comptes", r"<td>[a-z0-9]+@example\.org</td>")


def test_submissions_per_month_counts_each_month(app, coordinator_client):
    ids = add_actors(app, 4, status="pending")
    member = add_user(app, "m@example.org")
    now = utcnow()
    last_month = (now.replace(day=1) - timedelta(days=1)).replace(day=15)
    with app.app_context():
        for actor_id, created, kind in ((ids[0], now, "new"), (ids[1], now, "new"), (ids[2], last_month, "new"),
                                        (ids[3], now, "claim"), (ids[3], now - timedelta(days=800), "new")):
            db.session.add(ChangeRequest(kind=kind, actor_id=actor_id, user_id=member, created_at=created))
        db.session.commit()
    page = text(coordinator_client.get("/moderation/tableau-de-bord"))
    assert re.search(rf"{now:%Y-%m} 2 2", page)
    assert re.search(rf"{last_month:%Y-%m} 1 1", page)
    assert len(re.findall(r"\d{4}-\d{2} 0 0", page)) == 10


def test_the_dashboard_counts_the_actors_of_each_status(app, coordinator_client):
    """Published ones are the directory's count less the others (counted each over the status index)."""
    add_actors(app, 3, prefix="Publiée")
    add_actors(app, 2, prefix="Attente", status="pending")
    add_actors(app, 1, prefix="Archivée", status="archived")
    page = text(coordinator_client.get("/moderation/tableau-de-bord"))
    assert "3 fiches publiées" in page and "2 fiches en attente" in page and "1 fiche archivée" in page
    assert "0 fiche refusée" in page
    add_actors(app, 2, prefix="Refusée", status="rejected")
    page = text(coordinator_client.get("/moderation/tableau-de-bord"))
    assert "3 fiches publiées" in page and "2 fiches refusées" in page and "1 fiche archivée" in page


def test_taxonomy_counts_published_and_all_by_term(app, coordinator_client):
    add_actors(app, 3, prefix="Publiée", domains="eau;sante", activities="ecsi")
    add_actors(app, 2, prefix="Attente", status="pending", domains="eau", activities="ecsi")
    add_actors(app, 1, prefix="Archivée", status="archived", domains="sante", kind="reseau")
    add_actors(app, 1, prefix="Refusée", status="rejected", domains="eau", kind="reseau")
    page = coordinator_client.get("/moderation/taxonomie").get_data(as_text=True)

    def counts(slug, name):
        found = re.search(rf'<code>{slug}</code></td>\s*<td><a href="/\?{name}={slug}">(\d+)</a> / (\d+)</td>', page)
        assert found, slug
        return int(found.group(1)), int(found.group(2))
    assert counts("eau", "domain") == (3, 6)
    assert counts("sante", "domain") == (3, 4)
    assert counts("ecsi", "activity") == (3, 5)
    assert counts("association", "kind") == (3, 5)
    assert counts("reseau", "kind") == (0, 2)
    assert counts("agriculture", "domain") == (0, 0)


def test_taxonomy_counts_follow_status_changes_and_equal_a_count_in_sql(app, coordinator_client, monkeypatch):
    """The published are counted by the search index, the others in SQL: after an archive and a publication
    the figures follow, and they are those of a plain count in the database."""
    from repertoire import operations
    from repertoire.operations import taxonomy
    published = add_actors(app, 3, prefix="Publiée", domains="eau;sante", activities="ecsi")
    pending = add_actors(app, 2, prefix="Attente", status="pending", domains="eau", activities="ecsi", kind="reseau")
    with app.app_context():
        operations.set_status(db.session, db.session.get(Actor, published[0]), "archived", None, "archive")
        operations.set_status(db.session, db.session.get(Actor, pending[0]), "published", None, "publish")
        db.session.commit()

    def shown():
        page = coordinator_client.get("/moderation/taxonomie").get_data(as_text=True)
        return {slug: (int(a), int(b)) for slug, a, b in re.findall(
            r'<code>([a-z-]+)</code></td>\s*<td><a href="/\?\w+=[a-z-]+">(\d+)</a> / (\d+)</td>', page)}
    by_index = shown()
    assert by_index["eau"] == (3, 5) and by_index["sante"] == (2, 3) and by_index["ecsi"] == (3, 5)
    assert by_index["association"] == (2, 3) and by_index["reseau"] == (1, 2)
    monkeypatch.setattr(taxonomy, "_published_by_slug", lambda name: None)  # the index unreadable: all in SQL
    assert shown() == by_index


def test_import_report_tells_updates_by_folded_name_town_and_department(app, coordinator_client):
    from test_curation import HEADER, upload
    add_actors(app, 1, prefix="Eau Vive", town="Caen")
    add_actors(app, 1, prefix="Côte d'Or Solidaire", town="Bayeux", postcode="14400")
    rows = ("EAU-VIVE 000,,association,caen,14000,14,ML,,,,,,,\n"        # same key, other spelling: update
            "Cote d Or solidaire 000,,association,BAYEUX,14400,14,ML,,,,,,,\n"  # update
            "Eau Vive 000,,association,Lisieux,14100,14,ML,,,,,,,\n"        # other town: create
            "Eau Vive 00,,association,Caen,14000,14,ML,,,,,,,\n")           # a prefix of a name: create
    body = text(upload(coordinator_client, HEADER + "\n" + rows))
    assert "4 lignes lues" in body
    assert "2 fiches à créer" in body and "2 fiches existantes à mettre à jour" in body
