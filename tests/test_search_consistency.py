"""Search answers stay exact while the index changes segment by segment."""
import random
from collections import Counter

from sqlalchemy import select

from conftest import add_actor
from repertoire.extensions import db
from repertoire.models import Actor
from repertoire.operations import actor_input, archive_actor, publish_actor, update_actor
from repertoire.text import sort_key
from repertoire.validation import Vocabulary

COUNTRIES = ["ML", "SN", "BF", "MA", "HT"]
DOMAINS = ["eau", "sante", "education", "culture"]


def truth(app):
    with app.app_context():
        actors = db.session.scalars(select(Actor).where(Actor.status == "published")).all()
        return {
            "names": sorted((a.name for a in actors), key=sort_key),
            "country": Counter(c for a in actors for c in a.countries),
            "domain": Counter(d.slug for a in actors for d in a.domains),
            "newest": max(actors, key=lambda a: a.updated_at).name if actors else None,
        }


def test_facets_and_orders_match_the_database_through_many_small_changes(app, client):
    rng = random.Random(7)
    ids = []
    for step in range(60):
        action = rng.random()
        if action < 0.55 or len(ids) < 5:
            ids.append(add_actor(app, name=f"Acteur {rng.choice('ABCDÉEFGZ')}{step:02d}",
                                 countries=";".join(rng.sample(COUNTRIES, rng.randint(0, 2))),
                                 domains=";".join(rng.sample(DOMAINS, rng.randint(1, 2)))))
        else:
            with app.app_context():
                actor = db.session.get(Actor, rng.choice(ids))
                vocab = Vocabulary(db.session)
                if action < 0.75:
                    data = actor_input(actor)
                    data.countries = rng.sample(COUNTRIES, rng.randint(0, 3))
                    update_actor(db.session, actor, data, vocab)
                elif actor.status == "published":
                    archive_actor(db.session, actor)
                else:
                    publish_actor(db.session, actor)
                db.session.commit()
        if step % 10 == 9:
            expected = truth(app)
            body = client.get("/api/actors?per_page=100").get_json()
            assert [r["name"] for r in body["results"]] == expected["names"]
            assert {f["value"]: f["count"] for f in body["facets"]["country"]} == dict(expected["country"])
            assert {f["value"]: f["count"] for f in body["facets"]["domain"]} == dict(expected["domain"])
            newest = client.get("/api/actors?sort=updated&per_page=1").get_json()["results"][0]["name"]
            assert newest == expected["newest"]
            for code in COUNTRIES:
                assert client.get(f"/api/actors?country={code}").get_json()["total"] == expected["country"][code]
