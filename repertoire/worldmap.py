"""A world map drawn on the server as SVG (no tiles, no external requests).

Country outlines: Natural Earth 1:110m through the world-atlas package
(``data/countries-110m.json``, ISC licence), projected with Equal Earth.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources

import pycountry
from markupsafe import Markup, escape

WIDTH = 960
PALETTE = ["#d6e6f2", "#9ec5e0", "#5f9ccb", "#2f73aa", "#0b4a7a"]  # light to dark, all with a dark outline


def _equal_earth(lon: float, lat: float) -> tuple[float, float]:
    a1, a2, a3, a4 = 1.340264, -0.081106, 0.000893, 0.003796
    lam, phi = math.radians(lon), math.radians(lat)
    theta = math.asin(math.sqrt(3) / 2 * math.sin(phi))
    t2, t6 = theta * theta, theta ** 6
    x = 2 * math.sqrt(3) * lam * math.cos(theta) / (3 * (a1 + 3 * a2 * t2 + t6 * (7 * a3 + 9 * a4 * t2)))
    y = theta * (a1 + a2 * t2 + t6 * (a3 + a4 * t2))
    return x, y


def project(lon: float, lat: float) -> tuple[float, float]:
    """Degrees -> this map's SVG coordinates (same frame as the outlines)."""
    xmax, ymax = _equal_earth(180, 0)[0], _equal_earth(0, 90)[1]
    scale = WIDTH / (2 * xmax)
    px, py = _equal_earth(lon, lat)
    return (px + xmax) * scale, (ymax - py) * scale


def outlines() -> tuple[dict[str, str], float]:
    """ISO alpha-2 -> SVG path data, and the map's height."""
    return _outlines()


def outline_boxes() -> dict[str, tuple[float, float, float, float]]:
    """ISO alpha-2 -> (x min, y min, x max, y max) of its outline in SVG coordinates: maps cropped to a
    region draw only the countries they show."""
    return _geometry()[1]


def topojson_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """The arcs of a quantized TopoJSON topology, decoded to (lon, lat) points."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


@lru_cache(maxsize=1)
def world_topology() -> dict:
    """Natural Earth 1:110m countries (world-atlas), as TopoJSON."""
    return json.loads(resources.files(__package__).joinpath("data/countries-110m.json").read_text())


def _outlines() -> tuple[dict[str, str], float]:
    paths, _boxes, height = _geometry()
    return paths, height


def _relative(points) -> str:
    """A ring in relative steps of a tenth of a unit: about half the bytes of absolute points, no drift."""
    tenths = [(round(x * 10), round(y * 10)) for x, y in points]
    steps = " ".join(f"{(x1 - x0) / 10:g},{(y1 - y0) / 10:g}" for (x0, y0), (x1, y1) in zip(tenths, tenths[1:]))
    return f"M{tenths[0][0] / 10:g},{tenths[0][1] / 10:g}l{steps}z"


@lru_cache(maxsize=1)
def _geometry() -> tuple[dict[str, str], dict[str, tuple[float, float, float, float]], float]:
    """ISO alpha-2 -> SVG path data, and -> its bounding box; the map's height."""
    topo = world_topology()
    arcs = topojson_arcs(topo)
    xmax = _equal_earth(180, 0)[0]
    ymax = _equal_earth(0, 90)[1]
    scale = WIDTH / (2 * xmax)

    def ring(indices):
        points = []
        for i in indices:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            points.extend(arc if not points else arc[1:])
        if max(p[0] for p in points) - min(p[0] for p in points) > 180:  # crosses the antimeridian
            points = [(lon + 360 if lon < 0 else lon, lat) for lon, lat in points]
        return [((px + xmax) * scale, (ymax - py) * scale) for px, py in (_equal_earth(lon, lat)
                                                                         for lon, lat in points)]

    paths, boxes = {}, {}
    for geometry in topo["objects"]["countries"]["geometries"]:
        country = pycountry.countries.get(numeric=str(geometry.get("id", "")).zfill(3))
        if country is None or country.alpha_2 == "AQ":
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = [ring(r) for polygon in polygons for r in polygon]
        paths[country.alpha_2] = "".join(_relative(r) for r in rings)
        xs, ys = [p[0] for r in rings for p in r], [p[1] for r in rings for p in r]
        boxes[country.alpha_2] = (min(xs), min(ys), max(xs), max(ys))
    height = 2 * ymax * scale
    return paths, boxes, height


def world_map(counts: dict[str, int], link, label) -> Markup:
    """An SVG map; each country with actors is a link (``link(code)``) titled ``label(code, n)``."""
    paths, height = _outlines()
    top = max(counts.values(), default=0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" class="world-map" '
             f'role="group" aria-label="{escape(label(None, sum(counts.values())))}">']
    for code, d in sorted(paths.items()):
        n = counts.get(code, 0)
        if not n:
            parts.append(f'<path d="{d}" fill="#eef0f4" stroke="#9aa3b2" stroke-width="0.4"/>')
            continue
        level = min(len(PALETTE) - 1, int(len(PALETTE) * math.log1p(n) / math.log1p(top + 1e-9)))
        title = escape(label(code, n))
        parts.append(f'<a href="{escape(link(code))}" aria-label="{title}"><path d="{d}" fill="{PALETTE[level]}" '
                     f'stroke="#1d2433" stroke-width="0.5"><title>{title}</title></path></a>')
    parts.append("</svg>")
    return Markup("".join(parts))


def legend() -> list[str]:
    return PALETTE
