"""App-wide error pages: HTML for the site, the contract's JSON body under /api/; NUL bytes refused."""
from flask import current_app, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..search import IndexUnavailable, rebuild_if_broken
from .responses import json_error


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


def init_app(app):
    app.before_request(refuse_nul_bytes)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            messages = {404: _("Ressource introuvable."), 405: _("Méthode non autorisée.")}
            response = json_error(messages.get(exc.code, exc.description), exc.code)
        else:
            template = "errors/404.html" if exc.code == 404 else "errors/error.html"
            response = app.make_response((render_template(template, code=exc.code, description=exc.description),
                                          exc.code))
        for name, value in exc.get_headers():  # Allow on a 405, Retry-After on a 429…
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(IndexUnavailable)
    def index_unavailable(exc):
        rebuild_if_broken(current_app._get_current_object())
        message = _("Index en reconstruction : la recherche revient dans quelques instants.")
        if request.path.startswith("/api/") or request.path.endswith((".csv", ".json")):
            response = json_error(message, 503)
        else:
            response = render_template("errors/error.html", code=503, description=message), 503
            response = app.make_response(response)
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(Exception)
    def server_error(exc):
        app.logger.exception("Erreur interne sur %s", request.path)
        if request.path.startswith("/api/"):
            return json_error(_("Erreur interne du serveur ; réessayez plus tard."), 500)
        try:
            return render_template("errors/error.html", code=500, description=None), 500
        except Exception:  # the error page itself failed: answer in plain text
            return _("Erreur interne du serveur ; réessayez plus tard."), 500
