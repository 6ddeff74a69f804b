"""Counts and labels read right in French and in English: 0, 1 and 2 of everything in the back office."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from conftest import DEFAULTS, add_actor, add_user, edit_actor, login
from repertoire.extensions import db
from repertoire.models import Actor, User, utcnow
from repertoire.operations import submit_actor
from repertoire.validation import Vocabulary, validate_actor
from web import text

TOWNS = [("Caen", "14000", "14"), ("Rennes", "35000", "35")]


def directory(app, n):
    """``n`` of everything: published entries (stale, each with a pending double submitted by a member,
    hence a request and a likely pair), rejected and archived entries; an admin and ``n - 1`` other accounts."""
    add_user(app, "admin@example.org", role="admin")
    for i in range(n):
        town, postcode, dept = TOWNS[i]
        name = f"Puits pour Kayes {i}"
        add_actor(app, name=name, town=town, postcode=postcode, department=dept)
        add_actor(app, status="rejected", name=f"Refusée {i}", town="Lyon", postcode="69001", department="69")
        add_actor(app, status="archived", name=f"Archivée {i}", town="Brest", postcode="29200", department="29")
        email = f"membre{i}@example.org" if i else "admin@example.org"
        if i:
            add_user(app, email)
        with app.app_context():
            vocab = Vocabulary(db.session)
            data, errors = validate_actor({**DEFAULTS, "name": name, "town": town, "postcode": postcode,
                                           "department": dept}, vocab)
            assert not errors
            submit_actor(db.session, db.session.scalar(select(User).where(User.email == email)), data, vocab)
            db.session.execute(update(Actor).where(Actor.status == "published")
                               .values(confirmed_at=utcnow() - timedelta(days=800)))
            db.session.commit()
    client = app.test_client()
    login(client, "admin@example.org")
    return client


def pages(client, lang):
    client.get(f"/langue/{lang}")
    return {name: text(client.get(url)) for name, url in [
        ("dashboard", "/moderation/tableau-de-bord"), ("queue", "/moderation/"),
        ("actors", "/moderation/acteurs?status=published"), ("freshness", "/moderation/fraicheur"),
        ("duplicates", "/moderation/doublons"), ("accounts", "/moderation/comptes")]}


EXPECTED = {
    ("fr", 0): {"dashboard": ["0 demande en attente", "0 fiche à vérifier", "0 doublon probable",
                              "0 fiche publiée", "0 fiche en attente", "0 fiche refusée", "0 fiche archivée"],
                "queue": ["0 demande en attente"], "actors": ["0 fiche"], "accounts": ["1 compte"]},
    ("en", 0): {"dashboard": ["0 pending requests", "0 entries to check", "0 likely duplicates",
                              "0 published entries", "0 pending entries", "0 rejected entries", "0 archived entries"],
                "queue": ["0 pending requests"], "actors": ["0 entries"], "accounts": ["1 account"]},
    ("fr", 1): {"dashboard": ["1 demande en attente", "1 fiche à vérifier", "1 doublon probable",
                              "1 fiche publiée", "1 fiche en attente", "1 fiche refusée", "1 fiche archivée"],
                "queue": ["1 demande en attente"], "actors": ["1 fiche"], "freshness": ["1 fiche à vérifier"],
                "duplicates": ["1 paire probable."], "accounts": ["1 compte"]},
    ("en", 1): {"dashboard": ["1 pending request", "1 entry to check", "1 likely duplicate",
                              "1 published entry", "1 pending entry", "1 rejected entry", "1 archived entry"],
                "queue": ["1 pending request"], "actors": ["1 entry"], "freshness": ["1 entry to check"],
                "duplicates": ["1 likely pair."], "accounts": ["1 account"]},
    ("fr", 2): {"dashboard": ["2 demandes en attente", "2 fiches à vérifier", "2 doublons probables",
                              "2 fiches publiées", "2 fiches en attente", "2 fiches refusées", "2 fiches archivées"],
                "queue": ["2 demandes en attente"], "actors": ["2 fiches"], "freshness": ["2 fiches à vérifier"],
                "duplicates": ["2 paires probables."], "accounts": ["2 comptes"]},
    ("en", 2): {"dashboard": ["2 pending requests", "2 entries to check", "2 likely duplicates",
                              "2 published entries", "2 pending entries", "2 rejected entries", "2 archived entries"],
                "queue": ["2 pending requests"], "actors": ["2 entries"], "freshness": ["2 entries to check"],
                "duplicates": ["2 likely pairs."], "accounts": ["2 accounts"]},
}
WRONG = ["(s)", "publisheds", "pendings", "rejecteds", "archiveds", "entrys", "fiches en attentes",
         "fiches refusée ", "0 demandes", "0 fiches", "1 fiches", "1 entries", "2 entry ", "2 compte "]


@pytest.mark.parametrize("n", [0, 1, 2])
def test_back_office_counts_read_right_in_both_languages(app, n):
    client = directory(app, n)
    for lang in ("fr", "en"):
        shown = pages(client, lang)
        for page, phrases in EXPECTED[(lang, n)].items():
            for phrase in phrases:
                assert phrase in shown[page], (lang, page, phrase, shown[page])
        for page, body in shown.items():
            for wrong in WRONG:
                assert wrong not in body + " ", (lang, page, wrong)


def test_roles_and_history_labels_are_translated(app):
    client = directory(app, 1)
    actor_id = add_actor(app, name="Jardins du Sahel")
    history_url = f"/moderation/acteurs/{actor_id}/historique"
    client.get("/langue/fr")
    once = text(client.get(history_url))
    assert "création" in once and "publication" in once
    edit_actor(app, actor_id, description="Maraîchage à Kayes.")
    client.get("/langue/en")
    twice = text(client.get(history_url))
    assert "creation" in twice and "publication" in twice and "change" in twice
    assert "création" not in twice and "modification" not in twice
    accounts = client.get("/moderation/comptes").get_data(as_text=True)
    assert ">administrator</option>" in accounts and ">member</option>" in accounts
    assert ">admin</option>" not in accounts
    client.get("/langue/fr")
    accounts = client.get("/moderation/comptes").get_data(as_text=True)
    assert ">administrateur</option>" in accounts and ">coordinateur</option>" in accounts

