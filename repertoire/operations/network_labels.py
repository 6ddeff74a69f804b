"""A curating network's own taxonomy labels: its name for a sector, a kind, an activity, shown on its own
directory pages (``/reseaux/<slug>/``) while the national directory keeps the shared labels."""
from __future__ import annotations

from flask_babel import gettext as _, ngettext
from sqlalchemy import delete, select, update

from ..models import CuratingNetwork, NetworkLabel
from ..validation import Vocabulary
from . import OperationError
from .audit import record_action
from .taxonomy import TAXONOMIES

MAX_LABEL = 160


def network_labels(session, network_id: int) -> dict[tuple[str, int], NetworkLabel]:
    """(taxonomy, term id) -> the network's own label."""
    return {(row.taxonomy, row.term_id): row for row in session.scalars(
        select(NetworkLabel).where(NetworkLabel.network_id == network_id))}


def network_vocabulary(session, network, language: str | None = None) -> Vocabulary:
    """The taxonomy as a network's pages show it: the shared labels, each replaced by the network's own
    where it has one (in English, its English label, else the shared English label). Other networks' pages
    and the national directory use ``Vocabulary`` itself."""
    vocab = Vocabulary(session, language)
    if network is None or session.get(CuratingNetwork, network.id) is None:
        return vocab
    english = (language or _current_language()) == "en"
    for (taxonomy, term_id), row in network_labels(session, network.id).items():
        term = next((t for t in vocab.terms.get(taxonomy, {}).values() if t.id == term_id), None)
        if term is None:
            continue
        own = row.label_en if english else row.label
        if own:
            vocab.labels[taxonomy][term.slug] = own
    return vocab


def _current_language() -> str:
    from ..i18n import current_language
    return current_language()


def set_network_labels(session, curating: CuratingNetwork, wanted: dict[tuple[str, int], tuple[str, str]],
                       user) -> int:
    """Give the network its own labels: ``wanted`` maps (taxonomy, term id) to (French, English) labels,
    ("", "") going back to the shared ones. Terms that are not the taxonomy's are refused. Two coordinators
    saving at once take turns (the network's row is locked first). Returns how many labels changed."""
    for (taxonomy, term_id), (label, label_en) in wanted.items():
        if taxonomy not in TAXONOMIES or session.get(TAXONOMIES[taxonomy], term_id) is None:
            raise OperationError(_("Valeur inconnue de la taxonomie."))
        if len(label) > MAX_LABEL or len(label_en) > MAX_LABEL:
            raise OperationError(ngettext("Un libellé fait %(num)d caractère au plus.",
                                          "Un libellé fait %(num)d caractères au plus.", MAX_LABEL))
        if label_en and not label:
            raise OperationError(_("Indiquez le libellé français avant le libellé anglais."))
    session.execute(update(CuratingNetwork).where(CuratingNetwork.actor_id == curating.actor_id)
                    .values(created_at=CuratingNetwork.created_at).execution_options(synchronize_session=False))
    current = network_labels(session, curating.actor_id)
    before, after = {}, {}
    for key, (label, label_en) in sorted(wanted.items()):
        label, label_en = label.strip(), label_en.strip()
        row = current.get(key)
        old = (row.label, row.label_en) if row is not None else ("", "")
        if old == (label, label_en):
            continue
        name = f"{key[0]}:{session.get(TAXONOMIES[key[0]], key[1]).slug}"
        before[name], after[name] = list(old), [label, label_en]
        if not label:
            session.execute(delete(NetworkLabel).where(NetworkLabel.network_id == curating.actor_id,
                                                       NetworkLabel.taxonomy == key[0], NetworkLabel.term_id == key[1]))
        elif row is None:
            session.add(NetworkLabel(network_id=curating.actor_id, taxonomy=key[0], term_id=key[1], label=label,
                                     label_en=label_en))
        else:
            row.label, row.label_en = label, label_en
    if after:
        session.flush()
        record_action(session, user, "network.label", curating.actor, before, after, [curating.actor_id])
    return len(after)
