"""Time a big import's commit and, after it, the comparison of its actors for likely duplicates.

    .venv/bin/python bench/duplicates_import.py 20000 [--dir DIR]

Generates N actors (`repertoire generate`, seed 1), imports them into an empty SQLite instance in one transaction
as `repertoire import` does, and reports: the rows' check and write, the commit (with the index and, when the
write is small enough, the pairs), the part of the commit spent on duplicate pairs, and the drain that compares
the actors a big write left pending (`drain_pending`, 1,000 a transaction), in seconds of wall-clock and of this process's CPU
(the index is written in this process too; CPU time is steadier on a busy machine). Run it against another checkout with
PYTHONPATH=that/checkout to compare (the drain is then reported as absent).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int)
    parser.add_argument("--dir", help="working folder (default: a new temporary one)")
    args = parser.parse_args()
    directory = args.dir or tempfile.mkdtemp(prefix=f"dupbench-{args.size}-")
    os.makedirs(directory, exist_ok=True)
    env = {**os.environ, "REPERTOIRE_DATABASE_URL": f"sqlite:///{directory}/bench.sqlite3",
           "REPERTOIRE_INDEX_DIR": f"{directory}/index"}
    os.environ.update(env)
    csv_path = f"{directory}/actors.csv"
    if not os.path.exists(csv_path):
        subprocess.run([sys.executable, "-m", "flask", "--app", "repertoire", "generate", str(args.size), csv_path,
                        "--seed", "1"], env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "repertoire", "init"], env=env, check=True,
                   capture_output=True)

    from repertoire import create_app, operations
    from repertoire.extensions import db
    from repertoire.importing import check_and_import
    from repertoire.interchange import parse_file
    from repertoire.operations import duplicates

    spent = {"pairs": 0.0, "pairs_cpu": 0.0}
    original = duplicates.refresh_pairs

    def timed(*a, **k):
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*a, **k)
        finally:
            spent["pairs"] += time.perf_counter() - started
            spent["pairs_cpu"] += time.process_time() - cpu
    duplicates.refresh_pairs = timed  # the commit hook and the drain look it up at each call

    app = create_app()
    result = {"size": args.size, "code": str(Path(duplicates.__file__).parents[2])}
    with app.app_context():
        parsed = parse_file(csv_path)
        started, cpu = time.perf_counter(), time.process_time()
        check, summary = check_and_import(db.session, parsed, None, processes=min(4, os.cpu_count() or 1))
        assert summary is not None, check.messages()[:5]
        result["check_and_write_s"] = round(time.perf_counter() - started, 1)
        result["check_and_write_cpu_s"] = round(time.process_time() - cpu, 1)
        started, cpu = time.perf_counter(), time.process_time()
        db.session.commit()
        result["commit_s"] = round(time.perf_counter() - started, 1)
        result["commit_cpu_s"] = round(time.process_time() - cpu, 1)
        result["pairs_in_commit_s"] = round(spent["pairs"], 1)
        result["pairs_in_commit_cpu_s"] = round(spent["pairs_cpu"], 1)
        drain = getattr(operations, "drain_pending", None)
        if drain is not None:
            result["pending_after_commit"] = operations.pending_count(db.session)
            started, cpu, chunks = time.perf_counter(), time.process_time(), []
            while True:
                chunk_started = time.perf_counter()
                n = drain(db.session, 1000)
                db.session.commit()
                if not n:
                    break
                chunks.append(time.perf_counter() - chunk_started)
            result["drain_s"] = round(time.perf_counter() - started, 1)
            result["drain_cpu_s"] = round(time.process_time() - cpu, 1)
            result["drain_chunks"] = len(chunks)
            result["drain_chunk_max_s"] = round(max(chunks), 2) if chunks else 0
        result["pairs"] = operations.duplicate_count(db.session)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
