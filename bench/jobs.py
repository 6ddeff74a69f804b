"""A bulk action on a whole kept directory, as a job (issue 16 point 5): figures only, nothing asserted.

    .venv/bin/python bench/jobs.py DIRECTORY [--action archiver|reseau|exporter] [--q TEXT] [--chunk 500]

On a COPY of a directory kept by bench/search.py (it changes it: the actors are archived or added to a network).
Times the confirmation page, the POST that queues the job (the request a coordinator waits for), the worker
(``repertoire jobs work --once`` in this process) and the progress page; prints them as JSON.
"""
import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COORDINATOR, PASSWORD = "coordination@bench.invalid", "bench-password-123"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory")
    parser.add_argument("--action", default="archiver", choices=("archiver", "reseau", "exporter"))
    parser.add_argument("--q", default="", help="the actors list's text filter (default: every actor)")
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args()

    from sqlalchemy import select

    from repertoire import create_app, operations
    from repertoire.database import upgrade_schema
    from repertoire.extensions import db
    from repertoire.jobs import work
    from repertoire.models import Actor, Job, Kind, User
    from repertoire.search import get_index

    directory = args.directory
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.sqlite3",
                      "REPERTOIRE_INDEX_DIR": f"{directory}/index", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "MAIL_OUTBOX": f"{directory}/outbox",
                      "REPERTOIRE_JOBS_INLINE": False, "REPERTOIRE_JOBS_CHUNK": args.chunk},
                     instance_path=f"{directory}/instance")
    with app.app_context():
        upgrade_schema()
        get_index().open()
        if db.session.scalar(select(User).where(User.email == COORDINATOR)) is None:
            operations.create_user(db.session, COORDINATOR, PASSWORD, role="coordinator")
        network = db.session.scalar(select(Actor.id).where(
            Actor.kind_id == select(Kind.id).where(Kind.slug == "reseau").scalar_subquery(),
            Actor.status == "published").limit(1))
        db.session.commit()
    client = app.test_client()
    client.post("/compte/connexion", data={"email": COORDINATOR, "password": PASSWORD})
    figures = {"action": args.action, "chunk": args.chunk}

    started = time.perf_counter()
    page = client.get(f"/moderation/acteurs/lot?action={args.action}&q={args.q}&status=published")
    figures["confirmation page (s)"] = round(time.perf_counter() - started, 2)
    count = re.search(r'name="count" value="(\d+)"', page.get_data(as_text=True)).group(1)
    figures["actors"] = int(count)

    started = time.perf_counter()
    queued = client.post("/moderation/acteurs/lot", data={"action": args.action, "q": args.q, "status": "published",
                                                          "count": count, "network": network or ""})
    figures["queue POST (s)"] = round(time.perf_counter() - started, 2)
    assert queued.status_code == 302, queued.status_code
    job_url = queued.headers["Location"]

    started = time.perf_counter()
    with app.app_context():
        work(once=True)
    figures["worker (s)"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    client.get(job_url)
    figures["progress page (s)"] = round(time.perf_counter() - started, 3)
    with app.app_context():
        job = db.session.get(Job, int(job_url.rstrip("/").rsplit("/", 1)[1]))
        figures.update(status=job.status, done=job.done, total=job.total, result=job.result, error=job.error)
        get_index().close()
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
