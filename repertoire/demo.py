"""The demo directory: real actors from public pages, plus generated ones marked as fictitious.

The real actors' partnerships and memberships are those their public pages state
(``data/seed-partnerships.csv``, the seed actors' ``networks`` column); the
generated actors get fictitious ones (``generate.link_generated``), some of them
in the real networks of the demo.
"""
from importlib import resources

from . import geo
from .generate import generate_actors, link_generated
from .interchange import ParsedFile, parse_csv
from .validation import actor_key

DEMO_SEED = 2026
NORMANDIE = {"14", "27", "50", "61", "76"}
# Networks of the seeds that generated actors join: (slug, départements, kinds, share).
DEMO_NETWORKS = (("horizons-solidaires", NORMANDIE, None, 0.25),
                 ("cites-unies-france", None, {"collectivite"}, 0.3),
                 ("maison-de-l-europe-de-nantes", {"44"}, {"association", "comite-jumelage"}, 0.2))


def _read(name: str) -> bytes:
    return resources.files(__package__).joinpath(f"data/{name}").read_bytes()


def demo_rows(generated: int = 300, session=None) -> ParsedFile:
    """The demo's actors file: the seeds, then ``generated`` fictitious actors (with their networks)."""
    return demo_files(generated, session)[0]


def demo_files(generated: int = 300, session=None) -> tuple[ParsedFile, ParsedFile]:
    """The demo's actors file and partnerships file.

    The generated partnerships name their holders by the slugs they get when the
    actors file is imported into ``session``'s directory (an empty one without it).
    """
    from .partnerships_io import parse_partnerships
    actors = parse_csv(_read("seed-actors.csv"))
    partnerships = parse_partnerships(_read("seed-partnerships.csv"), "seed-partnerships.csv")
    rows = list(generate_actors(generated, DEMO_SEED, [row["name"] for _, row in actors.rows]))
    slugs = foreseen_slugs(session, [raw for _line, raw in actors.rows] + rows)[len(actors.rows):]
    line, p_line = len(actors.rows) + 2, len(partnerships.rows) + 2
    for (row, held), slug in zip(link_generated(rows, slugs, DEMO_SEED, DEMO_NETWORKS), slugs):
        actors.rows.append((line, row))
        line += 1
        for item in held:
            partnerships.rows.append((p_line, {"actor": slug, **item, "linked": True}))
            p_line += 1
    return actors, partnerships


def foreseen_slugs(session, rows: list[dict]) -> list[str]:
    """The slug each actor row has (already in the directory) or will get when imported, in file order."""
    from .importing import existing_slugs
    from .operations import SlugAllocator
    keys = [actor_key(r["name"], r["town"], geo.resolve_department(r["department"]) or "") for r in rows]
    existing = existing_slugs(session, set(keys)) if session is not None else {}
    allocator = SlugAllocator(session)
    return [existing.get(key) or allocator.allocate(r["name"], r["town"]) for key, r in zip(keys, rows)]


# Two curating networks and their coordinators (local demo only: these passwords are public, in the README).
CURATING_NETWORKS = [
    {"name": "Horizons Solidaires", "town": "Caen", "postcode": "14000", "department": "14",
     "territory": ["14", "27", "50", "61", "76"],
     "coordinator": ("coord.horizons@demo.example.org", "demo-horizons-2026")},
    {"name": "Cités Unies France", "town": "Paris", "postcode": "75018", "department": "75",
     "territory": ["75", "77", "78", "91", "92", "93", "94", "95"],
     "coordinator": ("coord.cuf@demo.example.org", "demo-cuf-2026")},
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
    for spec in CURATING_NETWORKS:
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
            if not any(link.user.email == email for link in curating.coordinators):  # demo loaded again
                add_coordinator(session, curating, email)
            done.append(f"{spec['name']} : {email} / {password}")
        else:
            done.append(spec["name"])
    return done
