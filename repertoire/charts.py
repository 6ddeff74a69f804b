"""Server-drawn SVG charts, each with an accessible HTML equivalent beside it.

- ``bar_chart(title, rows)``: horizontal bars and a table holding the same numbers;
- ``arcs_map(origin_department, places)``: arcs from a French département to partners' places on the
  world map (worldmap's projection and outlines), and the list of those arcs.
Labels are escaped here: callers pass plain text.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup, escape

from . import gazetteer, geo, worldmap
from .text import sort_key

BAR_COLOR = "#2f73aa"
ROW = 22
LABEL_WIDTH = 190
BAR_WIDTH = 300
MAX_LABEL = 30


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + "…"


def bar_chart(title: str, rows: list[tuple[str, int, str | None]], column: str | None = None,
              chart_id: str = "chart", heading: str | None = None) -> Markup:
    """Horizontal bars (an image named by ``title``) and a table of the same rows, links in the table;
    ``heading`` names the table's first column (``title`` by default), ``column`` its numbers."""
    column = column or _("Nombre")
    top = max((count for _label, count, _url in rows), default=0) or 1
    height = ROW * len(rows) + 4
    width = LABEL_WIDTH + BAR_WIDTH + 60
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="bar-chart" role="img" '
           f'aria-labelledby="{escape(chart_id)}-title"><title id="{escape(chart_id)}-title">{escape(title)}</title>']
    for i, (label, count, _url) in enumerate(rows):
        y = 2 + i * ROW
        bar = BAR_WIDTH * count / top
        svg.append(f'<g class="chart-bar"><text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" font-size="12" '
                   f'fill="#1d2433">{escape(_short(label))}</text>'
                   f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{bar:.1f}" height="{ROW - 6}" fill="{BAR_COLOR}" '
                   f'data-count="{int(count)}"/>'
                   f'<text x="{LABEL_WIDTH + bar + 6:.1f}" y="{y + 15}" font-size="12" fill="#1d2433">{int(count)}'
                   f'</text></g>')
    svg.append("</svg>")
    table = [f'<table class="table chart-table"><caption>{escape(title)}</caption><thead><tr><th scope="col">'
             f'{escape(heading or title)}</th><th scope="col">{escape(column)}</th></tr></thead><tbody>']
    for label, count, url in rows:
        cell = f'<a href="{escape(url)}">{escape(label)}</a>' if url else escape(label)
        table.append(f'<tr><th scope="row">{cell}</th><td>{int(count)}</td></tr>')
    table.append("</tbody></table>")
    return Markup(f'<div class="chart">{"".join(svg)}{"".join(table)}</div>')


@dataclass(frozen=True)
class Place:
    """A partner's place: ``country`` is ISO alpha-2, ``locality`` may be empty, ``url`` links its page."""
    name: str
    country: str
    locality: str | None = None
    url: str | None = None


def _curve(x0, y0, x1, y1) -> str:
    """A quadratic Bézier bowing to one side, like a great circle seen on a flat map."""
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    dx, dy = x1 - x0, y1 - y0
    bow = 0.2
    cx, cy = mx + dy * bow, my - dx * bow
    if cy > my:  # always bow northwards
        cx, cy = mx - dy * bow, my + dx * bow
    return f"M{x0:.1f},{y0:.1f}Q{cx:.1f},{cy:.1f} {x1:.1f},{y1:.1f}"


def _viewport(xs: list[float], ys: list[float]) -> tuple[float, float, float, float]:
    """A 1.6:1 frame around the points, with room on the right for labels; the whole world without points."""
    if not xs:
        return 0, 0, worldmap.WIDTH, worldmap.outlines()[1]
    span = max(max(xs) - min(xs), (max(ys) - min(ys)) * 1.6, 120)
    pad = span * 0.12
    vx, vw = (min(xs) + max(xs)) / 2 - span / 2 - pad, span + 3 * pad
    vh = vw / 1.6
    return vx, (min(ys) + max(ys)) / 2 - vh / 2, vw, vh


def _background(vx: float, vy: float, vw: float, vh: float, unit: float) -> list[str]:
    """The sea and the countries seen in the frame (a map of Europe does not carry the Pacific's outlines)."""
    paths, _height = worldmap.outlines()
    boxes = worldmap.outline_boxes()
    seen = [code for code, (x0, y0, x1, y1) in boxes.items()
            if x1 >= vx and x0 <= vx + vw and y1 >= vy and y0 <= vy + vh]
    return ([f'<rect x="{vx:.1f}" y="{vy:.1f}" width="{vw:.1f}" height="{vh:.1f}" fill="#f4f8fb"/>']
            + [f'<path d="{paths[code]}" fill="#eef0f4" stroke="#9aa3b2" stroke-width="{0.6 * unit:.2f}"/>'
               for code in sorted(seen)])


def _open_svg(frame: tuple[float, float, float, float], css_class: str, chart_id: str, title: str) -> str:
    vx, vy, vw, vh = frame
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{vx:.1f} {vy:.1f} {vw:.1f} {vh:.1f}" '
            f'class="{css_class}" role="img" aria-labelledby="{escape(chart_id)}-title">'
            f'<title id="{escape(chart_id)}-title">{escape(title)}</title>')


def _labels(candidates: list[tuple[float, float, str]], unit: float, gap: float) -> list[str]:
    """Labels of points (x, y, text), most important first: right of the point, else left of it; one that
    would overlap a label already placed is left out (the list or table beside the map names every place)."""
    placed, out = [], []
    size = 11 * unit
    for x, y, text in candidates:
        text = _short(text)
        width = 0.62 * size * len(text)
        for left, anchor, tx in ((x + gap, "start", x + gap), (x - gap - width, "end", x - gap)):
            box = (left, y + 4 * unit - size, left + width, y + 4 * unit + 0.3 * size)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                placed.append(box)
                out.append(f'<text x="{tx:.1f}" y="{y + 4 * unit:.1f}" text-anchor="{anchor}" font-size="{size:.2f}" '
                           f'fill="#1d2433" paint-order="stroke" stroke="#ffffff" stroke-width="{2 * unit:.2f}">'
                           f'{escape(text)}</text>')
                break
    return out


MAX_PLACES = 100  # an actor's partners drawn and listed; the others are counted in a sentence


def arcs_map(origin_department: str, places: list[Place], chart_id: str = "arcs", limit: int = MAX_PLACES) -> Markup:
    """World map cropped to the arcs from ``origin_department`` to each place (the first ``limit``), and the
    list of arcs."""
    rest = max(0, len(places) - limit)
    places = places[:limit]
    origin = gazetteer.department_centre(origin_department)
    located = [(place, gazetteer.locate(place.locality, place.country)) for place in places]
    ox, oy = worldmap.project(origin.lon, origin.lat) if origin else (None, None)
    points = [(place, loc, *worldmap.project(loc.lon, loc.lat)) for place, loc in located if loc]
    xs = [p[2] for p in points] + ([ox] if origin else [])
    ys = [p[3] for p in points] + ([oy] if origin else [])
    vx, vy, vw, vh = frame = _viewport(xs, ys)
    unit = vw / 600  # strokes and text keep their size whatever the zoom
    department = geo.department_name(origin_department)
    title = _("Partenaires depuis %(department)s", department=department)
    precise_text, country_text = _("Localité située"), _("Localité inconnue : centre du pays")
    at_centre = _("placé au centre du pays")
    svg = [_open_svg(frame, "arcs-map", chart_id, title), *_background(*frame, unit)]
    for place, loc, x, y in points:
        if origin:
            svg.append(f'<path class="arc" d="{_curve(ox, oy, x, y)}" fill="none" stroke="#b5472b" '
                       f'stroke-width="{1.5 * unit:.2f}" stroke-opacity="0.8"/>')
    for place, loc, x, y in points:
        precise = loc.precision == "locality"
        fill = "#b5472b" if precise else "#ffffff"
        svg.append(f'<circle class="place {"locality" if precise else "country"}" cx="{x:.1f}" cy="{y:.1f}" '
                   f'r="{4 * unit:.2f}" fill="{fill}" stroke="#b5472b" stroke-width="{1.5 * unit:.2f}"/>')
    svg.extend(_labels([(x, y, place.name) for place, loc, x, y in points], unit, 6 * unit))
    if origin:
        svg.append(f'<rect class="origin" x="{ox - 4 * unit:.1f}" y="{oy - 4 * unit:.1f}" width="{8 * unit:.2f}" '
                   f'height="{8 * unit:.2f}" fill="#1d2433"/>')
    # Legend, bottom left.
    lx, ly, fs = vx + 8 * unit, vy + vh - 40 * unit, 11 * unit
    svg.append(f'<g class="map-legend" font-size="{fs:.2f}" fill="#1d2433">'
               f'<rect x="{lx:.1f}" y="{ly - 8 * unit:.1f}" width="{8 * unit:.2f}" height="{8 * unit:.2f}"/>'
               f'<text x="{lx + 14 * unit:.1f}" y="{ly:.1f}">{escape(department)}</text>'
               f'<circle cx="{lx + 4 * unit:.1f}" cy="{ly + 10 * unit:.1f}" r="{4 * unit:.2f}" fill="#b5472b"/>'
               f'<text x="{lx + 14 * unit:.1f}" y="{ly + 14 * unit:.1f}">{escape(precise_text)}</text>'
               f'<circle cx="{lx + 4 * unit:.1f}" cy="{ly + 24 * unit:.1f}" r="{4 * unit:.2f}" fill="#ffffff" '
               f'stroke="#b5472b" stroke-width="{1.5 * unit:.2f}"/><text x="{lx + 14 * unit:.1f}" '
               f'y="{ly + 28 * unit:.1f}">{escape(country_text)}</text></g>')
    svg.append("</svg>")
    items = []
    for place, loc in located:
        name = f'<a href="{escape(place.url)}">{escape(place.name)}</a>' if place.url else escape(place.name)
        where = ", ".join(escape(v) for v in (place.locality, geo.country_name(place.country)) if v)
        note = "" if loc is None or loc.precision == "locality" else \
            f' <span class="muted">({escape(at_centre)})</span>'
        items.append(f"<li>{escape(department)} → {name} ({where}){note}</li>")
    summary = ngettext("%(num)s partenaire", "%(num)s partenaires", len(places))
    listing = (f'<ul class="arcs-list" aria-label="{escape(summary)}">{"".join(items)}</ul>')
    if rest:
        more = ngettext("%(num)s autre partenaire n'est ni dessiné ni listé ici.",
                        "%(num)s autres partenaires ne sont ni dessinés ni listés ici.", rest)
        listing += f'<p class="muted arcs-rest">{escape(more)}</p>'
    return Markup(f'<div class="arcs">{"".join(svg)}{listing}</div>')


@dataclass(frozen=True)
class Flow:
    """Partnerships from actors of a French département with partners of a country; ``url`` lists them."""
    department: str
    country: str
    count: int
    url: str | None = None


MAX_FLOWS = 60  # arcs drawn and listed; the others are counted in a sentence
MAX_FLOW_LABELS = 12  # countries named on the drawing (all are in the table)


def flows_map(flows: list[Flow], title: str, chart_id: str = "flows", limit: int = MAX_FLOWS) -> Markup:
    """Arcs from départements to countries, thicker for more partnerships, and a table of the same arcs.

    Only the ``limit`` largest flows are drawn and listed, so the page weighs the same at any size.
    """
    shown = sorted(flows, key=lambda f: (-f.count, f.department, sort_key(geo.country_name(f.country))))[:limit]
    rest = len(flows) - len(shown)
    origins = {f.department: gazetteer.department_centre(f.department) for f in shown}
    ends = {f.country: gazetteer.country_centre(f.country) for f in shown}
    drawn = [f for f in shown if origins[f.department] and ends[f.country]]
    at = {key: worldmap.project(loc.lon, loc.lat) for key, loc in (*origins.items(), *ends.items()) if loc}
    keys = {f.department for f in drawn} | {f.country for f in drawn}
    vx, vy, vw, vh = frame = _viewport([at[k][0] for k in keys], [at[k][1] for k in keys])
    unit = vw / 600
    top = max((f.count for f in drawn), default=1)
    totals: dict[str, int] = {}
    for f in drawn:
        totals[f.country] = totals.get(f.country, 0) + f.count
    biggest = max(totals.values(), default=1)
    svg = [_open_svg(frame, "arcs-map flows-map", chart_id, title), *_background(*frame, unit)]
    for f in sorted(drawn, key=lambda f: f.count):  # the largest on top
        (x0, y0), (x1, y1) = at[f.department], at[f.country]
        svg.append(f'<path class="arc" d="{_curve(x0, y0, x1, y1)}" fill="none" stroke="#b5472b" '
                   f'stroke-width="{(0.6 + 4 * math.sqrt(f.count / top)) * unit:.2f}" stroke-opacity="0.55" '
                   f'data-count="{int(f.count)}"/>')
    named = sorted(totals, key=lambda c: (-totals[c], c))[:MAX_FLOW_LABELS]
    for country in sorted(totals, key=lambda c: -totals[c]):
        x, y = at[country]
        r = (2.5 + 6 * math.sqrt(totals[country] / biggest)) * unit
        svg.append(f'<circle class="place country" cx="{x:.1f}" cy="{y:.1f}" r="{r:.2f}" fill="#ffffff" '
                   f'stroke="#b5472b" stroke-width="{1.5 * unit:.2f}" data-country="{escape(country)}"/>')
    svg.extend(_labels([(*at[c], geo.country_name(c)) for c in named], unit, 9 * unit))
    for department in sorted({f.department for f in drawn}):
        x, y = at[department]
        svg.append(f'<rect class="origin" x="{x - 2 * unit:.1f}" y="{y - 2 * unit:.1f}" width="{4 * unit:.2f}" '
                   f'height="{4 * unit:.2f}" fill="#1d2433" data-department="{escape(department)}"/>')
    lx, ly = vx + 8 * unit, vy + vh - 26 * unit
    seat_text, country_text = _("Département du siège"), _("Pays du partenaire (centre du pays)")
    svg.append(f'<g class="map-legend" font-size="{11 * unit:.2f}" fill="#1d2433">'
               f'<rect x="{lx + 2 * unit:.1f}" y="{ly - 6 * unit:.1f}" width="{4 * unit:.2f}" '
               f'height="{4 * unit:.2f}"/><text x="{lx + 14 * unit:.1f}" y="{ly:.1f}">'
               f'{escape(seat_text)}</text>'
               f'<circle cx="{lx + 4 * unit:.1f}" cy="{ly + 10 * unit:.1f}" r="{4 * unit:.2f}" fill="#ffffff" '
               f'stroke="#b5472b" stroke-width="{1.5 * unit:.2f}"/><text x="{lx + 14 * unit:.1f}" '
               f'y="{ly + 14 * unit:.1f}">{escape(country_text)}</text></g>')
    svg.append("</svg>")
    head = (seat_text, _("Pays du partenaire"), _("Partenariats"))
    summary = ngettext("Tableau de %(num)s liaison", "Tableau des %(num)s liaisons", len(shown))
    table = [f'<details class="flows-details"><summary>{escape(summary)}</summary>'
             f'<table class="table flows-table"><caption>{escape(title)}</caption><thead><tr>'
             + "".join(f'<th scope="col">{escape(h)}</th>' for h in head) + "</tr></thead><tbody>"]
    for f in shown:
        country = escape(geo.country_name(f.country))
        count = f'<a href="{escape(f.url)}">{int(f.count)}</a>' if f.url else str(int(f.count))
        table.append(f'<tr><th scope="row">{escape(geo.department_name(f.department))} ({escape(f.department)})'
                     f'</th><td>{country}</td><td>{count}</td></tr>')
    table.append("</tbody></table></details>")
    if rest:
        more = ngettext("%(num)s autre liaison, moins fréquente, n'est ni dessinée ni listée.",
                        "%(num)s autres liaisons, moins fréquentes, ne sont ni dessinées ni listées.", rest)
        table.append(f'<p class="muted flows-rest">{escape(more)}</p>')
    return Markup(f'<div class="arcs">{"".join(svg)}{"".join(table)}</div>')


def decade(year: int) -> int:
    """1987 -> 1980: the key of a 'by decade of start' chart."""
    return int(math.floor(year / 10) * 10)
