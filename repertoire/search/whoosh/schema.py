"""The Whoosh schema, and the mapping of an engine-neutral document onto its fields."""
from __future__ import annotations

import json

from whoosh import columns
from whoosh.fields import COLUMN, ID, KEYWORD, TEXT, Schema

from ... import geo
from ...actor_fields import TEXT_INDEXED
from ...partnership_fields import kind_label, year_of
from ...text import fold_words
from .analysis import folding_analyzer, french_analyzer

INDEX_FORMAT = "7"  # bump when analysis or schema change: `repertoire init` then rebuilds the index


class TextColumn(COLUMN):
    """A column of text (UTF-8), for sort keys."""

    def __init__(self):
        super().__init__(columns.VarBytesColumn())

    def to_column_value(self, value):
        return value.encode("utf-8")

    def from_column_value(self, value):
        return value.decode("utf-8")


_FRENCH = french_analyzer()


def make_schema() -> Schema:
    french, folding = french_analyzer(), folding_analyzer()
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        name=TEXT(analyzer=french, phrase=True),
        name_words=TEXT(analyzer=folding, phrase=False),
        name_key=KEYWORD(commas=True, lowercase=False),  # the whole name and the acronym, folded
        text=TEXT(analyzer=french, phrase=True),
        place=TEXT(analyzer=folding, phrase=True),
        place_key=KEYWORD(commas=True, lowercase=False, scorable=True),
        itowns=TEXT(analyzer=folding, phrase=True),
        itown_key=KEYWORD(commas=True, lowercase=False, scorable=True),
        itown_suggest=KEYWORD(commas=True, lowercase=False),  # "folded|Display" for spelling suggestions
        country=KEYWORD(lowercase=False, scorable=True),
        department=KEYWORD(lowercase=False, scorable=True),
        domain=KEYWORD(lowercase=False, scorable=True),
        activity=KEYWORD(lowercase=False, scorable=True),
        kind=KEYWORD(lowercase=False, scorable=True),
        partnership=KEYWORD(lowercase=False, scorable=True),  # kinds of the active partnerships
        network=KEYWORD(lowercase=False, scorable=True),  # slugs of the networks it is a member of
        pcountry=KEYWORD(lowercase=False, scorable=True),  # its partners' countries (the intervention criterion)
        town_suggest=KEYWORD(commas=True, lowercase=False),  # "folded|Display" for suggestions
        name_sort=TextColumn(),  # columns only: sorted on, never searched
        updated=COLUMN(columns.NumericColumn("q")),
        partnerships=TextColumn(),  # JSON (``partnership_rows``): what the partnerships search reads
    )


def partnership_rows(actor: dict, analyzer) -> str | None:
    """The document's partnerships as the partnerships search reads them (JSON), None if it has none.

    Each: [id, kind, status, start year or null, [partners' countries], "terms of its free text"];
    the free text is its partners, their places, its description and the holder's name, town and acronym.
    """
    if not actor["partnerships"]:
        return None
    rows = []
    for p in actor["partnerships"]:
        countries = sorted({partner["country"] for partner in p["partners"]})
        words = [actor["name"], actor["acronym"], actor["town"], kind_label(p["kind"]), p["description"]]
        for partner in p["partners"]:
            words += [partner["name"], partner["locality"], geo.french_country_name(partner["country"]),
                      geo.english_country_name(partner["country"])]
        terms = sorted({t.text for t in analyzer("\n".join(w for w in words if w))})
        rows.append([p["id"], p["kind"], p["status"], year_of(p["start"]), countries, " ".join(terms)])
    return json.dumps({"slug": actor["slug"], "department": actor["department"], "rows": rows},
                      ensure_ascii=False, separators=(",", ":"))


def to_fields(actor: dict) -> dict:
    """The Whoosh fields of one document (``search.documents.index_document``: ``actor_to_dict`` output
    plus ``name_sort``, ``updated_ts`` and ``labels``)."""
    labels = actor["labels"]
    dept_name = geo.department_name(actor["department"])
    country_names = []
    for code in actor["countries"]:
        country_names.append(geo.french_country_name(code))
        country_names.append(geo.english_country_name(code))
    kind_label = labels["kind"].get(actor["kind"], actor["kind"])
    domain_labels = [labels["domain"].get(s, s) for s in actor["domains"]]
    activity_labels = [labels["activity"].get(s, s) for s in actor["activities"]]
    name_and_acronym = f"{actor['name']}\n{actor['acronym']}"
    text = "\n".join([name_and_acronym, kind_label, actor["town"], actor["postcode"],
                      dept_name, *country_names, *actor["intervention_towns"],
                      *domain_labels, *activity_labels, *(f.to_text(actor[f.name]) for f in TEXT_INDEXED)])
    partners = [partner for p in actor["partnerships"] for partner in p["partners"]]
    itowns = actor["intervention_towns"] + [p["locality"] for p in partners if p["locality"]]
    text += "\n" + "\n".join(p["name"] for p in partners)
    place_values = [actor["town"], actor["postcode"], actor["department"], dept_name]
    return {
        "id": str(actor["id"]),
        "name": name_and_acronym,
        "name_words": name_and_acronym,
        "name_key": ",".join(k for k in map(fold_words, (actor["name"], actor["acronym"])) if k),
        "text": text,
        "place": "\n".join(place_values),
        "place_key": ",".join(k for k in map(fold_words, place_values) if k),
        "itowns": "\n".join(itowns),
        "itown_key": ",".join(k for k in map(fold_words, itowns) if k),
        "itown_suggest": ",".join(f"{fold_words(value)}|{value.replace(',', ' ')}"
                                  for value in itowns if fold_words(value)),
        "country": " ".join(actor["countries"]),
        "department": actor["department"],
        "domain": " ".join(actor["domains"]),
        "activity": " ".join(actor["activities"]),
        "kind": actor["kind"],
        "partnership": " ".join(sorted({p["kind"] for p in actor["partnerships"] if p["status"] == "active"})),
        "network": " ".join(n["network"] for n in actor["networks"]),
        "pcountry": " ".join(sorted({p["country"] for p in partners})),
        "partnerships": partnership_rows(actor, _FRENCH),
        "town_suggest": ",".join(f"{fold_words(value)}|{value.replace(',', ' ')}"
                                 for value in (actor["town"], dept_name) if fold_words(value)),
        "name_sort": actor["name_sort"],
        "updated": int(actor["updated_ts"] * 1_000_000),
    }
