"""Partnerships on maps and in charts: the statistics page's figures and an actor's map of its partners.

Figures are counted from the search index's partnerships (``operations.indexed_partnership_figures``: the
partnerships search's facets and a département × country table, once per index snapshot) and drawn (~45 ms);
both are kept per process for as long as the index version says no actor changed, so that a change made
through the application shows at once; while a change waits for the index they are counted in SQL
(``operations.partnership_figures``: two GROUP BY over every partnership of a published actor, ~100 ms at
30,000, 10× that at 1,000,000 actors) on each request.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, url_for
from flask_babel import gettext as _, ngettext
from markupsafe import Markup
from sqlalchemy import select

from .. import geo
from ..charts import Flow, Place, arcs_map, bar_chart, flows_map
from ..extensions import db
from ..i18n import current_language
from ..models import Actor
from ..operations import PartnershipFigures, indexed_partnership_figures, partnership_figures
from ..partnership_fields import KINDS
from ..search import results_version
from ..text import sort_key
from . import bp

TOP_COUNTRIES = 15  # bars; the other countries make one more bar
CACHE = "repertoire.partnership_figures"


def partnerships_url(**params) -> str:
    """The partnerships search page (contract §5 parameters) for these filters."""
    return "/partenariats?" + urlencode(params)


def statistics_charts(session) -> tuple[PartnershipFigures, dict[str, Markup] | None]:
    """The figures and their charts (None without partnerships), made once per index version (and the
    charts once per language) in each process; afresh on each request while a change waits for the index."""
    version = results_version(session)
    kept = current_app.extensions.get(CACHE)
    if version is None or kept is None or kept["version"] != version:
        figures = partnership_figures(session) if version is None else indexed_partnership_figures()
        kept = {"version": version, "figures": figures, "charts": {}}
        if version is not None:
            current_app.extensions[CACHE] = kept  # one assignment: readers see the old entry or the new one
    figures, language = kept["figures"], current_language()
    if language not in kept["charts"]:
        kept["charts"][language] = partnership_charts(figures) if figures.total else None
    return figures, kept["charts"][language]


def partnership_charts(figures: PartnershipFigures) -> dict[str, Markup]:
    """The statistics page's map of flows and its three bar charts, each with its table."""
    flows = [Flow(department, country, count, partnerships_url(department=department, country=country))
             for department, country, count in figures.flows]
    flows_title = _("Partenariats des acteurs, du département du siège au pays du partenaire")
    countries = sorted(figures.by_country.items(), key=lambda item: (-item[1], sort_key(geo.country_name(item[0]))))
    rows = [(geo.country_name(code), count, partnerships_url(country=code))
            for code, count in countries[:TOP_COUNTRIES]]
    others = countries[TOP_COUNTRIES:]
    if others:
        rows.append((ngettext("%(num)s autre pays", "%(num)s autres pays", len(others)),
                     sum(count for _code, count in others), None))
    kinds = [(str(label), figures.by_kind.get(slug, 0), partnerships_url(kind=slug)) for slug, label in KINDS.items()]
    decades = sorted(key for key in figures.by_decade if key is not None)
    by_decade = [(_("Années %(decade)s", decade=start), figures.by_decade.get(start, 0),
                  partnerships_url(since=start, until=start + 9))
                 for start in range(decades[0], decades[-1] + 10, 10)] if decades else []
    if figures.by_decade.get(None):
        by_decade.append((_("Début inconnu"), figures.by_decade[None], None))
    column = _("Partenariats")
    return {
        "flows": flows_map(flows, flows_title, chart_id="partnership-flows"),
        "country": bar_chart(_("Partenariats par pays du partenaire"), rows, column, chart_id="by-country",
                             heading=_("Pays du partenaire")),
        "kind": bar_chart(_("Partenariats par type"), kinds, column, chart_id="by-kind", heading=_("Type")),
        "decade": bar_chart(_("Partenariats par décennie de début"), by_decade, column, chart_id="by-decade",
                            heading=_("Décennie de début")),
    }


@bp.app_template_global()
def partnerships_map(actor: dict) -> Markup | None:
    """The map of ``actor``'s partners (``actor_to_dict`` output), or None when it has no partnership.

    A partner met in several partnerships is drawn once; a partner that is a published actor of the
    directory links to its page.
    """
    places, seen = [], set()
    for partnership in actor.get("partnerships") or ():
        for partner in partnership["partners"]:
            key = (partner["name"], partner["country"], partner["locality"], partner["actor"])
            if key not in seen:
                seen.add(key)
                places.append(partner)
    if not places:
        return None
    slugs = {p["actor"] for p in places if p["actor"]}
    # By the slugs' unique index, the status checked here (with it, SQLite walks every published actor).
    published = {slug for slug, status in db.session.execute(select(Actor.slug, Actor.status)
                                                             .where(Actor.slug.in_(slugs)))
                 if status == "published"} if slugs else set()
    return arcs_map(actor["department"], [
        Place(p["name"], p["country"], p["locality"],
              url_for("public.actor_page", slug=p["actor"]) if p["actor"] in published else None)
        for p in places], chart_id="partners-map")

