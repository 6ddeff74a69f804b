"""The demo directory a coordinator shows: real actors first, plausible examples, harmless numbers."""
import csv
import io
import re
from collections import Counter
from html.parser import HTMLParser

import pytest

from repertoire import geo

SEED_NAMES = {"Office municipal des relations internationales de Saint-Sébastien-sur-Loire",
              "Coordination Information Tiers-Monde", "Horizons Solidaires", "Région Basse-Normandie",
              "Communauté de communes du Pays des Écrins", "Ville de Bagnolet", "Ville du Lamentin",
              "Maison de l'Europe de Nantes", "Cités Unies France"}
# ARCEP keeps these blocks out of service for fiction (plan national de numérotation).
FICTION_BLOCKS = ("01 99 00", "02 61 91", "03 53 73", "04 65 71", "05 36 49", "06 39 98")
PREFECTURES = {"14": "Caen", "76": "Rouen", "16": "Angoulême", "33": "Bordeaux", "93": "Bobigny", "35": "Rennes",
               "44": "Nantes", "59": "Lille", "69": "Lyon", "13": "Marseille", "31": "Toulouse", "67": "Strasbourg",
               "50": "Saint-Lô", "61": "Alençon", "27": "Évreux", "29": "Quimper", "22": "Saint-Brieuc",
               "56": "Vannes", "49": "Angers", "72": "Le Mans", "85": "La Roche-sur-Yon", "53": "Laval",
               "78": "Versailles", "92": "Nanterre", "94": "Créteil", "95": "Cergy", "91": "Évry-Courcouronnes",
               "77": "Melun", "62": "Arras", "80": "Amiens", "60": "Beauvais", "02": "Laon", "34": "Montpellier",
               "38": "Grenoble", "63": "Clermont-Ferrand", "87": "Limoges", "86": "Poitiers", "37": "Tours",
               "45": "Orléans", "21": "Dijon", "25": "Besançon", "57": "Metz", "54": "Nancy", "51": "Châlons-en-Champagne",
               "06": "Nice", "83": "Toulon", "84": "Avignon", "30": "Nîmes", "64": "Pau", "17": "La Rochelle"}
REGION_SEATS = {"Région Normandie": "Caen", "Région Bretagne": "Rennes", "Région des Pays de la Loire": "Nantes",
                "Région Hauts-de-France": "Lille", "Région Île-de-France": "Saint-Ouen-sur-Seine",
                "Région Nouvelle-Aquitaine": "Bordeaux", "Région Occitanie": "Toulouse",
                "Région Grand Est": "Strasbourg", "Région Auvergne-Rhône-Alpes": "Lyon",
                "Région Provence-Alpes-Côte d'Azur": "Marseille", "Région Centre-Val de Loire": "Orléans",
                "Région Bourgogne-Franche-Comté": "Dijon", "Collectivité de Corse": "Ajaccio"}


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app


def all_actors(client):
    actors, page = [], 1
    while True:
        body = client.get(f"/api/actors?per_page=100&page={page}").get_json()
        actors += body["results"]
        if page >= body["pages"]:
            return actors
        page += 1


def test_the_demo_has_no_repeated_name_and_names_read_as_french(demo, client):
    actors = all_actors(client)
    assert len(actors) == 309
    names = Counter(a["name"] for a in actors)
    assert names.most_common(1)[0][1] == 1, names.most_common(3)
    for name in set(names) - SEED_NAMES:
        assert not re.search(r"\bde Monde$|\(\d+\)$|\bde [Ll]es? |\bde [AEIOUÉ]|  ", name), name
    generated = [a for a in actors if a["name"] not in SEED_NAMES]
    assert len({a["name"].split()[0] for a in generated}) >= 15  # varied, not one pattern


def test_seats_make_sense_for_each_kind(demo, client):
    seen = Counter()
    for actor in all_actors(client):
        name, town = actor["name"], actor["town"]
        assert geo.department_of_postcode(actor["postcode"]) == actor["department"], actor
        if actor["kind"] != "collectivite" or name in SEED_NAMES:
            continue
        if name.startswith("Conseil départemental"):
            seen["département"] += 1
            if actor["department"] in PREFECTURES:
                assert town == PREFECTURES[actor["department"]], (name, town)
        elif name in REGION_SEATS:
            seen["région"] += 1
            assert town == REGION_SEATS[name], (name, town)
        elif name.startswith("Ville "):
            seen["ville"] += 1
            assert name in (f"Ville de {town}", f"Ville d'{town}", f"Ville du {town[3:]}",
                            f"Ville des {town[4:]}"), (name, town)
        else:
            assert name.startswith("Communauté d'agglomération") and name.endswith(town.split()[-1]), name
    assert seen["département"] and seen["région"] and seen["ville"], seen


def test_generated_phone_numbers_are_fiction_numbers(runner, tmp_path):
    path = tmp_path / "gen.csv"
    assert runner.invoke(args=["generate", "3000", str(path), "--seed", "11"]).exit_code == 0
    phones = [row["phone"] for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))) if row["phone"]]
    assert len(phones) > 500
    for phone in phones:
        assert re.fullmatch(r"0\d( \d\d){4}", phone) and phone[:8] in FICTION_BLOCKS, phone
    assert {p[:2] for p in phones} >= {"01", "02", "03", "04", "05"}  # the zone of the head office


class Cards(HTMLParser):
    """Each result card's text."""

    def __init__(self):
        super().__init__()
        self.cards, self.depth = [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "article" and ("class", "card") in attrs:
            self.cards.append("")
            self.depth = 1
        elif self.depth and tag == "article":
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth and tag == "article":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.cards[-1] += data


def cards(client, url):
    parser = Cards()
    parser.feed(client.get(url).get_data(as_text=True))
    return [" ".join(card.split()) for card in parser.cards]


def test_real_actors_come_first_and_every_example_card_says_so(demo, client):
    first = cards(client, "/")
    assert len(first) == 20
    assert [any(name in card for name in SEED_NAMES) for card in first[:9]] == [True] * 9
    for card in first[:9]:
        assert "Exemple fictif" not in card
    for page in (1, 2, 5, 16):
        for card in cards(client, f"/?page={page}")[9 if page == 1 else 0:]:
            assert "Exemple fictif" in card.split("Intervient")[0].split("Domaines")[0], card
    api = client.get("/api/actors?per_page=9").get_json()["results"]
    assert {a["name"] for a in api} == SEED_NAMES
    # a filter keeps real actors ahead too; still in French order among themselves
    mali = client.get("/api/actors?country=ML&per_page=100").get_json()["results"]
    real = [a["name"] for a in mali if a["name"] in SEED_NAMES]
    assert real and [a["name"] for a in mali[:len(real)]] == real
    client.get("/langue/en")
    assert all("Fictitious example" in card for card in cards(client, "/?page=3"))
