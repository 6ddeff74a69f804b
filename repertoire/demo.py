"""The demo directory: real actors from public pages, plus generated ones marked as fictitious."""
from importlib import resources

from .generate import generate_actors
from .interchange import ParsedFile, parse_csv

DEMO_SEED = 2026


def demo_rows(generated: int = 300) -> ParsedFile:
    data = resources.files(__package__).joinpath("data/seed-actors.csv").read_bytes()
    parsed = parse_csv(data)
    start = len(parsed.rows) + 2
    taken = [row["name"] for _, row in parsed.rows]
    parsed.rows += [(start + i, row) for i, row in enumerate(generate_actors(generated, DEMO_SEED, taken))]
    return parsed
