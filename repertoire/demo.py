"""The demo directory: real actors from public pages, plus generated ones marked as fictitious."""
from importlib import resources

from .generate import generate_actors
from .interchange import ParsedFile, parse_csv

DEMO_SEED = 2026


def demo_rows(generated: int = 300) -> ParsedFile:
    data = resources.files(__package__).joinpath("data/seed-actors.csv").read_bytes()
    parsed = parse_csv(data)
    start = len(parsed.rows) + 2
    parsed.rows += [(start + i, row) for i, row in enumerate(generate_actors(generated, DEMO_SEED))]
    return parsed


# Two curating networks and their coordinators (local demo only: these passwords are public, in the README).
DEMO_NETWORKS = [
    {"name": "Horizons Solidaires", "town": "Caen", "postcode": "14000", "department": "14",
     "territory": ["14", "27", "50", "61", "76"],
     "coordinator": ("coord.horizons@demo.example.org", "demo-horizons-2026")},
    {"name": "Resacoop", "town": "Lyon", "postcode": "69001", "department": "69",
     "territory": ["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"],
     "coordinator": ("coord.resacoop@demo.example.org", "demo-resacoop-2026")},
]


def demo_networks(session, accounts: bool) -> list[str]:
    """Make the demo networks curating, with their territory and (if ``accounts``) coordinator accounts.

    Idempotent: run again, it changes nothing. Returns what it did, one line each."""
    from sqlalchemy import select

    from .models import Actor, CuratingNetwork
    from .operations import create_actor, create_user, find_user, publish_actor
    from .operations.networks import add_coordinator, make_curating, set_territory
    from .validation import Vocabulary, validate_actor

    done = []
    vocab = Vocabulary(session)
    for spec in DEMO_NETWORKS:
        actor = session.scalar(select(Actor).where(Actor.name == spec["name"], Actor.kind_id == vocab.terms[
            "kind"]["reseau"].id, Actor.status == "published"))
        if actor is None:
            data, errors = validate_actor({"name": spec["name"], "kind": "reseau", "town": spec["town"],
                                           "postcode": spec["postcode"], "department": spec["department"],
                                           "domains": "gouvernance", "activities": "formation;plaidoyer"}, vocab)
            assert not errors, errors
            actor = create_actor(session, data, vocab, status="pending")
            publish_actor(session, actor)
            session.flush()
        curating = session.get(CuratingNetwork, actor.id) or make_curating(session, actor)
        set_territory(session, curating, spec["territory"])
        if accounts:
            email, password = spec["coordinator"]
            if find_user(session, email) is None:
                create_user(session, email, password, "coordinator")
            add_coordinator(session, curating, email)
            done.append(f"{spec['name']} : {email} / {password}")
        else:
            done.append(spec["name"])
    return done
