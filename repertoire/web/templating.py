"""What every template may use: filters, the labels of fields, statuses and actions, place names."""
from datetime import datetime

from flask import request
from flask_babel import format_date, format_datetime, format_number, lazy_gettext as _l

from .. import actor_fields, geo
from ..generate import is_fictitious
from ..extensions import db
from ..i18n import current_language
from ..validation import Vocabulary

FIELD_LABELS = {**actor_fields.FIELD_LABELS, "status": _l("Statut")}
STATUS_LABELS = {"pending": _l("en attente"), "published": _l("publiée"), "rejected": _l("refusée"),
                 "archived": _l("archivée")}
ACTION_LABELS = {
    "create": _l("création"), "import": _l("import"), "submit": _l("inscription"), "edit": _l("modification"),
    "update": _l("modification"), "publish": _l("publication"), "archive": _l("archivage"),
    "restore": _l("restauration"), "reject": _l("refus"), "resubmit": _l("nouvel envoi"),
    "approve-change": _l("modification validée"), "owner": _l("rattachement"),
    "revert": _l("retour à une version antérieure"), "merge": _l("fusion d'un doublon"),
    "merged-away": _l("fusionnée dans une autre fiche"), "merge-term": _l("fusion de deux termes de la taxonomie"),
    "revert": _l("retour à une version antérieure"), "undo": _l("annulation depuis le journal"),
    "bulk-network": _l("ajout en lot à un réseau"),
}
ROLE_LABELS = {"member": _l("membre"), "coordinator": _l("coordinateur"), "admin": _l("administrateur")}
KIND_LABELS = {"new": _l("Nouvelle fiche"), "change": _l("Modification proposée"), "claim": _l("Revendication"),
               "report": _l("Signalement d'erreur")}


def datetime_short(value: datetime) -> str:
    return format_datetime(value, "short")


def thousands(value: int) -> str:
    if type(value) is int and 0 <= value < 1000:  # no separator to place: as Babel writes it, without Babel
        return str(value)
    return format_number(value)


def long_date(value: str) -> str:
    return format_date(datetime.fromisoformat(value), "long")


def country_label(code: str) -> str:
    return geo.country_name(code)


def field_value(value, fieldname):
    """A stored value as people read it."""
    if value in (None, "", []):
        return "—"
    vocab = getattr(request, "_vocab", None)
    if vocab is None:
        vocab = request._vocab = Vocabulary(db.session)
    if fieldname == "countries":
        return ", ".join(geo.country_name(c) for c in value)
    if fieldname == "department":
        return f"{geo.department_name(value)} ({value})"
    if fieldname in ("domains", "activities", "kind"):
        labels = vocab.labels[{"domains": "domain", "activities": "activity", "kind": "kind"}[fieldname]]
        items = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(v, v) for v in items)
    if fieldname == "status":
        return STATUS_LABELS.get(value, value)
    if isinstance(value, list):
        return ", ".join(value)
    return value


def context():
    return {"current_locale": current_language(), "country_names": geo.sorted_country_names(),
            "country_name": geo.country_name, "department_name": geo.department_name,
            "field_labels": FIELD_LABELS, "status_labels": STATUS_LABELS, "action_labels": ACTION_LABELS,
            "request_kind_labels": KIND_LABELS, "role_labels": ROLE_LABELS}


def init_app(app):
    for f in (datetime_short, thousands, long_date, country_label, field_value):
        app.add_template_filter(f)
    app.add_template_test(is_fictitious, "fictitious")
    app.context_processor(context)
