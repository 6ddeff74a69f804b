"""Issue 16, four gaps in curating networks: a network's own journal, join requests routed to the network,
two admins at once on the same coordinator, a network's own taxonomy labels."""
import ast
import csv
import io
import pathlib

from sqlalchemy import select

from conftest import add_actor, add_user
from repertoire.extensions import db
from repertoire.models import Actor, AuditEvent, ChangeRequest, User
from test_networks import client_of, world  # noqa: F401  (the fixture: two curating networks A and B)
from web import submit, text

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
