"""Text helpers shared by validation, search and sorting: folding, slugs, sort keys."""
import re
import unicodedata
from functools import lru_cache

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss",
                            "’": "'", "‘": "'", "–": "-", "—": "-"})
_NON_WORD = re.compile(r"[^0-9a-z]+")


class _WithoutMarks(dict):
    """A ``str.translate`` table dropping combining marks, filled as characters are met."""

    def __missing__(self, code: int):
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_WITHOUT_MARKS = _WithoutMarks()


def fold(value: str) -> str:
    """Lower-case, accent-free form of ``value`` ("Égalité" -> "egalite")."""
    if value.isascii():
        return value.lower()
    return unicodedata.normalize("NFKD", value.translate(_LIGATURES)).translate(_WITHOUT_MARKS).casefold()


@lru_cache(maxsize=8192)  # towns, départements and labels come back again and again
def fold_words(value: str) -> str:
    """Folded form with punctuation collapsed to single spaces: "Côte-d'Or" -> "cote d or"."""
    return _NON_WORD.sub(" ", fold(value)).strip()


@lru_cache(maxsize=8192)
def sort_key(value: str) -> str:
    """Key that sorts names the French way: accents and case ignored first.

    "Échanges" sorts among the E's; ties are broken by the exact spelling so the
    order is total and stable.
    """
    return f"{fold_words(value)}\x01{value}"  # \x01: sorts before any letter; PostgreSQL refuses \x00


def slugify(value: str, max_length: int = 80) -> str:
    slug = _NON_WORD.sub("-", fold(value)).strip("-")
    return slug[:max_length].rstrip("-") or "acteur"


def clean_line(value: str | None) -> str:
    """Collapse runs of white space (including newlines) to one space."""
    return " ".join((value or "").split())
