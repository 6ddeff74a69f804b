"""Response helpers shared by the blueprints: the contract's JSON error, safe local redirects."""
from urllib.parse import urlsplit

from flask import jsonify


def json_error(message: str, status: int):
    """The contract's error body: ``{"error": "<message in French>"}``."""
    response = jsonify({"error": message})
    response.status_code = status
    return response


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: never send someone to another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
                and "\\" not in target:
            return target
    return None

