from functools import partial
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

from flask import (Response, abort, current_app, g, flash, redirect, render_template, request, session,
                   stream_with_context, url_for)
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user

from .. import geo, operations
from ..auth import limiter, rate
from ..config import LEGAL_SETTINGS
from ..extensions import db
from ..operations import find_linked, linked_slugs, network_members, partner_of, public_actor
from ..partnership_display import sort_key as partnership_sort_key, years_text
from ..partnership_fields import kind_label, status_label
from ..interchange import iter_csv, iter_json
from ..francemap import france_map
from ..worldmap import legend as world_legend, world_map
from ..search import FACETS, ParamError, SearchParams, parse_search_params, search_actors
from ..search import did_you_mean, export_actor_ids, published_dicts_in_order
from ..serialize import actor_to_dict
from ..i18n import LANGUAGES
from ..validation import Vocabulary
from ..operations.network_labels import network_vocabulary
from ..web import json_error, local_path
from .figures import statistics_charts
from .page_cache import cache_key, cached_page
from . import bp
from .forms import ReportForm

FACET_TITLES = {
    "country": _l("Pays d'intervention"),
    "department": _l("Département du siège"),
    "domain": _l("Domaine d'intervention"),
    "activity": _l("Type d'activité"),
    "kind": _l("Type d'acteur"),
    "partnership": _l("Partenariat actif"),
    "network": _l("Membre du réseau"),
}
TEXT_TITLES = {
    "name": _l("Nom ou sigle"),
    "place": _l("Ville ou département du siège"),
    "intervention": _l("Pays ou ville d'intervention"),
    "q": _l("Recherche libre"),
}
FACET_ORDER = ("domain", "activity", "country", "department", "kind")
SEARCH_FACET_ORDER = FACET_ORDER + ("partnership", "network")
FACET_VISIBLE = 10


def search_url(params: SearchParams | None = None, **changes) -> str:
    """A search's address; inside a network's directory, in that directory (its network filter implied)."""
    pairs = params.args(**changes) if params else []
    return pairs_url(pairs)


def pairs_url(pairs) -> str:
    """A search's address; inside a network's directory, in that directory (its network filter implied)."""
    network = g.get("network_scope")
    if network is None:
        return url_for("public.index") + ("?" + urlencode(pairs) if pairs else "")
    pairs = [pair for pair in pairs if pair != ("network", network.slug)]
    return url_for("public.network_directory", slug=network.slug) + ("?" + urlencode(pairs) if pairs else "")


def export_url(params: SearchParams, endpoint: str = "public.export_csv", external: bool = False) -> str:
    pairs = params.args(page=None, per_page=False)
    return url_for(endpoint, _external=external) + ("?" + urlencode(pairs) if pairs else "")


@bp.app_context_processor
def helpers():
    """Links to searches and exports, for every template (the search lives in this blueprint)."""
    return {"search_url": search_url, "export_url": export_url, "facet_titles": FACET_TITLES,
            "stats_params": lambda name, value: SearchParams(filters={name: [value]})}


@bp.get("/")
def index():
    vocab = Vocabulary(db.session)
    try:
        params = parse_search_params(request.args, vocab.slugs())
    except ParamError as exc:
        return render_template("search.html", error=str(exc), params=SearchParams(), result=None,
                               vocab=vocab, facet_order=FACET_ORDER), 400

    def render():
        result = search_actors(db.session, params, vocab.labels)
        labels = {name: {f["value"]: f["label"] for f in result.facets[name]} for name in ("partnership", "network")}
        active = [(name, value, labels[name][value] if name in labels else _facet_label(name, value, vocab))
                  for name in FACETS for value in params.filters.get(name, [])]
        text_chips = [(TEXT_TITLES[param], value, pairs_url(pairs)) for param, value, pairs in params.text_chips()]
        suggestion = did_you_mean(params) if result.total == 0 else None
        html = render_template("search.html", params=params, result=result, vocab=vocab,
                               active=active, text_chips=text_chips, facet_order=SEARCH_FACET_ORDER,
                               facet_visible=FACET_VISIBLE, params_expanded=request.args.get("voir"),
                               suggestion=suggestion and (search_url(suggestion[0]), " · ".join(suggestion[1])),
                               error=None)
        return html, [actor["id"] for actor in result.results]
    return cached_page(cache_key(vocab), render)


def _facet_label(name, value, vocab):
    if name == "country":
        return geo.country_name(value)
    if name == "department":
        return f"{geo.department_name(value)} ({value})"
    return vocab.labels[name].get(value, value)


@bp.get("/acteurs/<slug>")
def actor_page(slug: str):
    actor, kept = public_actor(db.session, slug=slug)
    if kept is not None:
        return redirect(url_for("public.actor_page", slug=kept.slug), 301)
    if actor is None:
        abort(404)
    back = None
    if request.referrer:
        ref = urlsplit(request.referrer)
        if ref.netloc == request.host and ref.path == "/":
            back = "/" + (f"?{ref.query}" if ref.query else "")
    vocab = Vocabulary(db.session)
    data = actor_to_dict(actor)
    links = relations(actor, data)
    return render_template("actor.html", actor=data, vocab=vocab, back=back, confirmed_at=actor.confirmed_at,
                           jsonld=organization_jsonld(data, vocab, links["networks"]), owner_id=actor.owner_id,
                           **links)


@bp.route("/acteurs/<slug>/signaler", methods=["GET", "POST"])
@limiter.limit(rate("REPORT_RATE_LIMIT"), methods=["POST"])
def report(slug: str):
    """« Signaler une erreur »: anyone may tell the coordinators that a published entry is wrong."""
    actor, kept = public_actor(db.session, slug=slug)
    if kept is not None:
        return redirect(url_for("public.report", slug=kept.slug), 301)
    if actor is None:
        abort(404)
    form = ReportForm()
    if form.validate_on_submit():
        if not form.is_spam():  # a robot is thanked the same way, and nothing is stored
            operations.report_error(db.session, actor, form.message.data, form.email.data or "")
        flash(_("Merci ! Votre signalement a été transmis aux coordinateurs du répertoire."), "success")
        return redirect(url_for("public.actor_page", slug=actor.slug))
    return render_template("report.html", form=form, actor=actor)


# The pages the browser suite runs axe-core on (tests/browser), as the accessibility statement lists them.
AUDITED_PAGES = (
    _l("la recherche : page d'accueil, résultats, aucun résultat, critère invalide"),
    _l("la fiche d'un acteur et son formulaire « Signaler une erreur »"),
    _l("les statistiques et le widget à intégrer"),
    _l("l'inscription, la connexion, le mot de passe oublié ou à changer"),
    _l("« Mon espace », le formulaire d'une fiche (avec et sans erreurs), la revendication, la suppression du compte"),
    _l("toutes les pages de modération"),
    _l("les mentions légales, les données personnelles et cette déclaration"),
    _l("les principales pages en anglais"),
)


def _legal_page(template: str):
    settings = {name.lower(): current_app.config.get(f"REPERTOIRE_LEGAL_{name}", "") for name in LEGAL_SETTINGS}
    return render_template(template, legal=settings, audited_pages=AUDITED_PAGES)


@bp.get("/mentions-legales")
def legal_notice():
    return _legal_page("legal/notice.html")


@bp.get("/confidentialite")
def privacy():
    return _legal_page("legal/privacy.html")


@bp.get("/accessibilite")
def accessibility():
    return _legal_page("legal/accessibility.html")


MEMBERS_SHOWN = 50
bp.add_app_template_global(years_text, "partnership_years")
bp.add_app_template_global(kind_label, "partnership_kind")
bp.add_app_template_global(status_label, "partnership_status")


def relations(actor, data: dict) -> dict:
    """The actor's partnerships (by start), networks, members and the partnerships naming it, for its page."""
    linked = find_linked(db.session, linked_slugs(SimpleNamespace(networks=data["networks"],
                                                                   partnerships=data["partnerships"])))
    members_count, members = network_members(db.session, actor, MEMBERS_SHOWN)
    partner_of_count, naming = partner_of(db.session, actor, MEMBERS_SHOWN)
    return {"partnerships": sorted(data["partnerships"], key=partnership_sort_key), "linked": linked,
            "networks": [(m, linked[m["network"]]) for m in data["networks"] if m["network"] in linked],
            "members": members, "members_count": members_count,
            "partner_of": naming, "partner_of_count": partner_of_count}


def organization_jsonld(actor: dict, vocab, networks=()) -> dict:
    """schema.org Organization, for search engines and partner sites (``networks``: (membership, Actor))."""
    page = url_for("public.actor_page", slug=actor["slug"], _external=True)
    data = {
        "@context": "https://schema.org", "@type": "Organization", "@id": page, "mainEntityOfPage": page,
        "name": actor["name"], "url": actor["website"] or page,
        "address": {"@type": "PostalAddress", "addressLocality": actor["town"],
                    "addressRegion": geo.department_name(actor["department"]), "addressCountry": "FR"},
        "areaServed": [{"@type": "Country", "name": geo.country_name(c)} for c in actor["countries"]]
        + [{"@type": "Place", "name": t} for t in actor["intervention_towns"]],
        "knowsAbout": [vocab.labels["domain"].get(d, d) for d in actor["domains"]],
    }
    optional = {"alternateName": actor["acronym"], "description": actor["description"],
                "email": actor["email"], "telephone": actor["phone"]}
    data.update({k: v for k, v in optional.items() if v})
    places = {(p["locality"] or p["name"], p["country"]) for item in actor["partnerships"] for p in item["partners"]}
    countries = set(actor["countries"])
    data["areaServed"] += [{"@type": "Country", "name": geo.country_name(code)}
                           for code in sorted({c for _n, c in places} - countries)]
    data["areaServed"] += [{"@type": "Place", "name": name, "address": {"@type": "PostalAddress",
                                                                       "addressCountry": code}}
                           for name, code in sorted(places)]
    if networks:
        data["memberOf"] = [{"@type": "Organization", "name": network.name,
                             "url": url_for("public.actor_page", slug=network.slug, _external=True)}
                            for _membership, network in networks]
    if actor["founded"]:
        data["foundingDate"] = str(actor["founded"])
    if actor["postcode"]:
        data["address"]["postalCode"] = actor["postcode"]
    return data


def _export(extension: str, chunks, mimetype: str):
    vocab = Vocabulary(db.session)
    try:
        params = parse_search_params(request.args, vocab.slugs())
    except ParamError as exc:
        return json_error(str(exc), 400)
    actors = published_dicts_in_order(db.session, export_actor_ids(params))
    return Response(stream_with_context(chunks(actors)), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="repertoire-acteurs.{extension}"'})


@bp.get("/export.csv")
def export_csv():
    """The contract's CSV; ``format=excel``: the spreadsheet-safe variant (see README)."""
    variant = request.args.get("format", "")
    if variant not in ("", "excel"):
        return json_error(_("Format inconnu : « %(value)s » (valeur possible : excel).", value=variant[:50]), 400)
    if variant == "excel":
        return _export("csv", partial(iter_csv, excel=True), "text/csv; charset=utf-8")
    return _export("csv", iter_csv, "text/csv; charset=utf-8")


@bp.get("/export.json")
def export_json():
    return _export("json", iter_json, "application/json")


@bp.get("/langue/<lang>")
def choose_language(lang: str):
    """The language switcher: remembered in the session, and on the account for its mails.

    A plain link (no form, no CSRF token): choosing a language is harmless, and
    public pages then hold nothing personal, so they can be cached.
    """
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang
    return redirect(local_path(request.args.get("next")) or url_for("public.index"), 303)


@bp.get("/statistiques")
def statistics():
    return statistics_page(SearchParams(per_page=1))


def statistics_page(params: SearchParams, network=None):
    """The statistics of a search (everything, or a network's members), each figure a link to its search."""
    vocab = network_vocabulary(db.session, network) if network is not None else Vocabulary(db.session)
    result = search_actors(db.session, params, vocab.labels, facets=FACET_ORDER)

    def link(name, code):
        return search_url(SearchParams(filters={name: [code]}))
    countries = {f["value"]: f["count"] for f in result.facets["country"]}
    world = world_map(countries, lambda code: link("country", code),
                      lambda code, n: (ngettext("%(country)s : %(num)s acteur", "%(country)s : %(num)s acteurs", n,
                                                country=geo.country_name(code))
                                       if code else _("Carte des pays d'intervention")))
    departments = {f["value"]: f["count"] for f in result.facets["department"]}
    france = france_map(departments, lambda code: link("department", code),
                        lambda code, n: (ngettext("%(department)s (%(code)s) : %(num)s acteur",
                                                  "%(department)s (%(code)s) : %(num)s acteurs", n,
                                                  department=geo.department_name(code), code=code)
                                         if code else _("Carte des acteurs par département du siège")),
                        legend_title=_("Acteurs"))
    figures, charts = statistics_charts(db.session) if network is None else (None, None)
    return render_template("statistics.html", result=result, world=world, france=france, facet_order=FACET_ORDER,
                           legend=world_legend(), partnerships=figures, charts=charts, network=network)


@bp.get("/embed")
def embed():
    vocab = Vocabulary(db.session)
    try:
        params = parse_search_params(request.args, vocab.slugs())
    except ParamError as exc:
        return render_template("embed.html", error=str(exc), params=SearchParams(), result=None, vocab=vocab), 400
    result = search_actors(db.session, params, vocab.labels, facets=())  # the widget shows none
    return render_template("embed.html", params=params, result=result, vocab=vocab, error=None)

