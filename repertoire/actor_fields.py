"""THE table of an actor's fields, as the contract names them.

The model's columns stay explicit in ``models.py``; everything else that
lists an actor's fields derives from this table: ``ActorInput`` and
``validate_actor``, the form's fields and ``raw()``, ``actor_input`` and
``_apply``, the bulk insert, ``ActorRecord``, the CSV columns, ``actor_to_dict``,
the OpenAPI schema, the index document's free text, the merge, the moderation
labels and the back office's sort. ``tests/test_actor_fields.py`` checks that
they agree. Adding a scalar field: a model column, a migration, a row here,
the templates that show it, its translation.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from datetime import date
from typing import Callable

from flask_babel import gettext as _, lazy_gettext as _l

# How the search index uses a field (``index``):
#   "name"   name and acronym: the name criterion, boosted in free text
#   "place"  the seat: the place criterion and the town suggestions
#   "itown"  towns of intervention: the intervention criterion
#   "facet"  a filter and a facet (its labels go into the free text)
#   "text"   free text only (generic: ``search.whoosh.schema.to_fields`` adds every such field)
#   None     not indexed
# How a merge treats it (``merge``): "choose" (one side's value), "union" (lists: either or both).


@dataclass(frozen=True)
class Field:
    name: str                    # contract name: JSON key, CSV column, form field, ActorInput attribute
    label: object                # French label (lazy), translated by the catalogue
    type: str = "str"            # "str", "int" (None when empty), "slug" (a taxonomy term), or the
    #                              structured lists "networks" and "partnerships" (partnership_fields.py)
    required: bool = False       # a CSV column every file must have; the form marks it
    multi: bool = False          # a list (";" between values in CSV)
    csv: bool = True             # an interchange column (CSV and JSON import/export)
    column: bool = True          # an Actor column of the same name, copied as is (see operations._apply)
    attr: str | None = None      # the attribute of Actor/ActorRecord holding the value, when not ``name``
    index: str | None = None     # see above
    merge: str = "choose"
    sortable: bool = False       # the back office's list of actors can be sorted by it
    schema: dict = dc_field(default_factory=lambda: {"type": "string"})  # OpenAPI schema of its JSON value
    clean: Callable | None = None  # generic check of a text value: (value, error message or None)

    @property
    def source(self) -> str:
        return self.attr or self.name

    def empty(self):
        """The value of an absent field."""
        return [] if self.multi else None if self.type == "int" else ""

    def to_text(self, value) -> str:
        """The CSV cell."""
        if self.type == "networks":
            from .partnership_fields import networks_to_text
            return networks_to_text(value)
        if self.multi:
            return ";".join(value)
        return "" if value is None else str(value)

    def to_value(self, value):
        """The JSON value of what an Actor or an ActorRecord holds."""
        if self.multi:
            return list(value)
        return self.empty() if value is None else value


def clean_year(value: str):
    """A year of foundation: four digits, from 1800 to this year."""
    value = value.strip()
    if not value:
        return None, None
    if len(value) != 4 or not value.isascii() or not value.isdigit() \
            or not 1800 <= int(value) <= date.today().year:
        return None, _("année de création invalide « %(value)s » (4 chiffres, de 1800 à cette année)",
                       value=value[:20])
    return int(value), None


_LIST = {"type": "array", "items": {"type": "string"}}
_PARTNER = {"type": "object", "required": ["name", "country", "locality", "actor"], "properties": {
    "name": {"type": "string", "maxLength": 200}, "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
    "locality": {"type": "string", "maxLength": 120}, "actor": {"type": "string", "nullable": True}}}
_DATE = {"type": "string", "pattern": r"^(\d{4}(-\d{2}(-\d{2})?)?)?$"}
PARTNERSHIP_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"},
    "kind": {"type": "string", "enum": ["jumelage", "cooperation", "partenariat", "amitie"]},
    "status": {"type": "string", "enum": ["active", "suspendue", "terminee"]},
    "start": _DATE, "end": _DATE, "partners": {"type": "array", "items": _PARTNER, "minItems": 1},
    "domains": _LIST, "description": {"type": "string", "maxLength": 2000}, "source": {"type": "string"}}}

FIELDS: tuple[Field, ...] = (
    Field("name", _l("Nom"), required=True, index="name", sortable=True,
          schema={"type": "string", "minLength": 2, "maxLength": 200}),
    Field("acronym", _l("Sigle"), index="name"),
    Field("kind", _l("Type"), type="slug", required=True, column=False, attr="kind_slug", index="facet"),
    Field("town", _l("Commune"), required=True, index="place", sortable=True),
    Field("postcode", _l("Code postal"), index="place",
          schema={"type": "string", "description": "Code postal (5 chiffres) ou vide."}),
    Field("department", _l("Département"), required=True, index="place",
          schema={"type": "string", "description": "Code INSEE du département."}),
    Field("countries", _l("Pays d'intervention"), multi=True, column=False, index="facet", merge="union",
          schema={"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"}}),
    Field("intervention_towns", _l("Villes d'intervention"), multi=True, column=False, index="itown",
          merge="union", schema=_LIST),
    Field("domains", _l("Domaines"), type="slug", multi=True, column=False, attr="domain_slugs",
          index="facet", merge="union", schema=_LIST),
    Field("activities", _l("Activités"), type="slug", multi=True, column=False, attr="activity_slugs",
          index="facet", merge="union", schema=_LIST),
    Field("description", _l("Présentation"), index="text", schema={"type": "string", "maxLength": 5000}),
    Field("website", _l("Site web")),
    Field("email", _l("Courriel")),
    Field("phone", _l("Téléphone")),
    Field("founded", _l("Année de création"), type="int", sortable=True, clean=clean_year,
          schema={"type": "integer", "nullable": True, "minimum": 1800}),
    Field("networks", _l("Réseaux"), type="networks", multi=True, column=False, attr="network_values",
          merge="union", schema={"type": "array", "items": {"type": "object", "properties": {
              "network": {"type": "string"}, "since": {"type": "integer", "nullable": True}}}}),
    Field("partnerships", _l("Partenariats"), type="partnerships", multi=True, csv=False, column=False,
          attr="partnership_values", merge="union",
          schema={"type": "array", "items": PARTNERSHIP_SCHEMA}),
)

BY_NAME = {f.name: f for f in FIELDS}
CSV_FIELDS = tuple(f for f in FIELDS if f.csv)
CSV_COLUMNS = [f.name for f in CSV_FIELDS]  # the export's column order: the contract's, then ours
REQUIRED_COLUMNS = [f.name for f in CSV_FIELDS if f.required]
MULTI_VALUED = tuple(f.name for f in FIELDS if f.multi)
COLUMN_FIELDS = tuple(f for f in FIELDS if f.column)  # Actor columns copied as is
MERGEABLE = [f.name for f in FIELDS if f.merge]
LIST_FIELDS = tuple(f.name for f in FIELDS if f.merge == "union")
SORTABLE = [f.name for f in FIELDS if f.sortable]
TEXT_INDEXED = tuple(f for f in FIELDS if f.index == "text")
FIELD_LABELS = {f.name: f.label for f in FIELDS}


def values_of(obj) -> dict:
    """Every field's value as the contract gives it, from an ``Actor`` or an ``ActorRecord``."""
    return {f.name: f.to_value(getattr(obj, f.source)) for f in FIELDS}
