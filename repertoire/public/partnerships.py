"""The partnerships search page: the same parameters as ``GET /api/partnerships``, facets, paging, no JavaScript."""
from functools import cache
from urllib.parse import urlencode

from flask import render_template, request, url_for
from flask_babel import lazy_gettext as _l

from .. import geo
from ..extensions import db
from ..partnership_fields import kind_label, status_label
from ..search import PARTNERSHIP_FACETS, ParamError, PartnershipParams, parse_partnership_params, search_partnerships
from . import bp
from .page_cache import cache_key, cached_page

PARTNERSHIP_FACET_TITLES = {
    "kind": _l("Type de partenariat"),
    "status": _l("Statut"),
    "country": _l("Pays du partenaire"),
    "department": _l("Département du porteur"),
    "decade": _l("Décennie de début"),
}
FACET_VISIBLE = 10


def partnerships_url(params: PartnershipParams | None = None, **changes) -> str:
    pairs = params.args(**changes) if params else []
    return url_for("public.partnerships") + ("?" + urlencode(pairs) if pairs else "")


@bp.get("/partenariats")
def partnerships():
    try:
        params = parse_partnership_params(request.args)
    except ParamError as exc:
        return render_template("partnerships.html", error=str(exc), params=PartnershipParams(), result=None,
                               titles=PARTNERSHIP_FACET_TITLES, facet_order=PARTNERSHIP_FACETS,
                               partnerships_url=partnerships_url, active=[]), exc.status

    def render():
        result = search_partnerships(db.session, params)
        labels = {name: {f["value"]: f["label"] for f in entries} for name, entries in result.facets.items()}
        active = [(name, value, labels[name].get(value, value) + (f" ({value})" if name == "department" else ""))
                  for name in PARTNERSHIP_FACETS for value in params.filters.get(name, [])]
        html = render_template("partnerships.html", params=params, result=result, error=None,
                               titles=PARTNERSHIP_FACET_TITLES, facet_order=PARTNERSHIP_FACETS, active=active,
                               facet_visible=FACET_VISIBLE, expanded=request.args.get("voir"),
                               partnerships_url=partnerships_url, country_name=cache(geo.country_name),
                               kind_label=cache(kind_label), status_label=cache(status_label),
                               department_name=cache(geo.department_name))  # one request, one language
        return html, result.shown_actor_ids
    # anonymous visitors: the rendered page, kept while the index and what it shows stay the same
    return cached_page(cache_key(), render)
