"""Partner links through the partnerships CSV (issue 14; contract §5 has no column for a partner's actor):
a partner is linked to the one published actor of its name, country (and town), so that an export imported
into a directory without partnerships gets its links back; several candidates, or none, leave it unlinked."""
import re

import pytest
from sqlalchemy import event, select

from conftest import add_actor, edit_actor
from repertoire.extensions import db
from repertoire.models import Actor, PartnershipPartner
from test_partnerships_io import HEADER, api, confirm, run, upload

CAEN = {"name": "Comité de jumelage de Caen", "country": "FR", "locality": "Caen",
        "actor": "comite-de-jumelage-de-caen"}
LAMENTIN = {"name": "Ville du Lamentin", "country": "MQ", "locality": "Le Lamentin", "actor": "ville-du-lamentin"}
NETWORK = {"name": "Horizons Solidaires", "country": "FR", "locality": "", "actor": "horizons-solidaires"}
SESTO = {"name": "Sesto Fiorentino", "country": "IT", "locality": "Sesto Fiorentino", "actor": None}


@pytest.fixture
def directory(app):
    ids = {
        "caen": add_actor(app, name="Comité de jumelage de Caen", kind="comite-jumelage", town="Caen",
                          department="14"),
        "lamentin": add_actor(app, name="Ville du Lamentin", kind="collectivite", town="Le Lamentin",
                              department="972", postcode="97232"),
        "network": add_actor(app, name="Horizons Solidaires", kind="reseau", town="Caen", department="14"),
    }
    ids["holder"] = add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93",
                              postcode="93170", partnerships=[
                                  {"kind": "jumelage", "start": "1962", "partners": [SESTO, CAEN]},
                                  {"kind": "cooperation", "start": "2010", "partners": [LAMENTIN]},
                                  {"kind": "partenariat", "partners": [NETWORK]}])
    return ids


def partner_actor_ids(app, holder_id):
    """The directory actors named as partners by the holder's partnerships, in order (None: not linked)."""
    with app.app_context():
        return [[p.actor_id for p in partnership.partners]
                for partnership in db.session.get(Actor, holder_id).partnerships]


def test_export_wipe_import_gives_back_the_same_links(app, client, runner, tmp_path, directory):
    before = partner_actor_ids(app, directory["holder"])
    assert before == [[None, directory["caen"]], [directory["lamentin"]], [directory["network"]]]
    shown = api(client, directory["holder"])["partnerships"]
    path = tmp_path / "partenariats.csv"
    assert runner.invoke(args=["partnerships", "export", str(path)]).exit_code == 0
    assert "ville-du-lamentin" not in path.read_text(encoding="utf-8")  # the contract's CSV: no link column
    edit_actor(app, directory["holder"], partnerships=[])  # wiped
    assert partner_actor_ids(app, directory["holder"]) == []
    dry = runner.invoke(args=["partnerships", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "3 partenaires reliés à une fiche de l'annuaire." in dry.output, dry.output
    result = runner.invoke(args=["partnerships", "import", str(path)])
    assert result.exit_code == 0 and "3 partenaires reliés à une fiche de l'annuaire." in result.output, result.output
    assert partner_actor_ids(app, directory["holder"]) == before
    assert [p["partners"] for p in api(client, directory["holder"])["partnerships"]] == [
        p["partners"] for p in shown]
    # and the actor page of the partner lists the holder's partnership again
    assert "Ville de Bagnolet" in client.get("/acteurs/comite-de-jumelage-de-caen").get_data(as_text=True)


def test_names_match_without_accents_case_or_punctuation(app, client, runner, tmp_path, directory):
    content = (HEADER + "\r\nville-de-bagnolet,partenariat,active,,,COMITE DE JUMELAGE – DE CAEN,France,"
               "caen,,,\r\n")
    result = run(runner, tmp_path, content)
    assert result.exit_code == 0, result.output
    (partnership,) = api(client, directory["holder"])["partnerships"]
    assert partnership["partners"][0]["actor"] == "comite-de-jumelage-de-caen"
    assert partnership["partners"][0]["name"] == "COMITE DE JUMELAGE – DE CAEN"  # the file's spelling is kept


def test_two_actors_of_one_name_leave_the_partner_unlinked(app, client, runner, tmp_path, directory):
    add_actor(app, name="Amitiés Franco-Maliennes", town="Caen", department="14")
    add_actor(app, name="Amities franco maliennes", town="Rouen", department="76", postcode="76000")
    content = (HEADER + "\r\nville-de-bagnolet,partenariat,active,,,Amitiés Franco-Maliennes,FR,,,,"
               "\r\nville-de-bagnolet,amitie,active,,,Amitiés Franco-Maliennes,FR,Rouen,,,\r\n")
    dry = run(runner, tmp_path, content, "p.csv", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "1 partenaire relié à une fiche de l'annuaire ; 1 laissé sans lien (plusieurs fiches de ce nom)." \
        in dry.output
    assert run(runner, tmp_path, content).exit_code == 0
    ambiguous, in_rouen = api(client, directory["holder"])["partnerships"]
    assert ambiguous["partners"][0]["actor"] is None  # which one? nobody can say
    assert in_rouen["partners"][0]["actor"] == "amities-franco-maliennes-rouen"  # the town tells them apart


@pytest.mark.parametrize("partner", [
    "Comité de jumelage de Caen,IT,Caen",  # another country
    "Comité de jumelage de Caen,FR,Rouen",  # another town
    "Comité de jumelage,FR,Caen",  # another name
    "Comité en attente,FR,Caen",  # not published
    "Comité archivé,FR,Caen",
    "Ville de Bagnolet,FR,Bagnolet",  # the holder itself
])
def test_no_link_without_exactly_one_published_actor_of_that_name_country_and_town(
        app, client, runner, tmp_path, directory, partner):
    add_actor(app, name="Comité en attente", town="Caen", department="14", status="pending")
    add_actor(app, name="Comité archivé", town="Caen", department="14", status="archived")
    result = run(runner, tmp_path, HEADER + f"\r\nville-de-bagnolet,partenariat,active,,,{partner},,,\r\n")
    assert result.exit_code == 0, result.output
    assert "0 partenaire relié à une fiche de l'annuaire." in result.output
    (partnership,) = api(client, directory["holder"])["partnerships"]
    assert partnership["partners"][0]["actor"] is None


def test_a_partner_the_holder_keeps_unlinked_stays_unlinked(app, client, runner, tmp_path, directory):
    """Re-importing an export changes nothing: a partner the holder has without a link keeps none."""
    unlinked = {**CAEN, "actor": None}
    edit_actor(app, directory["holder"], partnerships=[{"kind": "partenariat", "status": "active", "start": "",
                                                        "end": "", "partners": [unlinked], "domains": [],
                                                        "description": "", "source": ""}])
    path = tmp_path / "p.csv"
    assert runner.invoke(args=["partnerships", "export", str(path)]).exit_code == 0
    result = runner.invoke(args=["partnerships", "import", str(path)])
    assert result.exit_code == 0 and "0 modifiée, 1 inchangée" in result.output, result.output
    assert partner_actor_ids(app, directory["holder"]) == [[None]]


def test_the_back_office_report_says_how_many_partners_are_linked(app, coordinator_client, client, directory):
    content = (HEADER + "\r\nville-du-lamentin,jumelage,active,,,Comité de jumelage de Caen,FR,Caen,,,\r\n"
               "ville-du-lamentin,jumelage,active,,,Santiago de Cuba,CU,Santiago de Cuba,,,\r\n").encode()
    report = upload(coordinator_client, content, "p.csv")
    page = report.get_data(as_text=True)
    assert report.status_code == 200, page
    assert "1 partenaire relié à une fiche de l'annuaire" in re.sub(r"\s+", " ", page)
    assert confirm(coordinator_client, report).status_code == 302
    first, second = api(client, directory["lamentin"])["partnerships"]
    assert (first["partners"][0]["actor"], second["partners"][0]["actor"]) == ("comite-de-jumelage-de-caen", None)


def test_the_links_are_found_in_bulk_not_row_by_row(app, runner, tmp_path, directory):
    """Checking a file reads the directory a fixed number of times, whatever its number of rows."""
    def statements(rows):
        lines = [f"ville-de-bagnolet,partenariat,active,,,Comité n° {i},FR,Caen,,," for i in range(rows)]
        with app.app_context():
            seen = []
            engine = db.engine
            listener = (lambda *args: seen.append(args[2]))
            event.listen(engine, "before_cursor_execute", listener)
            try:
                result = run(runner, tmp_path, "\r\n".join([HEADER, *lines, ""]), "p.csv", "--dry-run")
            finally:
                event.remove(engine, "before_cursor_execute", listener)
        assert result.exit_code == 0, result.output
        return len(seen)

    for i in range(3):
        add_actor(app, name=f"Comité n° {i}", town="Caen", department="14")
    assert statements(5) == statements(1500)  # 1,500 names: one query still (an OR of as many was too deep)
    with app.app_context():
        assert db.session.scalar(select(PartnershipPartner.id).limit(1)) is not None


# -- a partner withdrawn between the file's check and the import: nothing imported, never a traceback ----------

ROW_TO_CAEN = HEADER + "\r\nville-du-lamentin,jumelage,active,,,Comité de jumelage de Caen,FR,Caen,,,\r\n"


@pytest.fixture
def withdrawn_after_check(monkeypatch):
    """``arm()``: the next partnerships check passes, then Caen's committee is archived before the import writes
    (inside the import's transaction, as another coordinator's archive would land between the two on PostgreSQL)."""
    from repertoire import partnerships_io
    from repertoire.moderation import toolbox
    from repertoire.operations import archive_actor
    armed, original = [], partnerships_io.check_partnerships

    def check_then_withdraw(session, *args, **kwargs):
        result = original(session, *args, **kwargs)
        if armed:
            armed.pop()
            archive_actor(session, session.scalar(select(Actor).where(Actor.slug == "comite-de-jumelage-de-caen")))
            session.flush()
        return result

    monkeypatch.setattr(partnerships_io, "check_partnerships", check_then_withdraw)
    monkeypatch.setattr(toolbox, "check_partnerships", check_then_withdraw)
    return lambda: armed.append(True)


def test_the_command_line_imports_nothing_when_a_partner_is_withdrawn_meanwhile(
        app, runner, tmp_path, directory, withdrawn_after_check):
    before = partner_actor_ids(app, directory["lamentin"])
    path = tmp_path / "p.csv"
    path.write_text(ROW_TO_CAEN, encoding="utf-8")
    withdrawn_after_check()
    result = runner.invoke(args=["partnerships", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert "Rien n'a été importé : " in result.output and "Traceback" not in result.output, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a French message, not a crash
    assert partner_actor_ids(app, directory["lamentin"]) == before
    again = runner.invoke(args=["partnerships", "import", str(path)])  # nothing was half-done: it goes through
    assert again.exit_code == 0, again.output
    assert partner_actor_ids(app, directory["lamentin"]) == before + [[directory["caen"]]]


def test_the_back_office_keeps_the_file_when_a_partner_is_withdrawn_meanwhile(
        app, coordinator_client, directory, withdrawn_after_check):
    before = partner_actor_ids(app, directory["lamentin"])
    report = upload(coordinator_client, ROW_TO_CAEN.encode(), "p.csv")
    assert report.status_code == 200
    withdrawn_after_check()
    answer = confirm(coordinator_client, report)
    assert answer.status_code == 302
    page = coordinator_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Rien n&#39;a été importé" in page or "Rien n'a été importé" in page
    assert partner_actor_ids(app, directory["lamentin"]) == before
    assert confirm(coordinator_client, report).status_code == 302  # the file was kept: confirming again imports it
    assert partner_actor_ids(app, directory["lamentin"]) == before + [[directory["caen"]]]
