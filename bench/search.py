"""Répertoire at scale, against SQLite FTS5 on the same data (figures only; nothing is asserted).

    make bench                                   # 10k and 100k actors
    .venv/bin/python bench/search.py --large     # adds 1M (long: generation and import)
    .venv/bin/python bench/search.py --sizes 10000 --record   # and append to bench/RESULTS.md
    .venv/bin/python bench/search.py --sizes 1000000 --no-load --no-fts --keep   # then profile a page:
    .venv/bin/python bench/pages.py /tmp/bench-1000000-… --profile /moderation/doublons

For each size, in a temporary directory: `repertoire generate` then
`repertoire import` (timed: validation, database, index), a fixed mix of
searches through the WSGI app in a separate worker process (server-side
latency, peak RSS, one edit until visible in search), the same searches in
SQLite FTS5 (`unicode61 remove_diacritics 2`, GROUP BY facet counts), and,
when gunicorn and wrk are installed, the HTML search page under load; then
(bench/pages.py) every page that lists or counts, public and back-office, on the
same data, logged in as a coordinator and as an admin.
"""
import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import pages  # noqa: E402 - beside this file
import partnerships as bench_partnerships  # noqa: E402 - beside this file

BIN = Path(sys.executable).parent

WORDS = ["eau", "école", "santé", "jumelage", "solidarité", "puits", "femmes", "jeunes", "maraîchage",
         "coopération", "formation", "culture", "villages", "forages", "microcrédits"]
PREFIXES = ["sol", "ami", "com", "vil", "ass", "jum", "eco", "sant", "fond", "coll"]
PLACES = ["Caen", "Rouen", "Nantes", "Lyon", "Paris", "14", "76", "calvados", "Seine-Maritime", "Le Havre"]
INTERVENTIONS = ["Mali", "Sénégal", "maroc", "BFA", "Haïti", "Ségou", "Dakar", "Ouagadougou", "Kayes", "Agadir"]
COUNTRIES = ["ML", "SN", "BF", "MA", "MG", "HT", "BJ", "DE", "VN", "TN"]
DOMAINS = ["sante", "education", "eau", "agriculture", "culture", "droits"]
ACTIVITIES = ["projets", "ecsi", "echanges", "formation", "collecte"]


def query_mix(count: int, seed: int) -> list[tuple[str, dict]]:
    """A fixed mix: browse, each criterion alone, text + filters, deep pages, sort by name."""
    rng = random.Random(seed)
    kinds = [
        ("browse all", lambda: {}),
        ("name (prefix)", lambda: {"name": rng.choice(PREFIXES)}),
        ("place", lambda: {"place": rng.choice(PLACES)}),
        ("intervention", lambda: {"intervention": rng.choice(INTERVENTIONS)}),
        ("domain filter", lambda: {"domain": rng.choice(DOMAINS)}),
        ("activity filter", lambda: {"activity": rng.choice(ACTIVITIES)}),
        ("text", lambda: {"q": rng.choice(WORDS)}),
        ("text + 2 filters", lambda: {"q": rng.choice(WORDS), "country": rng.choice(COUNTRIES),
                                      "domain": rng.choice(DOMAINS)}),
        ("deep page", lambda: {"page": rng.randint(20, 200), "domain": rng.choice(DOMAINS)}),
        ("sort by name", lambda: {"q": rng.choice(WORDS), "sort": "name"}),
    ]
    return [(label, make()) for label, make in (kinds[i % len(kinds)] for i in range(count))]


PARTNER_COUNTRIES = ["IT", "DE", "GB", "PL", "ML", "SN", "BF", "MG", "HT"]
PARTNER_WORDS = ["Prato", "Kayes", "Oranienburg", "Dakar", "italie", "Taunton", "jumelage", "Carrefour"]
PARTNERSHIP_SHARE = 0.3  # ~30,000 partnerships at 100,000 actors (issue 14 point 3)


def partnership_mix(count: int, seed: int, networks: list[str]) -> list[tuple[str, str]]:
    """(label, URL): the partnerships search, and the actor search's partnership and network filters."""
    rng = random.Random(seed)
    kinds = [
        ("partnerships: browse all", lambda: ("/api/partnerships", {})),
        ("partnerships: kind", lambda: ("/api/partnerships", {"kind": rng.choice(["jumelage", "cooperation"])})),
        ("partnerships: country", lambda: ("/api/partnerships", {"country": rng.choice(PARTNER_COUNTRIES)})),
        ("partnerships: journey (kind, country, dept, until)", lambda: (
            "/api/partnerships", {"kind": "jumelage", "country": rng.choice(["IT", "DE"]),
                                  "department": rng.choice(["14", "76", "44", "69"]), "until": 1969})),
        ("partnerships: text", lambda: ("/api/partnerships", {"q": rng.choice(PARTNER_WORDS)})),
        ("partnerships: since + status", lambda: ("/api/partnerships", {"since": rng.choice([1980, 1990, 2000]),
                                                                          "status": "active"})),
        ("partnerships: deep page", lambda: ("/api/partnerships", {"page": rng.randint(20, 200)})),
        ("actors: partnership filter", lambda: ("/api/actors", {"partnership": rng.choice(["jumelage", "amitie"])})),
        ("actors: network filter", lambda: ("/api/actors", {"network": rng.choice(networks)})),
        ("actors: intervention via partners", lambda: ("/api/actors", {"intervention": rng.choice(
            ["Italie", "Prato", "Oranienburg", "Pologne"])})),
    ]
    return [(label, path + "?" + urlencode(params))
            for label, (path, params) in ((label, make()) for label, make in
                                          (kinds[i % len(kinds)] for i in range(count)))]


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summary(values):
    return statistics.median(values), pct(values, 95), pct(values, 99)


# -- the query worker (a separate process, like one web worker) ------------

def worker(directory: str, queries: int, seed: int):
    from repertoire import create_app
    from repertoire.extensions import db
    from repertoire.models import Actor
    from repertoire.operations import actor_input, update_actor
    from repertoire.validation import Vocabulary
    from sqlalchemy import select

    app = create_app(config_for(directory))
    client = app.test_client()
    started = time.perf_counter()
    client.get("/api/actors")
    first = (time.perf_counter() - started) * 1000
    mix = query_mix(queries, seed)
    for _label, params in mix:  # warm-up: the per-term caches of a running server
        client.get("/api/actors?" + urlencode(params))
    timings: dict[str, list[float]] = {}
    for label, params in mix:
        started = time.perf_counter()
        response = client.get("/api/actors?" + urlencode(params))
        timings.setdefault(label, []).append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (params, response.get_json())
    edits = []
    with app.app_context():
        ids = list(db.session.scalars(select(Actor.id).where(Actor.status == "published").limit(5)))
    for n, actor_id in enumerate(ids):
        name = f"Zzmodif{n} Bench"
        started = time.perf_counter()
        with app.app_context():
            actor = db.session.get(Actor, actor_id)
            data = actor_input(actor)
            data.name = name
            update_actor(db.session, actor, data, Vocabulary(db.session))
            db.session.commit()  # the index is written after the commit
        while client.get("/api/actors?name=zzmodif" + str(n)).get_json()["total"] != 1:
            pass
        edits.append((time.perf_counter() - started) * 1000)
    from repertoire.models import Membership
    with app.app_context():
        networks = list(db.session.scalars(select(Actor.slug).where(Actor.id.in_(
            select(Membership.network_id).distinct())).limit(50))) or ["none"]
    pmix = partnership_mix(queries, seed, networks)
    started = time.perf_counter()
    client.get("/api/partnerships")
    first_partnerships = (time.perf_counter() - started) * 1000
    for _label, url in pmix:
        client.get(url)
    ptimings: dict[str, list[float]] = {}
    for label, url in pmix:
        started = time.perf_counter()
        response = client.get(url)
        ptimings.setdefault(label, []).append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.get_json())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"timings": timings, "first": first, "edits": edits, "rss_mb": rss,
                      "partnership_timings": ptimings, "first_partnerships": first_partnerships}))


def config_for(directory: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.sqlite3",
            "REPERTOIRE_INDEX_DIR": f"{directory}/index",
            "REPERTOIRE_WARM_INDEX": False}  # warmed by a first request, timed apart from the preparation's


# -- SQLite FTS5 on the same data ------------------------------------------

FACET_SQL = {
    "country": ("SELECT code, count(*) FROM actor_country WHERE actor_id IN ({ids}) GROUP BY code", "code"),
    "department": ("SELECT department, count(*) FROM actor WHERE id IN ({ids}) GROUP BY department", None),
    "domain": ("SELECT d.slug, count(*) FROM actor_domain ad JOIN domain d ON d.id = ad.domain_id "
               "WHERE ad.actor_id IN ({ids}) GROUP BY d.slug", None),
    "activity": ("SELECT a.slug, count(*) FROM actor_activity aa JOIN activity a ON a.id = aa.activity_id "
                 "WHERE aa.actor_id IN ({ids}) GROUP BY a.slug", None),
    "kind": ("SELECT k.slug, count(*) FROM actor JOIN kind k ON k.id = actor.kind_id "
             "WHERE actor.id IN ({ids}) GROUP BY k.slug", None),
}
FILTER_SQL = {
    "country": "id IN (SELECT actor_id FROM actor_country WHERE code IN ({v}))",
    "department": "department IN ({v})",
    "domain": "id IN (SELECT ad.actor_id FROM actor_domain ad JOIN domain d ON d.id = ad.domain_id WHERE d.slug IN ({v}))",
    "activity": "id IN (SELECT aa.actor_id FROM actor_activity aa JOIN activity a ON a.id = aa.activity_id "
                "WHERE a.slug IN ({v}))",
    "kind": "kind_id IN (SELECT id FROM kind WHERE slug IN ({v}))",
}


def build_fts(path: str) -> float:
    from repertoire import geo
    started = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("DROP TABLE IF EXISTS fts")
    con.execute("CREATE VIRTUAL TABLE fts USING fts5(name, acronym, body, "
                "tokenize='unicode61 remove_diacritics 2')")
    labels = {table: dict(con.execute(f"SELECT id, label FROM {table}")) for table in ("domain", "activity", "kind")}
    countries = {}
    for actor_id, code in con.execute("SELECT actor_id, code FROM actor_country"):
        countries.setdefault(actor_id, []).append(geo.country_name(code))
    towns = {}
    for actor_id, name in con.execute("SELECT actor_id, name FROM actor_town"):
        towns.setdefault(actor_id, []).append(name)
    domains = {}
    for actor_id, domain_id in con.execute("SELECT actor_id, domain_id FROM actor_domain"):
        domains.setdefault(actor_id, []).append(labels["domain"][domain_id])
    rows = []
    for actor_id, name, acronym, town, dept, kind_id, description in con.execute(
            "SELECT id, name, acronym, town, department, kind_id, description FROM actor WHERE status='published'"):
        body = " ".join([labels["kind"][kind_id], town, geo.department_name(dept), *countries.get(actor_id, []),
                         *towns.get(actor_id, []), *domains.get(actor_id, []), description])
        rows.append((actor_id, name, acronym, body))
    con.executemany("INSERT INTO fts(rowid, name, acronym, body) VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return time.perf_counter() - started


def fts_search(con, params: dict):
    """The same search done the SQLite way: MATCH, +rowid filters, GROUP BY facets, one page of rows."""
    from repertoire import geo
    where, args = ["status = 'published'"], []
    match = []
    if params.get("q"):
        match.append('"' + params["q"].replace('"', "") + '"')
    if params.get("name"):
        match.append("{name acronym}: " + params["name"].replace('"', "") + "*")
    if params.get("place"):
        dept = geo.resolve_department(params["place"])
        where.append("(town = ? COLLATE NOCASE OR postcode = ? OR department = ?)")
        args += [params["place"], params["place"], dept or ""]
    if params.get("intervention"):
        code = geo.resolve_country(params["intervention"]) or ""
        where.append("(id IN (SELECT actor_id FROM actor_country WHERE code = ?) OR "
                     "id IN (SELECT actor_id FROM actor_town WHERE name = ? COLLATE NOCASE))")
        args += [code, params["intervention"]]
    if match:
        where.append("+id IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
        args.append(" AND ".join(match))
    filters = {name: [params[name]] for name in FILTER_SQL if params.get(name)}

    def condition(skip=None):
        extra, extra_args = [], []
        for name, values in filters.items():
            if name != skip:
                extra.append(FILTER_SQL[name].format(v=",".join("?" * len(values))))
                extra_args += values
        return " AND ".join(where + extra), args + extra_args

    cond, cond_args = condition()
    con.execute("DROP TABLE IF EXISTS temp.matched")
    con.execute(f"CREATE TEMP TABLE matched AS SELECT id FROM actor WHERE {cond}", cond_args)
    total = con.execute("SELECT count(*) FROM matched").fetchone()[0]
    facets = {}
    for name, (sql, _) in FACET_SQL.items():
        if name in filters:
            c, c_args = condition(skip=name)
            facets[name] = con.execute(sql.format(ids=f"SELECT id FROM actor WHERE {c}"), c_args).fetchall()
        else:
            facets[name] = con.execute(sql.format(ids="SELECT id FROM matched")).fetchall()
    per_page, page = 20, int(params.get("page", 1))
    if match and params.get("sort") != "name":
        order = ("SELECT a.* FROM fts JOIN actor a ON a.id = fts.rowid WHERE fts MATCH ? AND a.id IN "
                 "(SELECT id FROM matched) ORDER BY bm25(fts) LIMIT ? OFFSET ?")
        rows = con.execute(order, [" AND ".join(match), per_page, (page - 1) * per_page]).fetchall()
    else:
        rows = con.execute("SELECT * FROM actor WHERE id IN (SELECT id FROM matched) ORDER BY name_sort "
                           "LIMIT ? OFFSET ?", [per_page, (page - 1) * per_page]).fetchall()
    return total, facets, rows


def fts_timings(path: str, mix) -> dict[str, list[float]]:
    con = sqlite3.connect(path)
    for _label, params in mix:  # same warm-up as the worker
        fts_search(con, params)
    timings: dict[str, list[float]] = {}
    for label, params in mix:
        started = time.perf_counter()
        fts_search(con, params)
        timings.setdefault(label, []).append((time.perf_counter() - started) * 1000)
    con.close()
    return timings


# -- the HTML page under load ----------------------------------------------

def under_load(directory: str, seconds: int = 10) -> dict[str, float] | None:
    gunicorn, wrk = BIN / "gunicorn", shutil.which("wrk")
    if not gunicorn.exists() or not wrk:
        return None
    env = {**os.environ, "REPERTOIRE_DATABASE_URL": config_for(directory)["SQLALCHEMY_DATABASE_URI"],
           "REPERTOIRE_INDEX_DIR": config_for(directory)["REPERTOIRE_INDEX_DIR"]}
    port = 5800 + os.getpid() % 100
    server = subprocess.Popen([str(gunicorn), "-w", "4", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                               "repertoire:create_app()"], env=env, cwd=ROOT)
    try:
        results = {}
        for label, path in (("/ (browse)", "/"), ("/?intervention=Mali&domain=sante", "/?intervention=Mali&domain=sante")):
            url = f"http://127.0.0.1:{port}{path}"
            for _ in range(100):  # wait until the workers answer
                try:
                    subprocess.run(["curl", "-sf", "-o", "/dev/null", url], check=True, timeout=30)
                    break
                except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                    time.sleep(0.5)
            # every worker opens the index and builds its caches (~3 s of CPU each, 4 workers on 2 cores)
            subprocess.run([wrk, "-t2", "-c16", "-d12s", url], capture_output=True)
            out = subprocess.run([wrk, "-t2", "-c16", f"-d{seconds}s", url], capture_output=True, text=True).stdout
            line = next((l for l in out.splitlines() if l.startswith("Requests/sec")), "Requests/sec: 0")
            results[label] = float(line.split()[-1])
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


# -- one size --------------------------------------------------------------

def run(size: int, queries: int, seed: int, load: bool, page_timeout: float | None = 60,
        keep: bool = False, fts: bool = True) -> str:
    directory = tempfile.mkdtemp(prefix=f"bench-{size}-")
    env = {**os.environ, "REPERTOIRE_DATABASE_URL": config_for(directory)["SQLALCHEMY_DATABASE_URI"],
           "REPERTOIRE_INDEX_DIR": config_for(directory)["REPERTOIRE_INDEX_DIR"]}
    repertoire = str(BIN / "repertoire")
    subprocess.run([repertoire, "init"], env=env, check=True, capture_output=True)
    csv_path = f"{directory}/actors.csv"
    started = time.perf_counter()
    subprocess.run([repertoire, "generate", str(size), csv_path, "--seed", str(seed)], env=env, check=True,
                   capture_output=True)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([repertoire, "import", csv_path], env=env, check=True, capture_output=True)
    imported = time.perf_counter() - started
    links = bench_partnerships.add(directory, int(size * PARTNERSHIP_SHARE), seed)
    index_mb = sum(f.stat().st_size for f in Path(directory, "index").rglob("*") if f.is_file()) / 1e6
    fts_build = build_fts(f"{directory}/bench.sqlite3") if fts else None

    out = subprocess.run([sys.executable, __file__, "--worker", directory, "--queries", str(queries),
                          "--seed", str(seed)], capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    mix = query_mix(queries, seed)
    fts_results = fts_timings(f"{directory}/bench.sqlite3", mix) if fts else None
    load_results = under_load(directory) if load else None
    page_results = pages.run_pages(directory, seed, page_timeout, budget=20) if page_timeout else None

    lines = [f"### {size:,} actors".replace(",", " "), "",
             f"- generate: {generated:.1f} s; import + index (`repertoire import`): {imported:.1f} s "
             f"({size / imported:,.0f} actors/s); index: {index_mb:.1f} MB"
             + (f"; FTS5 table built in {fts_build:.1f} s" if fts else "; FTS5 not measured (`--no-fts`)"),
             f"- partnerships (bench/partnerships.py): {links['added']:,} added, {links.get('memberships', 0):,} "
             f"memberships of {links.get('networks', 0):,} networks; `repertoire reindex` with them "
             f"{links.get('reindex_s', 0):.1f} s",
             f"- worker: first search (opens the index, builds the caches) {result['first']:.0f} ms; "
             f"first partnerships search (reads them from the index) {result['first_partnerships']:.0f} ms; "
             f"peak RSS {result['rss_mb']:.0f} MB",
             f"- one edit until visible in search: median {statistics.median(result['edits']):.0f} ms, "
             f"max {max(result['edits']):.0f} ms (5 edits)"]
    if load_results:
        lines.append("- HTML search page, gunicorn 4 workers, wrk 2 threads 16 connections: "
                     + "; ".join(f"`{k}` {v:.0f} req/s" for k, v in load_results.items()))
    elif load:
        lines.append("- HTML page under load: not measured (install gunicorn and wrk: `make bench-tools`)")
    lines += ["", f"| query ({queries} in all, warm) | n | Répertoire p50 / p95 / p99 ms | FTS5 p50 / p95 / p99 ms "
                  f"| ratio p95 |", "|---|---|---|---|---|"]
    everything, everything_fts = [], []
    for label, values in result["timings"].items():
        everything += values
        ours = summary(values)
        if fts_results:
            everything_fts += fts_results[label]
            theirs = summary(fts_results[label])
            lines.append(f"| {label} | {len(values)} | {ours[0]:.1f} / {ours[1]:.1f} / {ours[2]:.1f} | "
                         f"{theirs[0]:.1f} / {theirs[1]:.1f} / {theirs[2]:.1f} | {ours[1] / theirs[1]:.2f} |")
        else:
            lines.append(f"| {label} | {len(values)} | {ours[0]:.1f} / {ours[1]:.1f} / {ours[2]:.1f} | — | — |")
    ours = summary(everything)
    if fts_results:
        theirs = summary(everything_fts)
        lines.append(f"| **all** | {len(everything)} | {ours[0]:.1f} / {ours[1]:.1f} / {ours[2]:.1f} | "
                     f"{theirs[0]:.1f} / {theirs[1]:.1f} / {theirs[2]:.1f} | {ours[1] / theirs[1]:.2f} |")
    else:
        lines.append(f"| **all** | {len(everything)} | {ours[0]:.1f} / {ours[1]:.1f} / {ours[2]:.1f} | — | — |")
    lines += ["", "| partnerships and links (warm) | n | p50 / p95 / p99 ms |", "|---|---|---|"]
    linked = []
    for label, values in result["partnership_timings"].items():
        linked += values
        p50, p95, p99 = summary(values)
        lines.append(f"| {label} | {len(values)} | {p50:.1f} / {p95:.1f} / {p99:.1f} |")
    p50, p95, p99 = summary(linked)
    lines.append(f"| **all** | {len(linked)} | {p50:.1f} / {p95:.1f} / {p99:.1f} |")
    lines.append(f"\np95 of these / p95 of the actor search above: **{p95 / ours[1]:.2f}** (target ≤ 1.5)")
    if page_results:
        lines += ["", *pages.table(page_results, size)]
    if keep:
        print(f"kept: {directory}", file=sys.stderr)
    else:
        shutil.rmtree(directory, ignore_errors=True)
    return "\n".join(lines)


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "?"
    return (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC — {os.cpu_count()} cores, {memory:.0f} GiB RAM, "
            f"Python {sys.version.split()[0]}, commit {commit}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--large", action="store_true", help="also 1,000,000 actors")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-load", action="store_true", help="skip gunicorn + wrk")
    parser.add_argument("--page-timeout", type=float, default=60,
                        help="seconds per request of bench/pages.py (0: pages not measured)")
    parser.add_argument("--no-fts", action="store_true", help="skip SQLite FTS5 (slow at 1,000,000)")
    parser.add_argument("--keep", action="store_true", help="keep each size's directory (to profile a page)")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.queries, args.seed)
        return
    sizes = args.sizes + ([1_000_000] if args.large else [])
    report = [f"## {machine()}", ""]
    print(report[0], flush=True)
    for size in sizes:
        section = run(size, args.queries, args.seed, load=not args.no_load and size >= 100_000,
                      page_timeout=args.page_timeout, keep=args.keep, fts=not args.no_fts)
        print("\n" + section, flush=True)
        report += [section, ""]
    if args.record:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write("\n".join(report) + "\n")


if __name__ == "__main__":
    main()
