"""Files as French spreadsheets write them (issue 15, point 6): encodings, separators, .xlsx,
and the back office's import of the valid rows with a download of the refused ones."""
import csv
import io
import re
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from conftest import add_user, login
from repertoire.extensions import db
from repertoire.models import Actor
from web import csrf_token, submit, text

COLUMNS = ["name", "acronym", "kind", "town", "postcode", "department", "countries", "intervention_towns",
           "domains", "activities", "description", "website", "email", "phone"]


def row(name, **values):
    base = {"name": name, "kind": "association", "town": "Caen", "postcode": "14000", "department": "14"}
    return [{**base, **values}.get(c, "") for c in COLUMNS]


def csv_text(rows, separator=",", columns=COLUMNS):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def xlsx_bytes(rows, columns=COLUMNS, extra=None):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Acteurs"
    sheet.append(columns)
    for values in rows:
        sheet.append(values)
    if extra:
        extra(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def actors(app):
    with app.app_context():
        return {a.name: a for a in db.session.scalars(select(Actor))}


def count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Actor))


def run_import(runner, tmp_path, data: bytes, name="acteurs.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return runner.invoke(args=["import", str(path)])


# -- command line: encodings and separators ----------------------------------

def test_windows_1252_with_semicolons_reads_right_and_is_reported(app, runner, tmp_path):
    data = csv_text([row("Œuvre d'Élan", description="Budget : 5 000 € ; cœur"),
                     row("Zoé", countries="Sénégal;Mali")], ";").encode("cp1252")
    result = run_import(runner, tmp_path, data)
    assert result.exit_code == 0, result.output
    assert "Fichier lu : CSV, encodage Windows-1252, séparateur point-virgule." in result.stderr
    found = actors(app)
    assert found["Œuvre d'Élan"].description == "Budget : 5 000 € ; cœur"
    assert found["Zoé"].countries == ["SN", "ML"] or sorted(found["Zoé"].countries) == ["ML", "SN"]


@pytest.mark.parametrize("encoding,said", [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 avec BOM")])
def test_utf8_is_never_read_as_windows_1252(app, runner, tmp_path, encoding, said):
    # every UTF-8 accent is also valid Windows-1252 ("Ã©"): UTF-8 must win
    data = csv_text([row("Élan Œcuménique", description="€ — « guillemets » ’")], ";").encode(encoding)
    result = run_import(runner, tmp_path, data)
    assert result.exit_code == 0, result.output
    assert f"encodage {said}, séparateur point-virgule" in result.stderr
    assert actors(app)["Élan Œcuménique"].description == "€ — « guillemets » ’"


def test_separator_is_decided_on_the_header_not_on_quoted_values(app, runner, tmp_path):
    # semicolons: values full of quoted commas must not make it look like a comma file
    description = "Eau, santé, école, forages, puits, latrines, jardins, formations, etc."
    data = csv_text([row("Asso Virgules", description=description, intervention_towns="Kayes, cercle")] * 1, ";")
    result = run_import(runner, tmp_path, data.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert actors(app)["Asso Virgules"].description == description
    # commas, with values full of semicolons
    data = csv_text([row("Asso Points", description="a; b; c; d; e; f; g; h; i; j; k; l; m; n; o; p",
                         countries="ML;SN;BF;NE")], ",")
    result = run_import(runner, tmp_path, data.encode("utf-8"), name="b.csv")
    assert result.exit_code == 0, result.output
    assert "séparateur virgule" in result.stderr
    assert sorted(actors(app)["Asso Points"].countries) == ["BF", "ML", "NE", "SN"]


def test_quoted_header_and_trailing_empty_columns_of_a_spreadsheet(app, runner, tmp_path):
    header = ";".join(f'"{c}"' for c in COLUMNS) + ";;;\r\n"
    body = ";".join(f'"{v}"' for v in row("Asso Guillemets", description="x, y; z")) + ";;;\r\n;;;;;;;;;;;;;;;;;\r\n"
    result = run_import(runner, tmp_path, (header + body).encode("cp1252"))
    assert result.exit_code == 0, result.output
    assert actors(app)["Asso Guillemets"].description == "x, y; z"


def test_bytes_of_no_known_encoding_are_refused_in_french(app, runner, tmp_path):
    data = csv_text([row("Asso")]).encode("utf-8") + b"\x81\x8d\r\n"
    result = run_import(runner, tmp_path, data)
    assert result.exit_code == 1 and "line 3: encodage non reconnu" in result.output
    assert "Traceback" not in result.output and count(app) == 0


# -- command line: .xlsx ---------------------------------------------------------

def test_xlsx_numbers_postcodes_and_empty_trailing_rows_and_columns(app, runner, tmp_path):
    def decorate(sheet):
        sheet["Z40"].number_format = "0.00"  # a formatted, empty cell far away: trailing row and column
        sheet["Z40"].value = None
        sheet.cell(row=41, column=1).number_format = "@"
    values = [row("Asso Ain", postcode=1000, department=1, description="Née en 1994"),
              row("Asso Paris", postcode=75001.0, department=75.0, phone=231123456, countries="Maroc; RDC")]
    result = run_import(runner, tmp_path, xlsx_bytes(values, extra=decorate), name="acteurs.xlsx")
    assert result.exit_code == 0, result.output
    assert "Fichier lu : classeur Excel (.xlsx), feuille « Acteurs »." in result.stderr
    found = actors(app)
    assert (found["Asso Ain"].postcode, found["Asso Ain"].department) == ("01000", "01")
    assert (found["Asso Paris"].postcode, found["Asso Paris"].department) == ("75001", "75") and sorted(found["Asso Paris"].countries) == ["CD", "MA"]
    assert found["Asso Paris"].phone.replace(" ", "") in ("0231123456", "+33231123456")


def test_xlsx_is_recognised_by_its_content_and_its_line_numbers_are_the_sheets(app, runner, tmp_path):
    values = [row("Bonne Asso"), [], row("X")]  # row 4: the name is too short
    result = run_import(runner, tmp_path, xlsx_bytes(values), name="exporte.csv")
    assert result.exit_code == 1 and result.stdout.startswith("line 4: name")
    assert count(app) == 0  # the command line stays all or nothing


@pytest.mark.parametrize("data,name,message", [
    (b"PK\x03\x04 not really a zip", "a.xlsx", "classeur .xlsx illisible ou endommagé"),
    (b"name,kind\n", "a.xlsx", "classeur .xlsx illisible ou endommagé"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "a.xls", "les fichiers .xls (Excel 97-2003) ne sont pas lus"),
])
def test_broken_spreadsheets_get_a_french_message(app, runner, tmp_path, data, name, message):
    result = run_import(runner, tmp_path, data, name=name)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_truncated_and_tampered_xlsx_get_a_french_message(app, runner, tmp_path):
    good = xlsx_bytes([row("Asso")])
    result = run_import(runner, tmp_path, good[:len(good) // 2], name="a.xlsx")
    assert result.exit_code == 1 and "illisible ou endommagé" in result.output
    # a valid zip whose sheet is not XML
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info, b"<<not xml" if info.filename.startswith("xl/worksheets/") else source.read(info))
    result = run_import(runner, tmp_path, buffer.getvalue(), name="b.xlsx")
    assert result.exit_code == 1 and "illisible ou endommagé" in result.output and "Traceback" not in result.output
    # a zip that is not a workbook
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.txt", "hello")
    result = run_import(runner, tmp_path, buffer.getvalue(), name="c.xlsx")
    assert result.exit_code == 1 and "n'est pas un classeur .xlsx" in result.output


def test_a_zip_bomb_is_refused_before_it_is_unpacked(app, runner, tmp_path):
    good = xlsx_bytes([row("Asso")])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        with target.open("xl/sharedStrings2.xml", "w") as bomb:  # 256 MB of zeros, a few hundred kB packed
            chunk = b"\0" * (1024 * 1024)
            for _ in range(256):
                bomb.write(chunk)
    assert len(buffer.getvalue()) < 2 * 1024 * 1024
    result = run_import(runner, tmp_path, buffer.getvalue(), name="bombe.xlsx")
    assert result.exit_code == 1 and "classeur trop volumineux une fois décompressé" in result.output


def test_a_header_thousands_of_columns_wide_is_refused(app, runner, tmp_path):
    result = run_import(runner, tmp_path, xlsx_bytes([], columns=COLUMNS + [f"c{i}" for i in range(5000)]),
                        name="large.xlsx")
    assert result.exit_code == 1 and "trop de colonnes" in result.output


# -- back office: partial import and refused rows --------------------------------

def upload(client, data: bytes, filename="acteurs.csv"):
    page = client.get("/moderation/import").get_data(as_text=True)
    return client.post("/moderation/import", data={"csrf_token": csrf_token(page), "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


TRICKY = "Cœur, « quotes » \"doubles\"; point-virgule\nnouvelle ligne € =1+1"


def mixed_file() -> bytes:
    rows = [row("Asso Une", description=TRICKY, countries="Mali;Sénégal"),
            row("X", description=TRICKY, website="  pas une url  "),  # refused: name too short
            row("Asso Deux", department="99", countries="ML; SN", intervention_towns="Kayes;Ségou"),  # refused
            row("Asso Trois"),
            row("asso une")]  # refused: the same as line 2
    return csv_text(rows, ";").encode("cp1252")


def test_report_offers_the_valid_rows_and_the_refused_ones_round_trip(app, coordinator_client):
    report = upload(coordinator_client, mixed_file())
    page = report.get_data(as_text=True)
    body = text(report)
    assert report.status_code == 200
    assert "Fichier lu : CSV, encodage Windows-1252, séparateur point-virgule." in body
    assert "2 lignes valides" in body and "3 lignes invalides" in body and "Importer les 2 lignes valides" in body
    refused_url = re.search(r'href="(/moderation/import/[^"]+/refusees\.csv)"', page).group(1)
    download = coordinator_client.get(refused_url)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, as spreadsheets want it
    refused = list(csv.DictReader(io.StringIO(download.data.decode("utf-8-sig"), newline="")))
    assert list(refused[0]) == COLUMNS + ["motif"]
    original = list(csv.DictReader(io.StringIO(mixed_file().decode("cp1252"), newline=""), delimiter=";"))
    assert [{c: r[c] for c in COLUMNS} for r in refused] == [original[1], original[2], original[4]]
    assert "name" in refused[0]["motif"] and "département inconnu « 99 »" in refused[1]["motif"]
    assert "ligne 2" in refused[2]["motif"]
    assert count(app) == 0  # nothing before the choice

    action = re.search(r'action="(/moderation/import/[^"]+/valides)"', page).group(1)
    verdict = re.search(r'name="verdict" value="([^"]+)"', page).group(1)
    done = coordinator_client.post(action, data={"csrf_token": csrf_token(page), "verdict": verdict})
    assert done.status_code == 302
    assert set(actors(app)) == {"Asso Une", "Asso Trois"}
    assert actors(app)["Asso Une"].description == TRICKY
    after = coordinator_client.get(done.headers["Location"])
    assert "3 lignes refusées n'ont pas été importées" in text(after)
    assert refused_url in after.get_data(as_text=True)  # still downloadable after the import
    # the same click again (a double click, a replay): nothing more, no error page
    again = coordinator_client.post(action, data={"csrf_token": csrf_token(page), "verdict": verdict})
    assert again.status_code == 302 and count(app) == 2
    assert "n'est plus disponible" in text(coordinator_client.get(again.headers["Location"]))

    # fixed in a spreadsheet and sent back with its `motif` column: read, the motif ignored
    fixed = [{**r, "name": "Asso Corrigée", "website": ""} if r["name"] == "X" else r for r in refused]
    fixed[1]["department"] = "14"
    fixed[2]["name"] = "Asso Quatre"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS + ["motif"])
    writer.writeheader()
    writer.writerows(fixed)
    report = upload(coordinator_client, buffer.getvalue().encode("utf-8-sig"))
    assert "3 fiches à créer" in text(report) and "Confirmer l'import" in text(report)


def test_command_line_refuses_the_same_mixed_file_whole(app, runner, tmp_path):
    result = run_import(runner, tmp_path, mixed_file())
    assert result.exit_code == 1 and count(app) == 0
    assert [l.split(":")[0] for l in result.stdout.splitlines()] == ["line 4", "line 6", "line 8"]  # the first row spans two lines


def test_a_forged_or_outdated_verdict_imports_nothing(app, coordinator_client):
    report = upload(coordinator_client, mixed_file())
    page = report.get_data(as_text=True)
    action = re.search(r'action="(/moderation/import/[^"]+/valides)"', page).group(1)
    forged = coordinator_client.post(action, data={"csrf_token": csrf_token(page), "verdict": "0" * 32})
    assert forged.status_code == 409 and count(app) == 0
    assert "ne donne plus le même résultat" in text(forged)
    # the report shown again holds the right choice, and the file is still there
    verdict = re.search(r'name="verdict" value="([^"]+)"', forged.get_data(as_text=True)).group(1)
    done = coordinator_client.post(action, data={"csrf_token": csrf_token(page), "verdict": verdict})
    assert done.status_code == 302 and count(app) == 2


def test_no_partial_import_when_the_file_itself_is_broken(app, coordinator_client):
    data = (csv_text([row("Asso Une")]) + "Asso Deux,trop,peu,de,valeurs\r\n").encode("utf-8")
    report = upload(coordinator_client, data)
    body = text(report)
    assert "valeurs au lieu de" in body and "lignes valides" not in body and "/valides" not in body
    assert "refusees.csv" not in report.get_data(as_text=True)


def test_all_or_nothing_confirmation_still_works_for_xlsx(app, coordinator_client):
    report = upload(coordinator_client, xlsx_bytes([row("Asso Excel", postcode=1000, department="01")]),
                    filename="Classeur1.xlsx")
    assert "classeur Excel (.xlsx), feuille « Acteurs »" in text(report)
    token = re.search(r'action="/moderation/import/([^"/]+)"', report.get_data(as_text=True)).group(1)
    done = submit(coordinator_client, f"/moderation/import/{token}", {}, form_url="/moderation/import")
    assert done.status_code == 302 and actors(app)["Asso Excel"].postcode == "01000"


def test_broken_xlsx_upload_is_a_report_not_an_error_page(app, coordinator_client):
    report = upload(coordinator_client, b"PK\x03\x04garbage", filename="a.xlsx")
    assert report.status_code == 400 and "illisible ou endommagé" in text(report)


def test_refused_rows_are_for_coordinators_only(app, coordinator_client):
    page = upload(coordinator_client, mixed_file()).get_data(as_text=True)
    refused_url = re.search(r'href="(/moderation/import/[^"]+/refusees\.csv)"', page).group(1)
    assert app.test_client().get(refused_url).status_code in (302, 401, 403)
    add_user(app, "membre@example.org")
    member = app.test_client()
    login(member, "membre@example.org")
    assert member.get(refused_url).status_code in (302, 403)
    assert coordinator_client.get("/moderation/import/AAAAAAAAAAAAAAAAAAAAAA.csv/refusees.csv").status_code == 404
    assert coordinator_client.get("/moderation/import/..%2F..%2Fsecret/refusees.csv").status_code == 404


def test_a_value_outside_the_header_columns_of_a_sheet_is_not_silently_dropped(app, runner, tmp_path):
    def note(sheet):
        sheet.cell(row=2, column=len(COLUMNS) + 3, value="note oubliée")
    result = run_import(runner, tmp_path, xlsx_bytes([row("Asso Note")], extra=note), name="a.xlsx")
    assert result.exit_code == 1 and "line 2: 17 valeurs au lieu de 14" in result.output and count(app) == 0


def test_excel_unicode_text_utf16_with_tabs(app, runner, tmp_path):
    data = csv_text([row("Asso Tabulée", description="Ünïcode, ; €")], "\t").encode("utf-16")
    result = run_import(runner, tmp_path, data, name="texte.txt")
    assert result.exit_code == 0, result.output
    assert "encodage UTF-16, séparateur tabulation" in result.stderr
    assert actors(app)["Asso Tabulée"].description == "Ünïcode, ; €"
