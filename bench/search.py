"""Search latency at 10k and 100k generated actors (figures only; nothing is asserted).

    .venv/bin/python bench/search.py                 # 10k and 100k
    .venv/bin/python bench/search.py --sizes 10000   # one size

For each size: generate actors (fixed seed), import and index them in a
temporary directory, then time a fixed mix of API searches server-side
(through the WSGI app, JSON included) and print p50/p95/p99 per kind of query.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from repertoire import create_app  # noqa: E402
from repertoire.database import upgrade_schema  # noqa: E402
from repertoire.extensions import db  # noqa: E402
from repertoire.generate import FOREIGN_TOWNS, communes, generate_actors  # noqa: E402
from repertoire.operations import ensure_default_taxonomy, import_actors  # noqa: E402
from repertoire.search import get_index  # noqa: E402
from repertoire.validation import Vocabulary, validate_actor  # noqa: E402

WORDS = ["eau", "école", "santé", "jumelage", "solidarité", "puits", "femmes", "jeunes", "maraîchage",
         "coopération", "formation", "culture", "villages", "forages", "microcrédit"]
PREFIXES = ["sol", "ami", "com", "vil", "ass", "jum", "eco", "sant", "fond", "coll"]
COUNTRIES = ["ML", "SN", "BF", "MA", "MG", "HT", "BJ", "DE", "VN", "TN"]
DOMAINS = ["sante", "education", "eau", "agriculture", "culture", "droits"]
ACTIVITIES = ["projets", "ecsi", "echanges", "formation", "collecte"]


def query_mix(rng: random.Random, count: int) -> list[tuple[str, dict]]:
    """A fixed mix: browse, each criterion alone, text + filters, deep pages, name sort."""
    towns = [c["name"] for c in communes()]
    kinds = [
        ("browse all", lambda: {}),
        ("name prefix", lambda: {"name": rng.choice(PREFIXES)}),
        ("place", lambda: {"place": rng.choice(towns + ["14", "calvados", "75", "Seine-Maritime"])}),
        ("intervention", lambda: {"intervention": rng.choice(
            ["Mali", "Sénégal", "maroc", "BFA"] + [t for ts in FOREIGN_TOWNS.values() for t in ts[:2]])}),
        ("domain filter", lambda: {"domain": rng.choice(DOMAINS)}),
        ("activity filter", lambda: {"activity": rng.choice(ACTIVITIES)}),
        ("text", lambda: {"q": rng.choice(WORDS)}),
        ("text + 2 filters", lambda: {"q": rng.choice(WORDS), "country": rng.choice(COUNTRIES),
                                      "domain": rng.choice(DOMAINS)}),
        ("deep page", lambda: {"page": rng.randint(20, 200), "domain": rng.choice(DOMAINS)}),
        ("sort by name", lambda: {"q": rng.choice(WORDS), "sort": "name"}),
    ]
    return [(label, make()) for label, make in (kinds[i % len(kinds)] for i in range(count))]


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run(size: int, queries: int, seed: int):
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{size}-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}",
                      "REPERTOIRE_INDEX_DIR": str(tmp / "index")})
    with app.app_context():
        upgrade_schema()
        ensure_default_taxonomy(db.session)
        db.session.commit()
        get_index().ensure()
        vocab = Vocabulary(db.session)
        started = time.perf_counter()
        rows = []
        for raw in generate_actors(size, seed):
            data, errors = validate_actor(raw, vocab)
            assert not errors, errors
            rows.append(data)
        generated = time.perf_counter()
        import_actors(db.session, rows, vocab)
        db.session.commit()  # indexes after the commit
        imported = time.perf_counter()
    index_bytes = sum(f.stat().st_size for f in (tmp / "index").iterdir())

    client = app.test_client()
    client.get("/api/actors")  # opens the searcher and builds the facet cache
    rng = random.Random(seed)
    timings: dict[str, list[float]] = {}
    for label, params in query_mix(rng, queries):
        url = "/api/actors?" + urlencode(params)
        t0 = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, (url, response.get_json())
        timings.setdefault(label, []).append(elapsed)

    print(f"\n## {size:,} actors".replace(",", " "))
    print(f"validate {generated - started:.1f} s; import + index {imported - generated:.1f} s "
          f"({size / (imported - generated):.0f} actors/s); index {index_bytes / 1e6:.1f} MB")
    print(f"{'query':<18} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    everything = []
    for label, values in timings.items():
        everything += values
        print(f"{label:<18} {len(values):>4} {statistics.median(values):>8.1f} "
              f"{percentile(values, 95):>8.1f} {percentile(values, 99):>8.1f}")
    print(f"{'all':<18} {len(everything):>4} {statistics.median(everything):>8.1f} "
          f"{percentile(everything, 95):>8.1f} {percentile(everything, 99):>8.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    for size in args.sizes:
        run(size, args.queries, args.seed)


if __name__ == "__main__":
    main()
