"""Small helpers shared by the blueprints."""
from urllib.parse import urlsplit

from flask import jsonify, render_template, request
from flask_babel import gettext as _


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


def refuse_nul_bytes():
    """Before each request: no text field (form or query) may hold a NUL byte (PostgreSQL refuses them)."""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                message = _("Caractère nul refusé : retirez-le du champ « %(field)s ».",
                            field=key.replace("\x00", "")[:50])
                if request.path.startswith("/api/"):
                    return json_error(message, 400)
                return render_template("errors/error.html", code=400, message=message), 400
    return None
