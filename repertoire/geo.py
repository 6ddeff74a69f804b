"""Reference geography: the 101 French départements and the world's countries.

Countries come from pycountry (ISO 3166-1 with its French translation);
départements ship as package data with their INSEE codes.
"""
import csv
import gettext
import re
from functools import lru_cache
from importlib import resources

import pycountry

from .i18n import current_language
from .text import fold_words

# pycountry's French names put the qualifier first ("Corée, République de");
# people say these.
_FRENCH_DISPLAY = {
    "BO": "Bolivie", "FM": "Micronésie", "IR": "Iran", "KP": "Corée du Nord",
    "KR": "Corée du Sud", "LA": "Laos", "MD": "Moldavie", "PS": "Palestine",
    "RU": "Russie", "SY": "Syrie", "TW": "Taïwan", "TZ": "Tanzanie",
    "VE": "Venezuela", "RE": "La Réunion", "VA": "Vatican", "VN": "Viêt Nam",
    "AX": "Îles Åland", "CC": "Îles Cocos", "CX": "Île Christmas",
    "FK": "Îles Malouines", "SB": "Îles Salomon", "VI": "Îles Vierges des États-Unis",
    "CD": "République démocratique du Congo", "CG": "Congo",
}
# The same for pycountry's English names.
_ENGLISH_DISPLAY = {
    "CD": "Democratic Republic of the Congo", "FM": "Micronesia", "PS": "Palestine", "RU": "Russia",
    "VA": "Vatican", "VG": "British Virgin Islands", "VI": "U.S. Virgin Islands", "CC": "Cocos Islands",
    "FK": "Falkland Islands",
}
# Common ways of naming a country that no ISO name covers.
_ALIASES = {
    "angleterre": "GB", "grande bretagne": "GB", "uk": "GB", "royaume uni": "GB",
    "usa": "US", "etats unis d amerique": "US", "rdc": "CD", "congo kinshasa": "CD",
    "congo brazzaville": "CG", "hollande": "NL", "birmanie": "MM",
    "cote d ivoire": "CI", "ivory coast": "CI", "tchequie": "CZ", "republique tcheque": "CZ",
    "cap vert": "CV", "coree": "KR", "vietnam": "VN", "kabylie": "DZ",
    "swaziland": "SZ", "macedoine": "MK", "palestine": "PS", "territoires palestiniens": "PS",
}


@lru_cache(maxsize=1)
def _french():
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO alpha-2 code -> French display name."""
    tr = _french()
    return {c.alpha_2: _FRENCH_DISPLAY.get(c.alpha_2, tr.gettext(c.name))
            for c in pycountry.countries}


@lru_cache(maxsize=1)
def _country_lookup() -> dict[str, str]:
    tr = _french()
    table: dict[str, str] = {}
    qualified: list[tuple[str, str]] = []
    for c in pycountry.countries:
        names = {c.name, tr.gettext(c.name), countries()[c.alpha_2], _ENGLISH_DISPLAY.get(c.alpha_2),
                 getattr(c, "common_name", None), getattr(c, "official_name", None)}
        for name in filter(None, names):
            table.setdefault(fold_words(name), c.alpha_2)
            if "," in name:
                qualified.append((fold_words(name.split(",")[0]), c.alpha_2))
        table[c.alpha_2.lower()] = c.alpha_2
        table[c.alpha_3.lower()] = c.alpha_2
    for short, code in qualified:  # "Palestine, État de" -> "palestine", unless ambiguous
        table.setdefault(short, code)
    table.update(_ALIASES)
    # INSEE's country names, older and newer ISO spellings, usual French and English names
    with resources.files(__package__).joinpath("data/pays-alias.csv").open(encoding="utf-8") as f:
        table.update((fold_words(row["name"]), row["code"]) for row in csv.DictReader(f))
    return table


_ARTICLE_IN_PARENTHESES = re.compile(r"\(\s*(?:les|le|la|l\s*['’])\s*", re.IGNORECASE)
_QUALIFIED = re.compile(r"^([^,(]+?)\s*(?:,\s*(.+?)|\(\s*(.+?)\s*\))\s*$")
_LEADING_ARTICLE = re.compile(r"^(?:les|le|la|l) ")


def resolve_country(value: str) -> str | None:
    """ISO alpha-2 code for a code (alpha-2/3) or a French or English name; None if unknown.

    Accents, case and punctuation do not count; official inverted forms
    ("Corée (République de)", "Congo, La République démocratique du") and
    articles ("Pays-Bas (les)", "le Mali") are understood.
    """
    table = _country_lookup()
    code = table.get(fold_words(value or ""))
    if code or not value:
        return code
    value = _ARTICLE_IN_PARENTHESES.sub("(", value).strip()
    candidates = [value]
    qualified = _QUALIFIED.match(value)
    if qualified:  # "Corée (République de)" -> "République de Corée"
        candidates.append(f"{qualified[2] or qualified[3]} {qualified[1]}")
    for candidate in candidates:
        key = fold_words(candidate)
        for key in (key, _LEADING_ARTICLE.sub("", key)):
            if key in table:
                return table[key]
    return None


def country_name(code: str, language: str | None = None) -> str:
    """The country's name in ``language`` (default: the current request's language)."""
    if (language or current_language()) == "en":
        return english_country_name(code)
    return french_country_name(code)


def french_country_name(code: str) -> str:
    return countries().get(code, code)


@lru_cache(maxsize=4)
def _sorted_country_names(language: str) -> list[str]:
    from .text import sort_key
    return sorted((country_name(c.alpha_2, language) for c in pycountry.countries), key=sort_key)


def sorted_country_names(language: str | None = None) -> list[str]:
    """Country names in alphabetical order, in the current language (for suggestion lists)."""
    return _sorted_country_names(language or current_language())


@lru_cache(maxsize=512)
def english_country_name(code: str) -> str:
    if code in _ENGLISH_DISPLAY:
        return _ENGLISH_DISPLAY[code]
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


@lru_cache(maxsize=1)
def departments() -> dict[str, str]:
    """INSEE code -> name, in code order."""
    with resources.files(__package__).joinpath("data/departements.csv").open(encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


@lru_cache(maxsize=1)
def _department_lookup() -> dict[str, str]:
    table = {}
    for code, name in departments().items():
        table[code.lower()] = code
        table[fold_words(name)] = code
    for code in list(departments()):
        if code.isdigit() and len(code) == 2:
            table[str(int(code))] = code  # "1" -> "01"
    return table


def resolve_department(value: str) -> str | None:
    """INSEE code for a code ("14", "2a", "1") or a name ("calvados"); None if unknown."""
    value = (value or "").strip()
    if not value:
        return None
    return _department_lookup().get(value.lower()) or _department_lookup().get(fold_words(value))


def department_name(code: str) -> str:
    return departments().get(code, code)


def department_of_postcode(postcode: str) -> str | None:
    """The département a postcode normally belongs to (a few communes are exceptions)."""
    if not (postcode and len(postcode) == 5 and postcode.isdigit()):
        return None
    if postcode.startswith("97"):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if postcode[:3] in ("200", "201") else "2B"
    return postcode[:2]



@lru_cache(maxsize=1)
def regions() -> dict[str, tuple[str, ...]]:
    """Folded region name -> its départements' INSEE codes: the current regions (pycountry's French
    subdivisions), the regions before 2016 and a few usual names (``data/regions-anciennes.csv``)."""
    known = departments()
    subdivisions = {s.code: s for s in pycountry.subdivisions.get(country_code="FR")}
    table: dict[str, set[str]] = {}
    for sub in subdivisions.values():
        code = sub.code[3:].removesuffix("C")  # "FR-75C" is Paris
        if code not in known:
            continue
        parent = subdivisions.get(sub.parent_code) if sub.parent_code else None
        while parent is not None:  # "FR-67" -> Alsace -> Grand-Est
            table.setdefault(fold_words(parent.name), set()).add(code)
            parent = subdivisions.get(parent.parent_code) if parent.parent_code else None
    with resources.files(__package__).joinpath("data/regions-anciennes.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            table.setdefault(fold_words(row["name"]), set()).update(row["departments"].split())
    return {name: tuple(sorted(codes)) for name, codes in table.items()}


@lru_cache(maxsize=1)
def region_names() -> list[str]:
    """Region names as written (for spelling suggestions)."""
    names = {s.name for s in pycountry.subdivisions.get(country_code="FR")
             if fold_words(s.name) in regions()}
    with resources.files(__package__).joinpath("data/regions-anciennes.csv").open(encoding="utf-8") as f:
        names.update(row["name"] for row in csv.DictReader(f))
    return sorted(names)


MIN_PREFIX = 2  # letters typed before the start of a name is enough


def _starting(table: dict, key: str) -> set[str]:
    """The values of the names of ``table`` that start like ``key`` (whole words of the name)."""
    if len(key) < MIN_PREFIX or key.isdigit():
        return set()
    found = set()
    for name, value in table.items():
        if name.startswith(key) and len(name) > 3:  # not the 2- and 3-letter codes
            found.update(value if isinstance(value, tuple) else (value,))
    return found


def place_codes(value: str) -> tuple[list[str], bool]:
    """The départements a place criterion names: (codes, named exactly).

    A département (code or name) or a region, current or former, exactly;
    otherwise the départements and regions whose name starts like ``value``.
    """
    key = fold_words(value or "")
    code = resolve_department(value)
    if code:
        return [code], True
    if key in regions():
        return list(regions()[key]), True
    names = {fold_words(name): code for code, name in departments().items()}
    return sorted(_starting(names, key) | _starting(regions(), key)), False


def intervention_codes(value: str) -> tuple[list[str], bool]:
    """The countries an intervention criterion names: (ISO codes, named exactly).

    Any name or code ``resolve_country`` knows; otherwise the countries one of
    whose names starts like ``value`` (« Burkina », « Côte »).
    """
    code = resolve_country(value)
    if code:
        return [code], True
    return sorted(_starting(_country_lookup(), fold_words(value or ""))), False


@lru_cache(maxsize=1)
def country_spellings() -> dict[str, str]:
    """Folded country name (French, English, usual forms) -> ISO code, for spelling suggestions."""
    return {name: code for name, code in _country_lookup().items() if len(name) > 3}
