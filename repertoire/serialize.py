"""One actor, one dict: the API, the exports and the index documents all start here."""
from .actor_fields import BY_NAME, CSV_COLUMNS, CSV_FIELDS, MULTI_VALUED, values_of  # noqa: F401 (re-exported)
from .models import Actor


def actor_url(slug: str) -> str:
    return f"/acteurs/{slug}"


def actor_to_dict(actor: Actor) -> dict:
    """The contract's representation of an actor (JSON API, JSON export, CSV rows).

    ``actor`` is an ``Actor`` or an ``ActorRecord`` (the same attributes, read in bulk).
    """
    values = values_of(actor)
    values["partnerships"] = [{"id": i, **p} for i, p in zip(actor.partnership_ids, values["partnerships"])]
    return {"id": actor.id, "slug": actor.slug, **values, "url": actor_url(actor.slug),
            "updated_at": actor.updated_at.isoformat(timespec="seconds")}


def csv_row(actor: dict) -> dict:
    """A CSV row (contract §2) from ``actor_to_dict`` output, or a generated actor (absent fields: empty)."""
    return {f.name: f.to_text(actor.get(f.name, f.empty())) for f in CSV_FIELDS}
