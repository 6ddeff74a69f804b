from flask import current_app, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from ..operations import public_actor
from ..extensions import db
from ..search.params import network_slugs
from ..search import (FACETS, PARTNERSHIP_FACETS, SUGGEST_FIELDS, ParamError, parse_partnership_params,
                      parse_search_params, search_actors, search_partnerships, suggest)
from ..serialize import actor_to_dict
from ..validation import Vocabulary
from ..web import json_error
from . import bp
from .openapi import SUGGEST_MAX_TEXT, openapi_document


@bp.get("/actors")
def list_actors():
    vocab = Vocabulary(db.session)
    try:
        params = parse_search_params(request.args, vocab.slugs())
    except ParamError as exc:
        return json_error(str(exc), 400)
    result = search_actors(db.session, params, vocab.labels)
    return _paged(result, params, FACETS)


def _paged(result, params, facets):
    """The contract's answer to a search (§4, §5): the page, its results and the facets' values.

    The facets of an actors search kept in the per-process cache (``search.FacetCache``) keep their JSON
    there too: at 1,000,000 actors they are ~3 MB (every network with a member among the results), the
    same for every page of a search.
    """
    page = {"total": result.total, "page": params.page, "per_page": params.per_page, "pages": result.pages,
            "results": result.results}
    kept = getattr(result, "kept", None)
    provider = current_app.json
    if kept is None or provider.compact is False or (provider.compact is None and current_app.debug):
        return jsonify({**page, "facets": _facets(result, facets)})
    text = kept.get("api")
    if text is None:
        text = kept["api"] = provider.dumps(_facets(result, facets), separators=(",", ":"))
    head = provider.dumps(page, separators=(",", ":"))
    return current_app.response_class(f'{head[:-1]},"facets":{text}}}\n', mimetype=provider.mimetype)


def _facets(result, facets) -> dict:
    return {name: [{"value": f["value"], "label": f["label"], "count": f["count"]} for f in result.facets[name]]
            for name in facets}


@bp.get("/partnerships")
def list_partnerships():
    try:
        params = parse_partnership_params(request.args)
    except ParamError as exc:
        return json_error(str(exc), exc.status)
    result = search_partnerships(db.session, params)
    return _paged(result, params, PARTNERSHIP_FACETS)


@bp.get("/actors/<int(max=2147483647):actor_id>")
def get_actor(actor_id: int):
    actor, kept = public_actor(db.session, actor_id=actor_id)
    if kept is not None:
        return redirect(url_for("api.get_actor", actor_id=kept.id), 301)
    if actor is None:
        return json_error(_("Acteur introuvable."), 404)
    return jsonify(actor_to_dict(actor))


@bp.get("/openapi.json")
def openapi():
    slugs = {**Vocabulary(db.session).slugs(), "network": network_slugs(db.session)}
    return jsonify(openapi_document(request.host_url.rstrip("/"), slugs))


@bp.get("/suggest")
def suggest_values():
    """What to propose while someone types a name (``field=name``) or a head-office town (``field=town``)."""
    field = request.args.get("field", "")
    if field not in SUGGEST_FIELDS:
        return json_error(_("Paramètre « field » invalide : « name » ou « town » attendu."), 400)
    limit = request.args.get("limit", "8")
    if not (limit.isdigit() and 1 <= int(limit) <= 20):
        return json_error(_("Paramètre « limit » invalide : un nombre entre 1 et 20 est attendu."), 400)
    text = request.args.get("q", "")
    if len(text) > SUGGEST_MAX_TEXT:
        return json_error(_("Le texte du paramètre q est trop long (%(n)d caractères, %(max)d au plus).",
                            n=len(text), max=SUGGEST_MAX_TEXT), 400)
    return jsonify({"field": field, "q": text, "suggestions": suggest(db.session, field, text, int(limit))})
