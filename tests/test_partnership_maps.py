"""Partnerships on maps and in charts (issue 14, points 5 and 8): an actor's map of its partners, and the
statistics page's map of flows and its charts by partner country, kind and decade of start."""
import math
import re
import xml.etree.ElementTree as ET

from sqlalchemy import event, update

from conftest import add_actor, edit_actor
from repertoire import gazetteer, worldmap
from repertoire.charts import MAX_FLOWS, MAX_PLACES, Flow, flows_map
from repertoire.extensions import db
from repertoire.models import Actor, IndexLog, Partnership, utcnow
from repertoire.operations import archive_actor

SVG = "{http://www.w3.org/2000/svg}"
EXTERNAL = re.compile(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', re.I)


def twinning(kind="jumelage", start="", *partners, status="active"):
    return {"kind": kind, "start": start, "status": status,
            "partners": [{"name": name, "country": country, "locality": locality, **({"actor": actor} if actor else {})}
                         for name, country, locality, actor in partners]}


def partner(name, country, locality="", actor=None):
    return name, country, locality, actor


def element(body: str, marker: str):
    """The element of the page holding ``marker`` (an attribute), parsed as XML: from its ``<div`` to its end."""
    at = body.index(marker)
    start = body.rindex('<div class="', 0, at)
    depth, i = 0, start
    for match in re.finditer(r"<(/?)div\b", body[start:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            i = start + match.end()
            break
    return ET.fromstring(body[start:body.index(">", i) + 1])


def near(a, b, tolerance=0.25):
    return math.dist(a, b) <= tolerance


# -- an actor's map -----------------------------------------------------------------------------------

def test_actor_page_draws_an_arc_to_each_partner_where_the_gazetteer_places_it(app, client):
    add_actor(app, name="Cercle d'Oranienburg", kind="collectivite", town="Caen", department="14")
    hidden = add_actor(app, name="Comité Caché", kind="association", town="Caen", department="14")
    add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", postcode="93170",
              department="93", partnerships=[
                  twinning("jumelage", "1964", partner("Oranienburg", "DE", "oranienburg", "cercle-d-oranienburg")),
                  twinning("jumelage", "2003", partner("Massala", "ML", "Un hameau introuvable"),
                           partner("Comité", "ML", "", "comite-cache")),
                  twinning("amitie", "", partner("Oranienburg", "DE", "oranienburg", "cercle-d-oranienburg"))])
    with app.app_context():  # a partner that has left the directory since
        archive_actor(db.session, db.session.get(Actor, hidden))
        db.session.commit()
    page = client.get("/acteurs/ville-de-bagnolet")
    body = page.get_data(as_text=True)
    root = element(body, 'class="arcs-map"')
    svg = root.find(f"{SVG}svg")
    assert svg.get("role") == "img" and svg.find(f"{SVG}title").text == "Partenaires depuis Seine-Saint-Denis"
    # Oranienburg twice (two partnerships) is one partner on the map.
    arcs = svg.findall(f"{SVG}path[@class='arc']")
    dots = svg.findall(f"{SVG}circle[@class]")
    assert len(arcs) == len(dots) == 3
    # Oranienburg (52.75° N, 13.24° E) where it is; the unknown hamlet and the partner without a locality
    # at Mali's centre, the same point.
    oranienburg, hamlet, comite = [(float(c.get("cx")), float(c.get("cy"))) for c in dots]
    assert dots[0].get("class") == "place locality" and near(oranienburg, worldmap.project(13.24, 52.75), 0.3)
    assert [c.get("class") for c in dots[1:]] == ["place country", "place country"]
    assert hamlet == comite and near(hamlet, worldmap.project(-3.5, 17.5), 9)  # Mali's centre, ±3°
    # Each arc leaves the seat's département, Seine-Saint-Denis (48.9° N, 2.45° E), and ends at its dot.
    seat = worldmap.project(2.45, 48.91)
    for arc, dot in zip(arcs, (oranienburg, hamlet, comite)):
        numbers = [float(v) for v in re.findall(r"-?[\d.]+", arc.get("d"))]
        assert near(numbers[:2], seat, 0.6) and near(numbers[-2:], dot, 0.1)
    # The same arcs in a list beside the drawing; a partner in the directory links to its page if published.
    items = ["".join(li.itertext()) for li in root.findall("ul/li")]
    assert items == ["Seine-Saint-Denis → Oranienburg (oranienburg, Allemagne)",
                     "Seine-Saint-Denis → Massala (Un hameau introuvable, Mali) (placé au centre du pays)",
                     "Seine-Saint-Denis → Comité (Mali) (placé au centre du pays)"]
    assert [a.get("href") for a in root.findall("ul/li/a")] == ["/acteurs/cercle-d-oranienburg"]
    # Nothing is fetched elsewhere: no script, no tile, no external address.
    assert "<script" not in ET.tostring(svg, encoding="unicode") and not EXTERNAL.search(
        ET.tostring(root, encoding="unicode"))
    assert "GeoNames" in body


def test_actor_without_partnerships_has_no_map(app, client):
    add_actor(app, name="Amis du Mali", countries="ML")
    body = client.get("/acteurs/amis-du-mali").get_data(as_text=True)
    assert 'class="arcs-map"' not in body and "Carte des partenaires" not in body


def test_actor_map_is_cropped_to_its_partners(app, client):
    """A map of European twinnings does not carry the outlines of the whole world."""
    add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93", partnerships=[
        twinning("jumelage", "1962", partner("Sesto Fiorentino", "IT", "Sesto Fiorentino"))])
    body = client.get("/acteurs/ville-de-bagnolet").get_data(as_text=True)
    svg = element(body, 'class="arcs-map"').find(f"{SVG}svg")
    outlines = [p for p in svg.findall(f"{SVG}path") if p.get("class") != "arc"]
    assert 5 < len(outlines) < len(worldmap.outlines()[0]) / 2


def test_actor_map_of_a_huge_entry_draws_the_first_hundred_partners(app, client):
    partners = [partner(f"Commune {n}", "DE" if n % 2 else "ML", f"Lieu {n}") for n in range(150)]
    add_actor(app, name="Ville Très Liée", kind="collectivite", town="Caen", department="14", partnerships=[
        twinning("jumelage", "1990", *partners[:75]), twinning("amitie", "1991", *partners[75:])])
    body = client.get("/acteurs/ville-tres-liee").get_data(as_text=True)
    root = element(body, 'class="arcs-map"')
    assert len(root.findall(f"{SVG}svg/{SVG}path[@class='arc']")) == MAX_PLACES == len(root.findall("ul/li"))
    assert "50 autres partenaires ne sont ni dessinés ni listés ici." in body


# -- the statistics page ------------------------------------------------------------------------------

def directory(app):
    """Known partnerships: two published holders in the Calvados and Seine-Maritime, one pending, one archived."""
    add_actor(app, name="Ville de Caen", kind="collectivite", town="Caen", department="14", partnerships=[
        twinning("jumelage", "1962", partner("Würzburg", "DE", "Würzburg")),
        twinning("jumelage", "1975-06", partner("Portsmouth", "GB", "Portsmouth")),
        twinning("cooperation", "1989", partner("Kayes", "ML", "Kayes"), partner("Matam", "SN", "Matam"),
                 partner("Bakel", "SN", "Bakel")),
        twinning("partenariat", "", partner("Thiès", "SN", "Thiès")),
        twinning("jumelage", "1964", partner("Alexandria", "US", "Alexandria"), status="terminee")])
    add_actor(app, name="Ville de Rouen", kind="collectivite", town="Rouen", department="76", partnerships=[
        twinning("jumelage", "1969", partner("Hanovre", "DE", "Hanovre")),
        twinning("amitie", "2003", partner("Cleveland", "US", "Cleveland"))])
    add_actor(app, name="Ville en Attente", kind="collectivite", town="Lisieux", department="14", status="pending",
              partnerships=[twinning("jumelage", "1955", partner("Taufkirchen", "DE", "Taufkirchen"))])
    archived = add_actor(app, name="Ville Archivée", kind="collectivite", town="Bayeux", department="14",
                         partnerships=[twinning("jumelage", "1955", partner("Dorchester", "GB", "Dorchester"))])
    with app.app_context():
        db.session.get(Actor, archived).status = "archived"
        db.session.commit()


def table_rows(chart) -> list[tuple]:
    """(cells…, link) of a chart's table, as a visitor reads it."""
    rows = []
    for tr in chart.findall(".//table/tbody/tr"):
        cells = ["".join(cell.itertext()).strip() for cell in tr]
        links = [a.get("href") for a in tr.iter("a")]
        rows.append((*cells, links[0] if links else None))
    return rows


def test_statistics_count_partnerships_of_published_actors_by_country_kind_and_decade(app, client):
    directory(app)
    body = client.get("/statistiques").get_data(as_text=True)
    assert "7 partenariats d'acteurs publiés." in body  # neither the pending nor the archived holder's
    by_country = element(body, 'aria-labelledby="by-country-title"')
    # A partnership with partners in two countries counts once in each, and once for two partners of one.
    assert table_rows(by_country) == [
        ("Allemagne", "2", "/partenariats?country=DE"), ("États-Unis", "2", "/partenariats?country=US"),
        ("Sénégal", "2", "/partenariats?country=SN"), ("Mali", "1", "/partenariats?country=ML"),
        ("Royaume-Uni", "1", "/partenariats?country=GB")]
    by_kind = element(body, 'aria-labelledby="by-kind-title"')
    assert table_rows(by_kind) == [
        ("Jumelage", "4", "/partenariats?kind=jumelage"),
        ("Coopération décentralisée (convention)", "1", "/partenariats?kind=cooperation"),
        ("Partenariat", "1", "/partenariats?kind=partenariat"),
        ("Pacte d'amitié ou de coopération", "1", "/partenariats?kind=amitie")]
    by_decade = element(body, 'aria-labelledby="by-decade-title"')
    assert table_rows(by_decade) == [
        ("Années 1960", "3", "/partenariats?since=1960&until=1969"),
        ("Années 1970", "1", "/partenariats?since=1970&until=1979"),
        ("Années 1980", "1", "/partenariats?since=1980&until=1989"),
        ("Années 1990", "0", "/partenariats?since=1990&until=1999"),
        ("Années 2000", "1", "/partenariats?since=2000&until=2009"),
        ("Début inconnu", "1", None)]
    # Each chart's bars hold its table's figures, and its image is named.
    for chart in (by_country, by_kind, by_decade):
        svg = chart.find(f"{SVG}svg")
        assert svg.get("role") == "img" and svg.find(f"{SVG}title").text
        assert [int(r.get("data-count")) for r in svg.iter(f"{SVG}rect")] == [int(r[1]) for r in table_rows(chart)]
    assert "GeoNames (CC BY 4.0)" in body and not EXTERNAL.search(body)


def test_statistics_map_draws_each_departement_to_country_flow(app, client):
    directory(app)
    body = client.get("/statistiques").get_data(as_text=True)
    root = element(body, 'class="arcs-map flows-map"')
    assert table_rows(root) == [
        ("Calvados (14)", "Sénégal", "2", "/partenariats?department=14&country=SN"),
        ("Calvados (14)", "Allemagne", "1", "/partenariats?department=14&country=DE"),
        ("Calvados (14)", "États-Unis", "1", "/partenariats?department=14&country=US"),
        ("Calvados (14)", "Mali", "1", "/partenariats?department=14&country=ML"),
        ("Calvados (14)", "Royaume-Uni", "1", "/partenariats?department=14&country=GB"),
        ("Seine-Maritime (76)", "Allemagne", "1", "/partenariats?department=76&country=DE"),
        ("Seine-Maritime (76)", "États-Unis", "1", "/partenariats?department=76&country=US")]
    svg = root.find(f"{SVG}svg")
    assert svg.find(f"{SVG}title").text.startswith("Partenariats des acteurs")
    arcs = svg.findall(f"{SVG}path[@class='arc']")
    assert sorted(int(a.get("data-count")) for a in arcs) == [1, 1, 1, 1, 1, 1, 2]
    widest = max(arcs, key=lambda a: float(a.get("stroke-width")))
    assert widest.get("data-count") == "2"
    # From the Calvados to Senegal's centre.
    numbers = [float(v) for v in re.findall(r"-?[\d.]+", widest.get("d"))]
    calvados, senegal = gazetteer.department_centre("14"), gazetteer.country_centre("SN")
    assert near(numbers[:2], worldmap.project(calvados.lon, calvados.lat), 0.1)
    assert near(numbers[-2:], worldmap.project(senegal.lon, senegal.lat), 0.1)
    assert near(numbers[-2:], worldmap.project(-14.5, 14.4), 6)  # Senegal is about there
    assert sorted(c.get("data-country") for c in svg.findall(f"{SVG}circle[@data-country]")) == \
        ["DE", "GB", "ML", "SN", "US"]
    assert sorted(r.get("data-department") for r in svg.findall(f"{SVG}rect[@data-department]")) == ["14", "76"]


def test_flows_beyond_the_cap_are_counted_not_drawn(app):
    flows = [Flow(f"{d:02d}", country, 1 + d % 7) for d in range(1, 96) if d != 20
             for country in ("DE", "IT", "ML")]
    with app.test_request_context():
        html = str(flows_map(flows, "Flux"))
    root = ET.fromstring(html)
    assert len(root.findall(f"{SVG}svg/{SVG}path[@class='arc']")) == MAX_FLOWS == len(root.findall(".//tbody/tr"))
    drawn = sorted((int(a.get("data-count")) for a in root.findall(f"{SVG}svg/{SVG}path[@class='arc']")),
                   reverse=True)
    assert drawn == sorted((f.count for f in flows), reverse=True)[:MAX_FLOWS]  # the largest ones
    assert f"{len(flows) - MAX_FLOWS} autres liaisons, moins fréquentes" in html
    assert len(html) < 200_000


def test_statistics_without_partnerships_say_so(app, client):
    add_actor(app, name="Amis du Mali", countries="ML")
    body = client.get("/statistiques").get_data(as_text=True)
    assert "Aucun partenariat publié pour l'instant." in body and "flows-map" not in body


def test_statistics_in_english(app, client):
    directory(app)
    assert "Partenariats par pays du partenaire" in client.get("/statistiques").get_data(as_text=True)
    client.get("/langue/en")
    body = client.get("/statistiques").get_data(as_text=True)
    assert "Partnerships by partner country" in body and "1960s" in body and "Twinning" in body
    assert "Table of the 7 links" in body and "Paris and its inner ring" in body


def test_many_countries_make_one_more_bar(app, client):
    countries = ["DE", "IT", "ES", "PT", "BE", "NL", "PL", "CZ", "AT", "CH", "GB", "IE", "DK", "SE", "NO", "FI",
                 "ML", "SN"]
    add_actor(app, name="Ville Ouverte", kind="collectivite", town="Caen", department="14", partnerships=[
        twinning("jumelage", "1990", *[partner(f"Ville {c}", c) for c in countries[:-2]]),
        twinning("jumelage", "1991", partner("Kayes", "ML", "Kayes")),
        twinning("jumelage", "1992", partner("Matam", "SN", "Matam"))])
    body = client.get("/statistiques").get_data(as_text=True)
    rows = table_rows(element(body, 'aria-labelledby="by-country-title"'))
    assert len(rows) == 16 and rows[-1] == ("3 autres pays", "3", None)
    assert sum(int(r[1]) for r in rows) == len(countries)


def test_statistics_follow_every_change(app, client):
    """Counted again once an actor changes; not counted again while nothing does."""
    actor = add_actor(app, name="Ville de Caen", kind="collectivite", town="Caen", department="14", partnerships=[
        twinning("jumelage", "1962", partner("Würzburg", "DE", "Würzburg"))])
    assert "1 partenariat d'un acteur publié." in client.get("/statistiques").get_data(as_text=True)
    statements = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        statements.append(statement.lower())
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert "1 partenariat d'un acteur publié." in client.get("/statistiques").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements and not [s for s in statements if "group by" in s]
    with app.app_context():
        data_partnerships = db.session.get(Actor, actor).partnership_values
    edit_actor(app, actor, partnerships=data_partnerships + [{
        "kind": "cooperation", "status": "active", "start": "1985", "end": "", "domains": [], "description": "",
        "source": "", "partners": [{"name": "Kayes", "country": "ML", "locality": "Kayes", "actor": None}]}])
    body = client.get("/statistiques").get_data(as_text=True)
    assert "2 partenariats d'acteurs publiés." in body and "/partenariats?department=14&amp;country=ML" in body
    with app.app_context():
        archive_actor(db.session, db.session.get(Actor, actor))
        db.session.commit()
    assert "Aucun partenariat publié pour l'instant." in client.get("/statistiques").get_data(as_text=True)


def test_statistics_are_counted_afresh_while_a_change_waits_for_the_index(app, client):
    actor = add_actor(app, name="Ville de Caen", kind="collectivite", town="Caen", department="14", partnerships=[
        twinning("jumelage", "1962", partner("Würzburg", "DE", "Würzburg"))])
    assert "1 partenariat d'un acteur publié." in client.get("/statistiques").get_data(as_text=True)
    with app.app_context():  # written, not yet indexed: the cached figures are not served
        db.session.execute(IndexLog.__table__.insert().values(actor_id=actor, op="upsert", created_at=utcnow()))
        db.session.execute(update(Partnership).where(Partnership.actor_id == actor).values(kind="amitie"))
        db.session.commit()
    body = client.get("/statistiques").get_data(as_text=True)
    rows = table_rows(element(body, 'aria-labelledby="by-kind-title"'))
    assert rows[0][:2] == ("Jumelage", "0") and rows[-1][:2] == ("Pacte d'amitié ou de coopération", "1")
