"""Writes duplicates.csv: near-duplicates a network meets and look-alikes that are distinct actors.

Run once (``python tests/data/make_duplicates.py``); the CSV is the fixture, this script says how it was made.
Each row: an existing actor (b_*) and an entry (a_*), the kind of variation and the expected verdict.
"""
import csv
import unicodedata
from pathlib import Path

FIELDS = ("name", "acronym", "town", "postcode", "department", "email", "website", "phone")

# name, acronym, town, postcode, department
BASES = [
    ("Association Solidarité Burkina Faso", "ASBF", "Caen", "14000", "14"),
    ("Les Amis de Ouagadougou", "", "Rennes", "35000", "35"),
    ("Comité catholique contre la faim et pour le développement", "CCFD", "Lyon", "69001", "69"),
    ("Échanges et Partenariats Sahel", "EPS", "Nantes", "44000", "44"),
    ("Association Frères des Hommes Bretagne", "", "Brest", "29200", "29"),
    ("Terre d'Espoir Madagascar", "", "Tours", "37000", "37"),
    ("Coopération Atlantique Guinée", "CAG", "La Rochelle", "17000", "17"),
    ("Les Enfants du Mékong Normandie", "", "Rouen", "76000", "76"),
    ("Partage Sans Frontières", "PSF", "Grenoble", "38000", "38"),
    ("Association Médicale Franco-Malienne", "AMFM", "Toulouse", "31000", "31"),
    ("Santé Sud Provence", "", "Marseille", "13001", "13"),
    ("L'Arbre à Palabres", "", "Dijon", "21000", "21"),
    ("Réseau Éducation Haïti", "REH", "Lille", "59000", "59"),
    ("Association Eau Vive Sénégal", "", "Angers", "49000", "49"),
    ("Les Ateliers du Monde Solidaire", "", "Poitiers", "86000", "86"),
    ("Coordination Solidarité Palestine", "CSP", "Strasbourg", "67000", "67"),
    ("Femmes Solidaires Bénin", "", "Limoges", "87000", "87"),
    ("Association Sourires d'Enfants Cambodge", "", "Metz", "57000", "57"),
    ("Écoles Ouvertes Niger", "", "Besançon", "25000", "25"),
    ("Agronomes et Vétérinaires Solidaires Loire", "", "Orléans", "45000", "45"),
    ("Association Trait d'Union Togo", "", "Clermont-Ferrand", "63000", "63"),
    ("Bibliothèques Sans Frontières Aquitaine", "BSF", "Bordeaux", "33000", "33"),
    ("Collectif Développement Comores", "CDC", "Montpellier", "34000", "34"),
    ("Les Jardins du Sahel", "", "Pau", "64000", "64"),
    ("Association Soleil d'Afrique", "", "Amiens", "80000", "80"),
    ("Médecins du Cœur Maroc", "", "Nancy", "54000", "54"),
    ("Association Pont vers le Laos", "", "Reims", "51100", "51"),
    ("Horizons Solidaires Vietnam", "", "Le Mans", "72000", "72"),
    ("Action Humanitaire Arménie", "AHA", "Valence", "26000", "26"),
    ("Les Puits du Désert", "", "Perpignan", "66000", "66"),
]
SAINT_BASES = [
    ("Solidarité Saint-Étienne Afrique", "Saint-Étienne", "42000", "42"),
    ("Jumelage Saint-Malo Solidarité", "Saint-Malo", "35400", "35"),
    ("Amitié Saint-Brieuc Tunisie", "Saint-Brieuc", "22000", "22"),
    ("Saint-Nazaire Entraide Sénégal", "Saint-Nazaire", "44600", "44"),
]
OTHER_POSTCODE = {"Lyon": "69007", "Marseille": "13008", "Toulouse": "31200", "Nantes": "44300", "Lille": "59800",
                  "Bordeaux": "33800", "Grenoble": "38100", "Strasbourg": "67100", "Montpellier": "34070",
                  "Rennes": "35200"}


def slug(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c if c.isalnum() else "-" for c in text).replace("--", "-")[:30].strip("-")


def actor(i, name, acronym, town, postcode, dep, email=None, website=None, phone=None):
    return {"name": name, "acronym": acronym, "town": town, "postcode": postcode, "department": dep,
            "email": email if email is not None else "", "website": website if website is not None else "",
            "phone": phone if phone is not None else ""}


def typo(name):
    words = name.split()
    longest = max(range(len(words)), key=lambda k: len(words[k]))
    w = words[longest]
    words[longest] = w[:3] + w[4] + w[3] + w[5:]  # two letters swapped
    return " ".join(words)


def strip_accents(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def reorder(name):
    words = name.split()
    return " ".join(words[len(words) // 2:] + words[:len(words) // 2])


def filler(name):
    for lead in ("Association ", "Les ", "L'"):
        if name.startswith(lead):
            return name[len(lead):]
    return "Asso. " + name


def rows():
    out = []
    n = 0
    for i, (name, acronym, town, postcode, dep) in enumerate(BASES):
        s = slug(name)
        phone = f"02 {31 + i:02d} {40 + i:02d} {10 + i:02d} {55 + i % 40:02d}"
        b = actor(i, name, acronym, town, postcode, dep, email=f"contact@{s}.org", website=f"https://www.{s}.org/",
                  phone=phone)
        plain = actor(i, name, "", town, postcode, dep)  # an entry giving only a name and a place
        variants = [
            ("typo", {**plain, "name": typo(name)}),
            ("accents-case", {**plain, "name": strip_accents(name).upper()}),
            ("word-order", {**plain, "name": reorder(name)}),
            ("filler", {**plain, "name": filler(name)}),
            ("punctuation", {**plain, "name": name.replace(" ", "-", 1).replace("'", " ") + "."}),
            ("unicode-nfd", {**plain, "name": unicodedata.normalize("NFD", name.lower())}),
            ("email-case", {**actor(i, f"Antenne {town}", "", town, postcode, dep),
                            "email": f"Contact@{s.upper()}.org"}),
            ("website", {**actor(i, "Groupe local " + str(i), "", "Paris", "75011", "75"),
                         "website": f"http://{s}.org"}),
            ("phone", {**actor(i, "Correspondant " + str(i), "", "Paris", "75012", "75"),
                       "phone": "+33 " + phone[1:].replace(" ", ".")}),
        ]
        if town in OTHER_POSTCODE:
            variants.append(("other-postcode", {**plain, "postcode": OTHER_POSTCODE[town]}))
        if acronym:
            variants.append(("acronym-only", {**plain, "name": acronym}))
            variants.append(("name-with-acronym", {**plain, "name": f"{name} ({acronym})"}))
        kind, entry = variants[i % len(variants)]
        extra_kind, extra_entry = variants[(i + 4) % len(variants)]
        third = variants[(i + 7) % len(variants)]
        for kind, entry in ((kind, entry), (extra_kind, extra_entry), third):
            n += 1
            out.append({"case": n, "kind": kind, "expected": "duplicate",
                        **{f"b_{k}": v for k, v in b.items()}, **{f"a_{k}": v for k, v in entry.items()}})
    for j, (name, town, postcode, dep) in enumerate(SAINT_BASES):
        b = actor(j, name, "", town, postcode, dep)
        n += 1
        out.append({"case": n, "kind": "saint-st", "expected": "duplicate", **{f"b_{k}": v for k, v in b.items()},
                    **{f"a_{k}": v for k, v in {**b, "name": name.replace("Saint-", "St ")}.items()}})
    return out, n


TWINNINGS = [("Vienne", "38200", "38", "Esslingen", "Umhausen"), ("Rambouillet", "78120", "78", "Kirchheim", "Frome"),
             ("Autun", "71400", "71", "Stevenage", "Ingelheim"), ("Laval", "53000", "53", "Boston", "Mettmann"),
             ("Dole", "39100", "39", "Lahr", "Carlow"), ("Vannes", "56000", "56", "Fougères", "Cuxhaven"),
             ("Niort", "79000", "79", "Springe", "Wellingborough"), ("Quimper", "29000", "29", "Limerick", "Ourense"),
             ("Chartres", "28000", "28", "Spire", "Chichester"), ("Blois", "41000", "41", "Waldshut", "Lewes"),
             ("Cahors", "46000", "46", "Ségou", "Kétou"), ("Agen", "47000", "47", "Dinslaken", "Llanelli"),
             ("Albi", "81000", "81", "Palencia", "Lazise"), ("Alençon", "61000", "61", "Basingstoke", "Quakenbrück"),
             ("Auxerre", "89000", "89", "Worms", "Greve"), ("Bourges", "18000", "18", "Augsbourg", "Aschaffenbourg"),
             ("Évreux", "27000", "27", "Rugby", "Rüsselsheim"), ("Mâcon", "71000", "71", "Neustadt", "Crewe"),
             ("Tarbes", "65000", "65", "Huesca", "Altenkirchen"), ("Sens", "89100", "89", "Chester", "Kutná")]
GENERIC = ["Amitié Sahel", "Solidarité Afrique", "Les Amis du Mali", "Partage et Développement", "Entraide Madagascar",
           "Espoir Haïti", "Amitié France Burkina", "Aide aux Enfants du Togo", "Solidarité Laos", "Puits pour le Niger",
           "Amis du Bénin", "Écoles du Monde", "Sourire d'Afrique", "Santé Solidarité", "Comité Palestine",
           "Aide au Sénégal", "Médicaments pour l'Afrique", "Tiers Monde Solidarité", "Amitié Cambodge",
           "Jardins d'Afrique"]
TOWN_PAIRS = [("Caen", "14000", "14", "Bayeux", "14400"), ("Rennes", "35000", "35", "Vitré", "35500"),
              ("Lyon", "69001", "69", "Villeurbanne", "69100"), ("Nantes", "44000", "44", "Rezé", "44400"),
              ("Lille", "59000", "59", "Roubaix", "59100"), ("Brest", "29200", "29", "Morlaix", "29600"),
              ("Tours", "37000", "37", "Amboise", "37400"), ("Grenoble", "38000", "38", "Échirolles", "38130"),
              ("Toulouse", "31000", "31", "Muret", "31600"), ("Dijon", "21000", "21", "Beaune", "21200")]
SHARED = [("https://www.facebook.com/{}", "facebook"), ("https://www.helloasso.com/associations/{}", "helloasso"),
          ("https://{}.wixsite.com/accueil", "wix"), ("https://fr-fr.facebook.com/{}/", "facebook-fr")]
TOWN_HALLS = ["https://www.mairie-{}.fr/vie-associative", "https://www.ville-{}.fr/associations/"]


def lookalikes(n):
    out = []

    def add(kind, b, a):
        nonlocal n
        n += 1
        out.append({"case": n, "kind": kind, "expected": "distinct", **{f"b_{k}": v for k, v in b.items()},
                    **{f"a_{k}": v for k, v in a.items()}})
    for town, postcode, dep, one, two in TWINNINGS:
        add("twinning", actor(0, f"Comité de jumelage {town}-{one}", "", town, postcode, dep),
            actor(0, f"Comité de jumelage {town}-{two}", "", town, postcode, dep))
    for k, name in enumerate(GENERIC):
        town, postcode, dep, town2, postcode2 = TOWN_PAIRS[k % len(TOWN_PAIRS)]
        add("generic-name-two-towns", actor(0, f"{name} {k}", "", town, postcode, dep) | {"name": name + ("" if k < 10 else f" {town}")},
            actor(0, name + ("" if k < 10 else f" {town2}"), "", town2, postcode2, dep))
    for k in range(24):
        pattern, host = SHARED[k % len(SHARED)]
        town, postcode, dep, town2, postcode2 = TOWN_PAIRS[k % len(TOWN_PAIRS)]
        one, two = GENERIC[k % len(GENERIC)], GENERIC[(k + 7) % len(GENERIC)]
        add(f"shared-host-{host}", actor(0, f"{one} {k}", "", town, postcode, dep,
                                         website=pattern.format(slug(one) + str(k))),
            actor(0, f"{two} {k}", "", town, postcode, dep, website=pattern.format(slug(two) + str(k))))
    for k in range(12):
        town, postcode, dep, _, _ = TOWN_PAIRS[k % len(TOWN_PAIRS)]
        site = TOWN_HALLS[k % 2].format(slug(town))
        one, two = GENERIC[(k + 3) % len(GENERIC)], GENERIC[(k + 11) % len(GENERIC)]
        add("town-hall-site", actor(0, f"{one} {town}", "", town, postcode, dep, website=site),
            actor(0, f"{two} {town}", "", town, postcode, dep, website=site))
    for k, (name, acronym, town, postcode, dep) in enumerate([b for b in BASES if b[1]][:10]):
        add("same-acronym-other-town", actor(0, name, acronym, town, postcode, dep),
            actor(0, acronym, "", TOWN_PAIRS[k][3], TOWN_PAIRS[k][4], TOWN_PAIRS[k][2]))
    return out


def main():
    dup, n = rows()
    rows_ = dup + lookalikes(n)
    path = Path(__file__).with_name("duplicates.csv")
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["case", "kind", "expected"] + [f"{s}_{k}" for s in "ab" for k in FIELDS])
        writer.writeheader()
        writer.writerows(rows_)
    print(len(dup), "duplicates,", len(rows_) - len(dup), "look-alikes")


if __name__ == "__main__":
    main()
