"""Partnerships and memberships for a bench directory: a simple generator, written straight into its database.

    .venv/bin/python bench/partnerships.py DIRECTORY [--count 30000] [--seed 42]

Adds ``count`` partnerships (European twinnings mostly 1950s–1970s, West-African, Malagasy and Haitian
cooperations mostly since the 1980s, a share ended or suspended, one in twenty with a partner that is an
actor of the directory) held mostly by local authorities and twinning committees, and makes one actor
in a hundred a network with members; then ``repertoire reindex`` puts them in the index. A directory
that already has partnerships is left as it is.
"""
import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent

EUROPE = {"DE": ["Oranienburg", "Bad Kreuznach", "Wesel", "Lahr", "Bensheim", "Offenburg", "Würzburg"],
          "IT": ["Sesto Fiorentino", "Prato", "Cortona", "Lucca", "Pavia", "Asti", "Modène"],
          "GB": ["Taunton", "Sandwich", "Totnes", "Hythe", "Deal", "Ludlow", "Bideford"],
          "PL": ["Kalisz", "Gniezno", "Płock", "Tarnów", "Elbląg"],
          "ES": ["Alcalá", "Teruel", "Huesca"], "PT": ["Tomar", "Braga"], "BE": ["Namur", "Dinant"]}
SOUTH = {"ML": ["Kayes", "Ségou", "Massala", "Mopti", "Sikasso"], "SN": ["Dakar", "Thiès", "Podor", "Matam"],
         "BF": ["Ouahigouya", "Koudougou", "Dori"], "MG": ["Antsirabe", "Fianarantsoa", "Toliara"],
         "HT": ["Carrefour", "Jacmel", "Les Cayes"], "BJ": ["Abomey", "Ouidah"], "NE": ["Tillabéri", "Zinder"],
         "MA": ["Taliouine", "Agadir"], "LB": ["Chatila"], "CU": ["Santiago de Cuba"], "VN": ["Huế"]}
DOMAINS = ["education", "sante", "eau", "culture", "jeunesse", "agriculture", "gouvernance"]


def add(directory: str, count: int, seed: int) -> dict:
    rng = random.Random(seed)
    con = sqlite3.connect(f"{directory}/bench.sqlite3")
    if con.execute("SELECT count(*) FROM partnership").fetchone()[0]:
        return {"added": 0}
    actors = con.execute("SELECT a.id, k.slug FROM actor a JOIN kind k ON k.id = a.kind_id "
                         "WHERE a.status = 'published' ORDER BY a.id").fetchall()
    towns = [i for i, kind in actors if kind in ("collectivite", "comite-jumelage")]
    others = [i for i, kind in actors if kind not in ("collectivite", "comite-jumelage")]
    all_ids = [i for i, _ in actors]
    next_id = 1
    partnerships, partners = [], []
    positions: dict[int, int] = {}
    for n in range(count):
        holder = rng.choice(towns) if towns and rng.random() < 0.7 else rng.choice(others or towns)
        european = rng.random() < 0.55
        country, places = rng.choice(list((EUROPE if european else SOUTH).items()))
        year = int(rng.triangular(1950, 1985, 1962)) if european else int(rng.triangular(1975, 2025, 1995))
        kind = rng.choice(["jumelage"] * 4 + ["amitie"]) if european else rng.choice(
            ["cooperation", "cooperation", "partenariat"])
        status = rng.choices(["active", "terminee", "suspendue"], [80, 14, 6])[0]
        end = str(min(2025, year + rng.randint(5, 40))) if status == "terminee" else ""
        start = str(year) if rng.random() < 0.92 else ""
        position = positions.get(holder, 0)
        positions[holder] = position + 1
        partnerships.append((next_id, holder, position, kind, status, start, end, int(start) if start else None,
                             json.dumps(rng.sample(DOMAINS, rng.randint(0, 2))),
                             f"{'Jumelage' if kind == 'jumelage' else 'Coopération'} avec {places[0]}.", ""))
        for p in range(2 if rng.random() < 0.03 else 1):
            locality = rng.choice(places)
            partner_actor = rng.choice(all_ids) if rng.random() < 0.05 else None
            if partner_actor == holder:
                partner_actor = None
            partners.append((next_id, p, f"Ville de {locality}", country, locality, partner_actor))
        next_id += 1
    con.executemany("INSERT INTO partnership (id, actor_id, position, kind, status, start, \"end\", start_year, "
                    "domains, description, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", partnerships)
    con.executemany("INSERT INTO partnership_partner (partnership_id, position, name, country, locality, actor_id) "
                    "VALUES (?, ?, ?, ?, ?, ?)", partners)
    networks = rng.sample(all_ids, max(1, len(all_ids) // 100))
    memberships = set()
    for actor_id in rng.sample(all_ids, len(all_ids) // 5):
        for network in rng.sample(networks, rng.randint(1, 2)):
            if network != actor_id:
                memberships.add((actor_id, network))
    con.executemany("INSERT INTO membership (actor_id, network_id, since, position) VALUES (?, ?, ?, 0)",
                    [(a, n, rng.choice([None, rng.randint(1970, 2024)])) for a, n in memberships])
    con.commit()
    con.close()
    env = {**os.environ, "REPERTOIRE_DATABASE_URL": f"sqlite:///{directory}/bench.sqlite3",
           "REPERTOIRE_INDEX_DIR": f"{directory}/index"}
    started = time.perf_counter()
    subprocess.run([str(BIN / "repertoire"), "reindex"], env=env, check=True, capture_output=True)
    return {"added": count, "memberships": len(memberships), "networks": len(networks),
            "reindex_s": time.perf_counter() - started}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--count", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    print(add(args.directory, args.count, args.seed))


if __name__ == "__main__":
    main()
