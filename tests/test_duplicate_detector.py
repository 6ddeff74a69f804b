"""The one duplicate detector against a varied set of near-duplicates and look-alikes (tests/data/duplicates.csv).

Every existing actor (b side) is in one directory; each entry (a side) goes through validation and the detector
the entry form uses. A near-duplicate counts as found only when its own existing actor is named; a look-alike is a
false alarm when any actor is named.
"""
import csv
from pathlib import Path

from conftest import add_actor
from repertoire.extensions import db
from repertoire.operations import find_duplicates
from repertoire.validation import Vocabulary, validate_actor

CASES = list(csv.DictReader((Path(__file__).parent / "data" / "duplicates.csv").open(encoding="utf-8")))
FIELDS = ("name", "acronym", "town", "postcode", "department", "email", "website", "phone")


def side(row, prefix):
    return {"kind": "association", **{k: row[f"{prefix}_{k}"] for k in FIELDS}}


def run_cases(app):
    ids = {}
    for row in CASES:
        b = side(row, "b")
        key = tuple(sorted(b.items()))
        if key not in ids:
            ids[key] = add_actor(app, **b)
        row["b_id"] = ids[key]
    results = []
    with app.app_context():
        vocab = Vocabulary(db.session)
        for row in CASES:
            data, errors = validate_actor(side(row, "a"), vocab)
            assert not errors, (row["case"], errors)
            named = [actor.id for actor, _ in find_duplicates(db.session, data)]
            results.append((row, named))
    return results


def test_the_fixture_is_varied_and_half_look_alikes():
    kinds = {row["kind"] for row in CASES}
    distinct = sum(row["expected"] == "distinct" for row in CASES)
    assert len(CASES) >= 150 and 0.4 <= distinct / len(CASES) <= 0.6
    assert {"typo", "accents-case", "word-order", "filler", "acronym-only", "name-with-acronym", "punctuation",
            "saint-st", "other-postcode", "email-case", "website", "phone", "unicode-nfd", "twinning",
            "generic-name-two-towns", "town-hall-site"} <= kinds
    assert any(kind.startswith("shared-host") for kind in kinds)


def test_detector_finds_95_percent_of_near_duplicates_with_at_most_5_percent_false_alarms(app):
    results = run_cases(app)
    duplicates = [(row, named) for row, named in results if row["expected"] == "duplicate"]
    distinct = [(row, named) for row, named in results if row["expected"] == "distinct"]
    missed = [(row["case"], row["kind"], row["a_name"]) for row, named in duplicates if row["b_id"] not in named]
    alarms = [(row["case"], row["kind"], row["a_name"]) for row, named in distinct if named]
    recall = 1 - len(missed) / len(duplicates)
    false_alarms = len(alarms) / len(distinct)
    print(f"recall {recall:.1%} ({len(duplicates) - len(missed)}/{len(duplicates)}), "
          f"false alarms {false_alarms:.1%} ({len(alarms)}/{len(distinct)})")
    assert recall >= 0.95, missed
    assert false_alarms <= 0.05, alarms
