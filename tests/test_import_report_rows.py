"""The import report, made in bulk, says for each row of a mixed file exactly what it said row by row.

Issue 15 point 1 made the report fast (one lookup of the file's known actors, the duplicate blocking of the whole
file in a few queries, only the slugs the file may take read). These tests hold the report of a ~50-row file to
hard facts — each row created, updated with the fields it changes, unchanged, likely duplicate of the right
published actor (with its link and reasons) or refused with its reason — and to the per-row paths a person meets
at entry (``find_duplicates``, the form's check) and to what confirming the import then does.
"""
import html
import re

from sqlalchemy import select

from conftest import add_actor
from repertoire.extensions import db
from repertoire.models import Actor, Membership
from repertoire.operations import find_duplicates
from repertoire.validation import Vocabulary, validate_actor
from test_curation import upload
from test_import_report import report_of
from web import submit, text

COLUMNS = ("name", "acronym", "kind", "town", "postcode", "department", "countries", "intervention_towns",
           "domains", "activities", "description", "website", "email", "phone", "networks")
HEADER = ",".join(COLUMNS)
BASE = {"kind": "association", "town": "Caen", "postcode": "14000", "department": "14", "countries": "ML"}


def row(**values) -> dict:
    return {**BASE, **values}


def csv_line(values: dict) -> str:
    cells = []
    for column in COLUMNS:
        value = str(values.get(column, ""))
        cells.append(f'"{value}"' if "," in value or '"' in value else value)
    return ",".join(cells)


def build(app):
    """The directory (published actors and a few others), then the file's rows with what the report must say:
    (row, state, detail) where detail is the changed fields, the duplicates {(actor name, reason codes)}, or a
    piece of the refusal's reason."""
    made = {}

    def add(key, **fields):
        made[key] = add_actor(app, **{**BASE, **fields})

    for n in range(8):
        add(f"upd{n}", name=f"Mise à Jour {n}", phone="02 31 00 00 0" + str(n), description="Ancienne.")
    for n in range(7):
        add(f"same{n}", name=f"Toujours Pareil {n}", description=f"Présentation {n}.", domains="sante")
    add("mail", name="Puits du Sahel", email="contact@puits-sahel.example.org", town="Bayeux")
    add("tel", name="Écoles du Niger", phone="02 31 45 67 89", town="Lisieux")
    add("site", name="Jardins de Thiès", website="https://www.jardins-thies.example.org/", town="Falaise")
    add("name", name="Amitié Caen Bamako")
    add("acro", name="Comité de Jumelage de Caen Portsmouth", acronym="CJCP")
    add("typo", name="Solidarité Madagascar Normandie")
    add("two_a", name="Cœur du Burkina", email="coeur@burkina.example.org", town="Vire", postcode="14500")
    add("two_b", name="Santé Burkina Vire", phone="02 31 11 22 33", town="Vire", postcode="14500")
    add("saint", name="Saint-Lô Solidarité Sénégal", town="Saint-Lô", postcode="50000", department="50")
    add("pending", status="pending", name="En Attente", email="attente@exemple.example.org")
    add("archived", status="archived", name="Archivée", email="archive@exemple.example.org")
    add("generic", name="Amitié Franco-Malienne", town="Rouen", postcode="76000", department="76")
    add("shared", name="Asso Hébergée", website="https://www.facebook.com/", town="Honfleur")
    # slug collisions: a new network of the file gets « reseau-normand-lisieux-2 », its members name it so
    add("slug1", name="Réseau Normand", town="Rouen", postcode="76000", department="76")
    add("slug2", name="Réseau Normand Lisieux", town="Rouen", postcode="76000", department="76")
    add("net", name="Réseau Publié", kind="reseau")

    rows = []  # (values, state, detail)
    for n in range(8):  # updated, each with its own changed fields
        changes = [{"description": "Nouvelle."}, {"phone": "02 31 99 99 9" + str(n)},
                   {"countries": "ML;SN"}, {"domains": "eau"}, {"website": "https://maj.example.org"},
                   {"email": "maj@exemple.example.org"}, {"acronym": "MAJ"},
                   {"description": "Nouvelle.", "activities": "ecsi", "intervention_towns": "Kayes"}][n]
        labels = [["description"], ["phone"], ["countries"], ["domains"], ["website"], ["email"], ["acronym"],
                  ["intervention_towns", "activities", "description"]][n]
        values = row(name=f"Mise à Jour {n}", phone="02 31 00 00 0" + str(n), description="Ancienne.")
        rows.append(({**values, **changes}, "update", labels))
    for n in range(7):  # unchanged, even written otherwise (case of the kind, spaces)
        rows.append((row(name=f"Toujours Pareil {n}", description=f"Présentation {n}.", domains="sante",
                         kind="Association" if n % 2 else "association"), "unchanged", None))
    rows += [  # likely duplicates of published actors: the right one named, with the reasons
        (row(name="Les Amis des Puits", email="CONTACT@Puits-Sahel.example.org", town="Caen"), "duplicate",
         {("Puits du Sahel", ("email",))}),
        (row(name="Niger Écoles", phone="+33 2 31 45 67 89", town="Lisieux"), "duplicate",
         {("Écoles du Niger", ("name", "phone"))}),
        (row(name="Thiès Jardins Solidaires", website="http://jardins-thies.example.org", town="Caen"),
         "duplicate", {("Jardins de Thiès", ("website",))}),
        (row(name="Les Amitiés Caen-Bamako"), "duplicate", {("Amitié Caen Bamako", ("name",))}),
        (row(name="CJCP"), "duplicate", {("Comité de Jumelage de Caen Portsmouth", ("name",))}),
        (row(name="Solidarite Madagscar Normandie"), "duplicate", {("Solidarité Madagascar Normandie", ("name",))}),
        (row(name="Burkina Ensemble", email="Coeur@Burkina.example.org", phone="02.31.11.22.33", town="Vire",
             postcode="14500"), "duplicate",
         {("Cœur du Burkina", ("email", "town")), ("Santé Burkina Vire", ("phone", "town"))}),
        (row(name="St-Lô Solidarité Sénégal", town="Saint-Lô", postcode="50000", department="50"), "duplicate",
         {("Saint-Lô Solidarité Sénégal", ("name",))}),
    ]
    rows += [  # created: nothing published alike
        (row(name="Nouvelle Attente", email="attente@exemple.example.org"), "create", None),  # only pending
        (row(name="Nouvelle Archive", email="archive@exemple.example.org"), "create", None),  # only archived
        (row(name="Amitié Franco-Malienne"), "create", None),  # a generic name in another town
        (row(name="Autre Hébergée", website="https://www.facebook.com/", town="Honfleur"), "create", None),
        (row(name="Réseau Normand", town="Lisieux", kind="reseau"), "create", None),  # → reseau-normand-lisieux-2
        (row(name="Membre du Réseau Normand", networks="reseau-normand-lisieux-2:2001"), "create", None),
        (row(name="Membre du Réseau Publié", networks="reseau-publie"), "create", None),
    ]
    rows += [(row(name=f"Toute Nouvelle {n}", town=town, postcode=postcode, department=department), "create", None)
             for n, (town, postcode, department) in enumerate([("Caen", "14000", "14"), ("Rouen", "76000", "76"),
                                                               ("Brest", "29200", "29")] * 4)]
    rows += [  # refused, with the reason
        (row(name="Nulle Part", department="99"), "refused", "département inconnu « 99 »"),
        (row(name="Mauvais Courriel", email="pas-une-adresse"), "refused", "adresse électronique invalide"),
        (row(name="Toute Nouvelle 0"), "refused", "même nom, même commune et même département qu'à la ligne"),
        (row(name="Membre Perdu", networks="reseau-inconnu"), "refused", "réseau inconnu « reseau-inconnu »"),
        (row(name="", town="Caen"), "refused", "le nom est obligatoire"),
        (row(name="Pays Inconnu", countries="Atlantide"), "refused", "pays inconnu « Atlantide »"),
        (row(name="Réseau Normand", town="Lisieux", kind="reseau", networks="reseau-normand-lisieux-2"), "refused",
         "même nom, même commune et même département qu'à la ligne"),
    ]
    return made, rows


def test_the_report_of_a_mixed_file_says_for_each_row_what_it_said_row_by_row(app, coordinator_client):
    made, rows = build(app)
    assert len(rows) >= 45
    content = HEADER + "\n" + "\n".join(csv_line(values) for values, _state, _detail in rows) + "\n"
    response = upload(coordinator_client, content)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]
    body = text(response)
    counts = {state: sum(1 for _v, s, _d in rows if s == state)
              for state in ("create", "duplicate", "update", "unchanged", "refused")}
    assert f"{len(rows)} lignes lues" in body
    assert f"{counts['create']} fiches à créer" in body and f"{counts['refused']} lignes invalides" in body
    assert f"{counts['update']} fiches existantes à mettre à jour" in body
    assert f"{counts['unchanged']} fiches existantes inchangées" in body
    assert f"{counts['duplicate']} doublons probables de fiches publiées" in body
    shown = report_of(response)
    labels = {"create": "à créer", "duplicate": "doublon probable", "update": "à mettre à jour",
              "unchanged": "inchangée", "refused": "refusée"}
    field_labels = {"description": "Présentation", "phone": "Téléphone", "countries": "Pays d'intervention",
                    "domains": "Domaines", "website": "Site web", "email": "Courriel", "acronym": "Sigle",
                    "intervention_towns": "Villes d'intervention", "activities": "Activités"}
    reasons = {"name": "nom identique ou proche dans la même commune", "email": "même adresse électronique",
               "website": "même site web", "phone": "même téléphone", "town": "même commune"}
    with app.app_context():
        ids = {a.name: (a.id, a.town) for a in db.session.scalars(select(Actor))}
    assert [int(line) for line, *_ in shown] == list(range(2, len(rows) + 2))
    for (values, state, detail), (line, name, shown_state, shown_detail) in zip(rows, shown):
        where = f"line {line} ({values['name']})"
        shown_detail = html.unescape(shown_detail)  # as a browser shows it
        assert shown_state == labels[state], where
        assert name == values["name"], where
        if state == "update":
            assert shown_detail == "champs modifiés : " + ", ".join(field_labels[f] for f in detail), where
        elif state == "duplicate":
            expected = sorted(f'<a href="/moderation/acteurs/{ids[other][0]}">{other}</a> ({ids[other][1]}) — '
                              + ", ".join(reasons[code] for code in codes) for other, codes in detail)
            assert sorted(shown_detail.split(" ; ")) == expected, where
        elif state == "refused":
            assert detail in shown_detail, where
        else:
            assert shown_detail == "", where

    # the bulk detector names the same actors, for the same reasons, as the one an entry meets row by row
    with app.app_context():
        vocab = Vocabulary(db.session)
        for values, state, detail in rows:
            if state in ("create", "duplicate") and not values.get("networks"):
                data, errors = validate_actor(values, vocab)
                assert not errors, values
                found = {(actor.name, tuple(why)) for actor, why in find_duplicates(db.session, data)}
                wanted = {(other, tuple(reasons[c] for c in codes)) for other, codes in detail or ()}
                assert found == wanted, values["name"]

    # importing the valid rows does what the report said
    token = re.search(r'action="/moderation/import/([^"]+)/valides"', page).group(1)
    verdict = re.search(r'name="verdict" value="([^"]+)"', page).group(1)
    done = submit(coordinator_client, f"/moderation/import/{token}/valides", {"verdict": verdict},
                  form_url="/moderation/import")
    assert done.status_code == 302
    assert f"{counts['create'] + counts['duplicate']} fiches créées, {counts['update']} mises à jour, " \
           f"{counts['unchanged']} inchangées" in text(coordinator_client.get(done.headers["Location"]))
    with app.app_context():
        network = db.session.scalar(select(Actor).where(Actor.slug == "reseau-normand-lisieux-2"))
        assert network is not None and network.town == "Lisieux"
        member = db.session.scalar(select(Actor).where(Actor.name == "Membre du Réseau Normand"))
        assert [m.network_id for m in db.session.scalars(select(Membership).where(
            Membership.actor_id == member.id))] == [network.id]
        assert db.session.get(Actor, made["upd1"]).phone == "02 31 99 99 91"


def test_a_row_naming_a_network_by_the_slug_it_would_not_get_is_refused(app, coordinator_client):
    """The slugs foreseen for the file's new actors are those importing gives, taken ones read from the database."""
    add_actor(app, **{**BASE, "name": "Réseau Normand", "town": "Rouen", "postcode": "76000", "department": "76"})
    content = HEADER + "\n" + "\n".join(csv_line(v) for v in [
        row(name="Réseau Normand", town="Lisieux", kind="reseau"),
        row(name="Membre A", networks="reseau-normand-lisieux"),
        row(name="Membre B", networks="reseau-normand-lisieux-2")]) + "\n"
    shown = report_of(upload(coordinator_client, content))
    assert [(line, state) for line, _name, state, _detail in shown] == [
        ("2", "à créer"), ("3", "à créer"), ("4", "refusée")]
    assert "réseau inconnu « reseau-normand-lisieux-2 »" in shown[2][3]


def test_addresses_are_checked_as_email_validator_checks_them():
    """normalize_email checks a plain address's domain once per domain: the answers stay email-validator's."""
    from email_validator import EmailNotValidError, validate_email
    from repertoire.validation import normalize_email

    def reference(value):
        value = value.strip()
        if not value:
            return ""
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError:
            return None

    locals_ = ["jean.dupont", "Jean.Dupont", "a", "a+b", "a_b%c", "a-b", "a..b", ".a", "a.", "x" * 64, "x" * 65,
               "Postmaster", "info", "INFO", "j'aime", "é", "a b", '"a@b"', "", "a@b"]
    domains = ["example.org", "Example.ORG", "sub.domain.fr", "b.test", "localhost", "b.c0m", "123.456", "-b.fr",
               "b-.fr", "b_c.fr", "XN--BCHER-KVA.ch", "bücher.ch", "b..fr", "b.fr.", "[127.0.0.1]", "a" * 64 + ".fr",
               "a" * 63 + ".fr", ("a" * 60 + ".") * 4 + "fr", "", "exa mple.org", "b.invalid", "b.local", "b.onion",
               "mairie-caen.fr", "b.example"]
    for local in locals_:
        for domain in domains:
            for value in (f"{local}@{domain}", f" {local}@{domain} "):
                assert normalize_email(value) == reference(value), value
    for value in ("", "  ", "pas-une-adresse", "Jean <jean@example.org>", "@example.org", "jean@", "a@b@c.fr"):
        assert normalize_email(value) == reference(value), value
