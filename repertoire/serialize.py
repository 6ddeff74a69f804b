"""One actor, one dict: the API, the exports and the index documents all start here."""
from .models import Actor

CSV_COLUMNS = ["name", "acronym", "kind", "town", "postcode", "department", "countries",
               "intervention_towns", "domains", "activities", "description", "website",
               "email", "phone"]
MULTI_VALUED = ("countries", "intervention_towns", "domains", "activities")


def actor_url(slug: str) -> str:
    return f"/acteurs/{slug}"


def actor_to_dict(actor: Actor) -> dict:
    """The contract's representation of an actor (JSON API, JSON export, CSV rows).

    ``actor`` is an ``Actor`` or an ``ActorRecord`` (the same attributes, read in bulk).
    """
    return {
        "id": actor.id,
        "slug": actor.slug,
        "name": actor.name,
        "acronym": actor.acronym or "",
        "kind": actor.kind_slug,
        "town": actor.town,
        "postcode": actor.postcode or "",
        "department": actor.department,
        "countries": list(actor.countries),
        "intervention_towns": list(actor.intervention_towns),
        "domains": list(actor.domain_slugs),
        "activities": list(actor.activity_slugs),
        "description": actor.description or "",
        "website": actor.website or "",
        "email": actor.email or "",
        "phone": actor.phone or "",
        "url": actor_url(actor.slug),
        "updated_at": actor.updated_at.isoformat(timespec="seconds"),
    }


def csv_row(actor: dict) -> dict:
    """A CSV row (contract §2) from ``actor_to_dict`` output."""
    return {col: ";".join(actor[col]) if col in MULTI_VALUED else actor[col] for col in CSV_COLUMNS}
