"""« Vouliez-vous dire … ? »: the closest spelling of a criterion that matches nothing (rapidfuzz on the lexicon)."""
from __future__ import annotations

from dataclasses import replace

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .. import geo
from ..text import fold_words
from .engine import SearchEngine
from .params import SearchParams

CORRECTED = ("name", "place", "intervention")
LONGEST = 60  # characters of a value worth correcting
MOST_WORDS = 6  # words of a name worth correcting


def max_distance(word: str) -> int:
    """Typos forgiven (a letter missing, extra, wrong, or two swapped): one in a short word, two up to
    eight letters, three beyond."""
    return 1 if len(word) <= 4 else 2 if len(word) <= 8 else 3


def _closest(text: str, choices: dict[str, str]) -> str | None:
    """The choice (display -> folded form, most common first) nearest to ``text``, if close enough."""
    key = fold_words(text)
    if not key:
        return None
    found = process.extractOne(key, choices, scorer=OSA.distance, score_cutoff=max_distance(key))
    return found[2] if found else None


def _by_use(counts: dict[str, int]) -> dict[str, str]:
    return {value: fold_words(value) for value, _ in sorted(counts.items(), key=lambda item: -item[1])}


def _place_choices(engine: SearchEngine) -> dict[str, str]:
    choices = _by_use(engine.lexicon("place"))
    for name in [*geo.departments().values(), *geo.region_names()]:
        choices.setdefault(name, fold_words(name))
    return choices


def _intervention_choices(engine: SearchEngine) -> dict[str, str]:
    choices = _by_use(engine.lexicon("intervention"))
    for folded, code in geo.country_spellings().items():
        choices.setdefault(geo.country_name(code) + "\x00" + folded, folded)  # one entry per spelling
    return choices


def _correct_name(engine: SearchEngine, text: str) -> str | None:
    """The name with each word that starts no word of any name replaced by the nearest one."""
    words = engine.lexicon("name")
    typed = fold_words(text).split()
    if len(typed) > MOST_WORDS:
        return None
    fixed, changed = [], False
    choices = None
    for word in typed:
        if word in words or any(term.startswith(word) for term in words):
            fixed.append(word)
            continue
        choices = choices if choices is not None else _by_use(words)
        closest = _closest(word, choices)
        if closest is None:
            return None
        fixed.append(closest)
        changed = True
    return " ".join(fixed) if changed else None


def _correct(engine: SearchEngine, param: str, value: str) -> str | None:
    if len(value) > LONGEST:
        return None
    if param == "name":
        return _correct_name(engine, value)
    choices = _place_choices(engine) if param == "place" else _intervention_choices(engine)
    closest = _closest(value, choices)
    return closest.split("\x00", 1)[0] if closest else None


def did_you_mean(engine: SearchEngine, params: SearchParams) -> tuple[SearchParams, list[str]] | None:
    """For a search that finds nothing: the same search with each criterion value that finds nothing on
    its own spelt as the nearest known value, if that search finds something; and the corrected values."""
    changes, corrected = {}, []
    for param in CORRECTED:
        values = params.values(param)
        fixed = []
        for value in values:
            alone = replace(SearchParams(), **{param: value}, sort="name", per_page=1)
            if engine.search(alone.criteria(facets=()), 0, 0).total:
                fixed.append(value)
                continue
            correction = _correct(engine, param, value)
            if correction is None or fold_words(correction) == fold_words(value):
                fixed.append(value)
                continue
            fixed.append(correction)
            corrected.append(correction)
        if fixed != values:
            changes[param] = ", ".join(fixed)
    if not changes:
        return None
    suggestion = replace(params, **changes, page=1)
    if not engine.search(suggestion.criteria(facets=()), 0, 0).total:
        return None
    return suggestion, corrected
