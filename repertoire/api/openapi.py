"""The OpenAPI 3 description of the JSON API."""
from .. import geo
from ..actor_fields import FIELDS
from ..actor_fields import PARTNERSHIP_SCHEMA
from ..partnership_fields import KINDS, STATUSES
from ..search.params import DEFAULT_PER_PAGE, FIRST_YEAR, LAST_YEAR, MAX_PER_PAGE, MAX_TEXT, SORTS

SUGGEST_MAX_TEXT = 100
NO_NUL = "^[^\\u0000]*$"  # text parameters holding a NUL byte are refused with a 400 (web/errors.py)


def _text(name, description):
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string", "maxLength": MAX_TEXT, "pattern": NO_NUL}}


PAGING = (
    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE}},
)


def _paged_response(item: str, facets) -> dict:
    """A search's answer (contract §4, §5): one page of ``item`` and the facets' values."""
    return {"description": "Résultats et facettes.", "content": {"application/json": {"schema": {
        "type": "object",
        "required": ["total", "page", "per_page", "pages", "results", "facets"],
        "properties": {
            "total": {"type": "integer"}, "page": {"type": "integer"},
            "per_page": {"type": "integer"}, "pages": {"type": "integer"},
            "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "facets": {"type": "object", "properties": {
                name: {"$ref": "#/components/schemas/Facet"} for name in facets}},
        }}}}}


def _filter(name, description, enum=None):
    item = {"type": "string", "pattern": NO_NUL}
    if enum is not None:
        item["enum"] = [""] + enum  # an empty value is ignored
        description += " Une valeur vide est ignorée."
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "array", "items": item}, "style": "form", "explode": True,
            "allowEmptyValue": True}  # « country= » (an empty form field) is ignored, as a value or as the list


ACTOR_SCHEMA = {
    "type": "object",
    "required": ["id", "slug", *(f.name for f in FIELDS), "url", "updated_at"],
    "properties": {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        **{f.name: f.schema for f in FIELDS},
        "url": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
FACET_SCHEMA = {
    "type": "array",
    "items": {"type": "object", "required": ["value", "label", "count"],
              "properties": {"value": {"type": "string"}, "label": {"type": "string"},
                             "count": {"type": "integer", "minimum": 0}}},
}
PARTNERSHIP_HIT_SCHEMA = {
    "type": "object",
    "required": ["id", "actor", "kind", "status", "start", "end", "partners", "domains", "description", "source",
                 "holder"],
    "properties": {
        **PARTNERSHIP_SCHEMA["properties"],
        "actor": {"type": "string", "description": "Slug de l'acteur porteur."},
        "partners": {"type": "array", "items": {**PARTNERSHIP_SCHEMA["properties"]["partners"]["items"], "properties": {
            **PARTNERSHIP_SCHEMA["properties"]["partners"]["items"]["properties"],
            "url": {"type": "string", "nullable": True, "description": "Page du partenaire s'il est publié."}}}},
        "holder": {"type": "object", "required": ["name", "town", "department", "url"], "properties": {
            "name": {"type": "string"}, "town": {"type": "string"}, "department": {"type": "string"},
            "url": {"type": "string"}}},
    },
}
ERROR_SCHEMA = {"type": "object", "required": ["error"],
                "properties": {"error": {"type": "string", "description": "Message en français."}}}


def openapi_document(server_url: str, slugs: dict[str, set[str]]) -> dict:
    """The description; ``slugs`` are the taxonomy values accepted now (coordinators may add some)."""
    error = {"description": "Paramètre invalide.",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Répertoire — API publique", "version": "1.0.0",
                 "description": "Recherche dans l'annuaire des acteurs de la solidarité "
                                "internationale et de la coopération décentralisée. Seuls les "
                                "acteurs publiés sont visibles."},
        "servers": [{"url": server_url}],
        "paths": {
            "/api/actors": {"get": {
                "summary": "Rechercher des acteurs",
                "description": "Les valeurs répétées d'un filtre se combinent en OU ; filtres et "
                               "textes différents se combinent en ET. Les facettes sont "
                               "disjonctives.",
                "parameters": [
                    _text("q", "Texte libre sur tous les champs (sans accents ni casse, "
                               "singulier et pluriel confondus)."),
                    _text("name", "Nom ou sigle (aussi les débuts de mots)."),
                    _text("place", "Commune, code postal, code ou nom du département, ou région (actuelle ou "
                          "d'avant 2016) du siège ; le début d'un nom suffit ; plusieurs valeurs "
                          "séparées par des virgules (20 au plus) : l'une ou l'autre."),
                    _text("intervention", "Pays (nom ou code) ou ville d'intervention ; le début d'un nom "
                          "suffit ; plusieurs valeurs séparées par des virgules (20 au plus) : "
                          "l'une ou l'autre."),
                    _filter("country", "Pays d'intervention, code ISO alpha-2.", sorted(geo.countries())),
                    _filter("department", "Département du siège, code INSEE.", list(geo.departments())),
                    _filter("domain", "Domaine d'intervention (slug).", sorted(slugs["domain"])),
                    _filter("activity", "Type d'activité (slug).", sorted(slugs["activity"])),
                    _filter("kind", "Type d'acteur (slug).", sorted(slugs["kind"])),
                    _filter("partnership", "Type de partenariat (slug) : acteurs ayant au moins un partenariat "
                                           "actif de ce type.", list(KINDS)),
                    _filter("network", "Réseau (slug d'un acteur publié) : ses membres. Un réseau inconnu "
                                       "donne une erreur 400.", slugs.get("network", [])),
                    {"name": "sort", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["", *SORTS]}},
                    *PAGING,
                ],
                "responses": {
                    "200": _paged_response("Actor", ("country", "department", "domain", "activity", "kind",
                                             "partnership", "network")),
                    "400": error,
                },
            }},
            "/api/partnerships": {"get": {
                "summary": "Rechercher des partenariats (jumelages, coopérations, partenariats)",
                "description": "Seuls les partenariats des acteurs publiés. Les valeurs répétées d'un filtre "
                               "se combinent en OU ; paramètres différents en ET. Les facettes sont "
                               "disjonctives. Tri : année de début (inconnue en dernier), puis nom du porteur.",
                "parameters": [
                    _text("q", "Texte libre : partenaires, lieux, pays, description, nom du porteur."),
                    _filter("kind", "Type de partenariat (slug).", list(KINDS)),
                    _filter("status", "Statut (slug).", list(STATUSES)),
                    _filter("country", "Pays d'un partenaire, code ISO alpha-2.", sorted(geo.countries())),
                    _filter("department", "Département du siège du porteur, code INSEE.",
                            list(geo.departments())),
                    {**_filter("decade", "Décennie de début (1960, 1970…)."),
                     "schema": {"type": "array", "items": {"type": "string", "pattern": "^(|[0-9]{3}0)$"}}},
                    {"name": "actor", "in": "query", "required": False,
                     "description": "Slug de l'acteur porteur (publié) ; un acteur inconnu donne une erreur 404.",
                     "schema": {"type": "string", "maxLength": 100, "pattern": NO_NUL}},
                    *({"name": name, "in": "query", "required": False, "description": description,
                       "allowEmptyValue": True,  # « since= » (an empty form field) is ignored
                       "schema": {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR}}
                      for name, description in (("since", "Commencé cette année ou après."),
                                                ("until", "Commencé cette année ou avant."))),
                    *PAGING,
                ],
                "responses": {
                    "200": _paged_response("PartnershipHit", ("kind", "status", "country", "department", "decade")),
                    "400": error,
                    "404": {"description": "Acteur porteur (actor) inconnu.", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }},
            "/api/actors/{id}": {"get": {
                "summary": "Un acteur publié",
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}}],
                "responses": {
                    "200": {"description": "L'acteur.", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Actor"}}}},
                    "404": {"description": "Absent ou non publié.", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }},
            "/api/suggest": {"get": {
                "summary": "Suggestions pendant la saisie",
                "description": "Noms d'acteurs publiés (field=name) ou villes et départements de siège "
                               "(field=town) qui commencent comme le texte donné (2 caractères au moins).",
                "parameters": [
                    {"name": "field", "in": "query", "required": True,
                     "schema": {"type": "string", "enum": ["name", "town"]}},
                    {"name": "q", "in": "query", "required": False, "description": "Début du nom ou de la ville.",
                     "schema": {"type": "string", "maxLength": SUGGEST_MAX_TEXT, "pattern": NO_NUL}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 8}},
                ],
                "responses": {
                    "200": {"description": "Suggestions, les plus fréquentes d'abord.", "content": {
                        "application/json": {"schema": {
                            "type": "object", "required": ["field", "q", "suggestions"],
                            "properties": {
                                "field": {"type": "string"}, "q": {"type": "string"},
                                "suggestions": {"type": "array", "items": {
                                    "type": "object", "required": ["value"],
                                    "properties": {"value": {"type": "string"}, "acronym": {"type": "string"},
                                                   "url": {"type": "string"}, "count": {"type": "integer"}}}},
                            }}}}},
                    "400": error,
                },
            }},
            "/api/openapi.json": {"get": {"summary": "Cette description",
                                          "responses": {"200": {"description": "OpenAPI 3."}}}},
        },
        "components": {"schemas": {"Actor": ACTOR_SCHEMA, "Facet": FACET_SCHEMA, "Error": ERROR_SCHEMA,
                                   "PartnershipHit": PARTNERSHIP_HIT_SCHEMA}},
    }
