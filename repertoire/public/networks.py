"""Each network's own directory: the search restricted to its members, its statistics, its exports."""
from flask import abort, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ..extensions import db
from ..models import Actor
from ..operations import public_actor
from ..operations.network_labels import network_vocabulary
from ..search import ParamError, SearchParams, parse_search_params, search_actors
from ..validation import Vocabulary
from .page_cache import cache_key, cached_page
from .views import FACET_ORDER, FACET_VISIBLE, SEARCH_FACET_ORDER, statistics_page
from . import bp

NETWORKS_PER_PAGE = 50


def _network_or_404(slug: str):
    network, kept = public_actor(db.session, slug=slug)
    if kept is not None:
        return None, redirect(url_for(request.endpoint, slug=kept.slug, **request.args), 301)
    if network is None:
        abort(404)
    return network, None


def _scoped(params: SearchParams, network) -> SearchParams:
    params.filters = {**params.filters, "network": [network.slug]}
    g.network_scope = network  # search_url() links stay inside this network's directory
    return params


@bp.get("/reseaux/")
def networks():
    """Every network with published members, largest first (the counts are the search's own facet).

    Kept in the page cache like a search page (the facet counts the whole directory: 270 ms of CPU at
    100,000 actors, bench/RESULTS.md turn 4), with the networks it shows as the entries re-checked."""
    vocab = Vocabulary(db.session)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and len(page) < 7 and int(page) > 0 else 1

    def render():
        result = search_actors(db.session, SearchParams(per_page=1), vocab.labels, facets=("network",))
        entries = result.facets["network"]
        pages = max(1, -(-len(entries) // NETWORKS_PER_PAGE))
        shown = entries[(page - 1) * NETWORKS_PER_PAGE:page * NETWORKS_PER_PAGE]
        # The facet's names are kept per index version: the networks shown are read afresh (one withdrawn
        # behind the application's back is not shown), and their ids kept to check the page at each serve.
        published = {slug: actor_id for actor_id, slug, status in db.session.execute(
            select(Actor.id, Actor.slug, Actor.status).where(Actor.slug.in_([e["value"] for e in shown])))
            if status == "published"}
        shown = [entry for entry in shown if entry["value"] in published]
        return render_template("networks.html", entries=shown, total=len(entries), page=page, pages=pages), \
            list(published.values())
    return cached_page(cache_key(vocab), render)


@bp.get("/reseaux/<slug>/")
def network_directory(slug: str):
    network, moved = _network_or_404(slug)
    if moved:
        return moved
    vocab = network_vocabulary(db.session, network)  # its own labels, if it gave some
    try:
        params = _scoped(parse_search_params(request.args, vocab.slugs()), network)
    except ParamError as exc:
        g.network_scope = network
        return render_template("search.html", error=str(exc), params=SearchParams(), result=None, vocab=vocab,
                               facet_order=FACET_ORDER, network=network), 400

    facet_order = [n for n in SEARCH_FACET_ORDER if n != "network"]  # its own members: no network facet

    def render():
        result = search_actors(db.session, params, vocab.labels, facets=facet_order)
        html = render_template("search.html", params=params, result=result, vocab=vocab, active=[],
                               facet_order=facet_order,
                               facet_visible=FACET_VISIBLE, params_expanded=request.args.get("voir"),
                               error=None, network=network)
        return html, [actor["id"] for actor in result.results]
    return cached_page(cache_key(vocab), render)


@bp.get("/reseaux/<slug>/statistiques")
def network_statistics(slug: str):
    network, moved = _network_or_404(slug)
    if moved:
        return moved
    return statistics_page(_scoped(SearchParams(per_page=1), network), network=network)
