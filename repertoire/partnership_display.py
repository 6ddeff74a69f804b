"""Partnerships and memberships as people read them: years, one line each, and the lines of a diff."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l

from . import geo
from .partnership_fields import kind_label, status_label, year_of

CHANGED_LABELS = {"kind": _l("type"), "status": _l("statut"), "start": _l("début"), "end": _l("fin"),
                  "partners": _l("partenaires"), "domains": _l("domaines"), "description": _l("description"),
                  "source": _l("source")}


def years_text(start: str, end: str) -> str:
    """« depuis 1962 », « 1989–2001 », « jusqu'en 2001 » or nothing."""
    first, last = year_of(start or ""), year_of(end or "")
    if first and last:
        return f"{first}–{last}" if first != last else str(first)
    if first:
        return _("depuis %(year)d", year=first)
    if last:
        return _("jusqu'en %(year)d", year=last)
    return ""


def sort_key(partnership: dict):
    """By start, unknown starts last, then as entered."""
    return (not partnership.get("start"), partnership.get("start") or "")


def partner_text(partner: dict) -> str:
    place = ", ".join(v for v in (partner.get("locality") if partner.get("locality") != partner.get("name")
                                  else "", geo.country_name(partner["country"]) if partner.get("country") else "")
                      if v)
    return f"{partner['name']} ({place})" if place else partner["name"]


def describe(partnership: dict) -> str:
    """« Jumelage avec Sesto Fiorentino (Italie), depuis 1962 » (and the status when not active)."""
    names = [partner_text(p) for p in partnership.get("partners", [])]
    partners = names[0] if len(names) == 1 else _("%(first)s et %(last)s", first=", ".join(names[:-1]),
                                                 last=names[-1]) if names else "—"
    line = _("%(kind)s avec %(partners)s", kind=kind_label(partnership.get("kind", "")), partners=partners)
    years = years_text(partnership.get("start", ""), partnership.get("end", ""))
    if years:
        line += ", " + years
    if partnership.get("status", "active") != "active":
        line += " (" + status_label(partnership["status"]).lower() + ")"
    return line


def describe_network(membership: dict, names: dict[str, str]) -> str:
    name = names.get(membership["network"], membership["network"])
    return _("%(name)s, depuis %(year)d", name=name, year=membership["since"]) if membership.get("since") else name


def _field_text(key: str, value) -> str:
    if key == "kind":
        return kind_label(value)
    if key == "status":
        return status_label(value)
    if key == "partners":
        return ", ".join(partner_text(p) for p in value) or "—"
    if isinstance(value, list):
        return ", ".join(value) or "—"
    return value or "—"


def diff_lines(fieldname: str, old, new, names: dict[str, str]) -> list[tuple[str, str]]:
    """``(sign, text)`` for each partnership or membership removed (−), added (+) or changed (~)."""
    old, new = list(old or []), list(new or [])
    removed = [item for item in old if item not in new]
    added = [item for item in new if item not in old]
    lines = []
    if fieldname == "networks":
        before = {m["network"]: m for m in removed}
        for m in added:
            if m["network"] in before:
                was = before.pop(m["network"])
                lines.append(("~", _("%(name)s : membre depuis %(old)s → %(new)s",
                                     name=names.get(m["network"], m["network"]), old=was["since"] or "—",
                                     new=m["since"] or "—")))
            else:
                lines.append(("+", describe_network(m, names)))
        lines[:0] = [("−", describe_network(m, names)) for m in before.values()]
        if not lines and old != new:
            lines.append(("~", _("mêmes réseaux, dans un autre ordre")))
        return lines

    def same_partners(a, b):
        return [p["name"] for p in a["partners"]] == [p["name"] for p in b["partners"]] and a["kind"] == b["kind"]

    changed = []
    for item in added:
        was = next((r for r in removed if same_partners(r, item)), None)
        if was is None:
            was = next((r for r in removed if [p["name"] for p in r["partners"]] ==
                        [p["name"] for p in item["partners"]]), None)
        if was is not None:
            removed.remove(was)
            changed.append((was, item))
        else:
            lines.append(("+", describe(item)))
    lines[:0] = [("−", describe(item)) for item in removed]
    for was, item in changed:
        details = "; ".join(_("%(field)s : %(old)s → %(new)s", field=CHANGED_LABELS[key],
                              old=_field_text(key, was.get(key)), new=_field_text(key, item.get(key)))
                            for key in CHANGED_LABELS if was.get(key) != item.get(key))
        lines.append(("~", f"{describe(item)} — {details}"))
    if not lines and old != new:
        lines.append(("~", _("mêmes partenariats, dans un autre ordre")))
    return lines
