"""The actor form, shared by members' registration and coordinators' edits.

Field-level rules live in ``validation.validate_actor`` (the same as the
importer's); WTForms brings rendering, CSRF and the honeypot.
"""
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.widgets import CheckboxInput, ListWidget

from . import geo
from .actor_fields import FIELDS
from .partnership_fields import KINDS, SLUG, STATUSES, check_networks, check_partner, check_partnership
from .validation import ActorInput, Vocabulary, validate_actor

MAX_PARTNERSHIPS, MAX_PARTNERS, MAX_NETWORKS = 50, 20, 100
QUERY_MAX = 200  # characters of a "Chercher" box that reach the search
MATCHES = 8  # actors proposed by "Chercher"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class HoneypotMixin:
    """A field people never see nor fill; robots do."""

    nickname = StringField(_l("Laissez ce champ vide"))

    def is_spam(self) -> bool:
        return bool((self.nickname.data or "").strip())


class PartnerForm(Form):
    """One partner of a partnership; ``actor`` (a slug, shown as radio buttons) when it is in the directory."""

    name = StringField(_l("Nom du partenaire"))
    country = StringField(_l("Pays"))
    locality = StringField(_l("Localité"))
    actor = StringField(_l("Fiche de l'annuaire"))
    actor_query = StringField(_l("Ce partenaire a une fiche dans l'annuaire ? Son nom"))
    find = SubmitField(_l("Chercher"))
    remove = SubmitField(_l("Retirer ce partenaire"))


class PartnershipRowForm(Form):
    kind = SelectField(_l("Type de partenariat"), validate_choice=False)
    status = SelectField(_l("Statut"), validate_choice=False, default="active")
    start = StringField(_l("Début"))
    end = StringField(_l("Fin"))
    partners = FieldList(FormField(PartnerForm), min_entries=1, max_entries=MAX_PARTNERS)
    domains = MultiCheckboxField(_l("Domaines"), validate_choice=False)
    description = TextAreaField(_l("Description"))
    source = StringField(_l("Source (adresse d'une page publique)"))
    add_partner = SubmitField(_l("Ajouter un partenaire"))
    remove = SubmitField(_l("Retirer ce partenariat"))


class MembershipForm(Form):
    network = StringField(_l("Réseau"))
    network_query = StringField(_l("Nom du réseau"))
    find = SubmitField(_l("Chercher"))
    since = StringField(_l("Membre depuis (année)"))
    remove = SubmitField(_l("Retirer ce réseau"))


def _search_matches(query: str, vocab: Vocabulary) -> list[dict]:
    """Published actors whose name matches, through the search port."""
    from .extensions import db
    from .search import IndexUnavailable, SearchParams, search_actors
    query = (query or "").strip()[:QUERY_MAX]
    if not query:
        return []
    try:
        result = search_actors(db.session, SearchParams(name=query, sort="relevance", sort_given=True,
                                                        per_page=MATCHES), vocab.labels, facets=())
    except IndexUnavailable:
        return []
    return [{"slug": a["slug"], "name": a["name"], "town": a["town"]} for a in result.results]


class ActorForm(HoneypotMixin, FlaskForm):
    name = StringField(_l("Nom de la structure"))
    acronym = StringField(_l("Sigle"))
    kind = SelectField(_l("Type de structure"), validate_choice=False)
    town = StringField(_l("Commune"))
    postcode = StringField(_l("Code postal"))
    department = SelectField(_l("Département"), validate_choice=False)
    countries = FieldList(StringField(_l("Pays")), min_entries=3, max_entries=40)
    intervention_towns = FieldList(StringField(_l("Ville ou collectivité")), min_entries=3, max_entries=60)
    no_intervention = TextAreaField(_l("Aucun lieu d'intervention à indiquer ? Dites-nous pourquoi"))
    domains = MultiCheckboxField(_l("Domaines d'intervention"), validate_choice=False)
    activities = MultiCheckboxField(_l("Types d'activité"), validate_choice=False)
    description = TextAreaField(_l("Présentation"))
    website = StringField(_l("Site web"))
    email = StringField(_l("Adresse électronique"))
    phone = StringField(_l("Téléphone"))
    partnerships = FieldList(FormField(PartnershipRowForm), min_entries=0, max_entries=MAX_PARTNERSHIPS)
    networks = FieldList(FormField(MembershipForm), min_entries=0, max_entries=MAX_NETWORKS)
    not_duplicate = BooleanField(_l("Aucune de ces fiches n'est la nôtre : créer une nouvelle fiche"))
    add_country = SubmitField(_l("Ajouter un pays"))
    add_town = SubmitField(_l("Ajouter une ville"))
    add_partnership = SubmitField(_l("Ajouter un partenariat"))
    add_network = SubmitField(_l("Ajouter un réseau"))
    submit = SubmitField(_l("Envoyer"))
    row_errors: dict = {}  # set by check(): {input id: [messages]} of partnership and network rows
    anchors: dict = {}
    version = HiddenField()  # of the actor, when the form was opened (an edit over a newer one is refused)

    def version_number(self) -> int | None:
        """The version the form was opened on; None if absent or not a number."""
        value = (self.version.data or "").strip()
        return int(value) if value.isdigit() and len(value) < 19 else None

    def fill_choices(self, vocab: Vocabulary):
        self.kind.choices = [("", _l("— Choisir —"))] + [(t.slug, vocab.labels["kind"][t.slug]) for t in vocab.active("kind")]
        self.department.choices = [("", _l("— Choisir —"))] + [
            (code, f"{name} ({code})") for code, name in geo.departments().items()]
        self.domains.choices = [(t.slug, vocab.labels["domain"][t.slug]) for t in vocab.active("domain")]
        self.activities.choices = [(t.slug, vocab.labels["activity"][t.slug]) for t in vocab.active("activity")]
        self._vocab = vocab
        self._fill_row_choices()

    def _fill_row_choices(self):
        for row in self.partnerships:
            row.form.kind.choices = [("", _l("— Choisir —"))] + list(KINDS.items())
            row.form.status.choices = list(STATUSES.items())
            row.form.domains.choices = self.domains.choices

    def adding_rows(self) -> bool:
        """A button other than "Envoyer" pressed (add or remove a row, look for an actor): do it and show
        the form again, with everything typed."""
        done = self._row_button()
        if done:
            self._fill_row_choices()
        return done

    def _row_button(self) -> bool:
        if self.add_country.data:
            self.countries.append_entry()
            return True
        if self.add_town.data:
            self.intervention_towns.append_entry()
            return True
        if self.add_partnership.data:
            if len(self.partnerships) < MAX_PARTNERSHIPS:
                self.partnerships.append_entry()
            return True
        if self.add_network.data:
            if len(self.networks) < MAX_NETWORKS:
                self.networks.append_entry()
            return True
        for row in list(self.partnerships):
            if row.form.remove.data:
                self.partnerships.entries.remove(row)
                return True
            if row.form.add_partner.data:
                if len(row.form.partners) < MAX_PARTNERS:
                    row.form.partners.append_entry()
                return True
            for partner in list(row.form.partners):
                if partner.form.remove.data:
                    row.form.partners.entries.remove(partner)
                    if not row.form.partners.entries:
                        row.form.partners.append_entry()
                    return True
                if partner.form.find.data:
                    partner.matches = _search_matches(partner.form.actor_query.data, self._vocab)
                    partner.searched = True
                    return True
        for row in list(self.networks):
            if row.form.remove.data:
                self.networks.entries.remove(row)
                return True
            if row.form.find.data:
                row.matches = _search_matches(row.form.network_query.data, self._vocab)
                row.searched = True
                return True
        return False

    def linked_actors(self) -> dict:
        """The published actors the rows name (partners and networks), by slug: for their names."""
        from .extensions import db
        from .operations import find_linked
        if not hasattr(self, "_linked"):
            slugs = {(r.network.data or "").strip() for r in self.networks}
            slugs.update((p.form.actor.data or "").strip() for r in self.partnerships for p in r.partners)
            self._linked = find_linked(db.session, {s for s in slugs if SLUG.match(s) and len(s) <= 100})
        return self._linked

    def _fill_from_directory(self):
        """A partner chosen in the directory and left without a name: its name, country and town."""
        linked = self.linked_actors()
        for row in self.partnerships:
            for partner in row.form.partners:
                actor = linked.get((partner.form.actor.data or "").strip())
                if actor is not None and not (partner.form.name.data or "").strip():
                    partner.form.name.data = actor.name
                    partner.form.country.data = partner.form.country.data or geo.country_name("FR")
                    partner.form.locality.data = partner.form.locality.data or actor.town

    def _partnership_rows(self) -> list[tuple[object, dict]]:
        """(form row, typed value) for each partnership row with something typed in it."""
        rows = []
        for row in self.partnerships:
            partners = [{"name": p.form.name.data or "", "country": p.form.country.data or "",
                         "locality": p.form.locality.data or "", "actor": (p.form.actor.data or "").strip() or None}
                        for p in row.form.partners]
            value = {"kind": row.form.kind.data or "", "status": row.form.status.data or "", "start": row.form.start.data or "",
                     "end": row.form.end.data or "", "partners": partners, "domains": row.form.domains.data or [],
                     "description": row.form.description.data or "", "source": row.form.source.data or ""}
            typed = [value["kind"], value["start"], value["end"], value["description"], value["source"]]
            typed += [v or "" for p in partners for v in p.values()] + list(value["domains"])
            if any(str(v).strip() for v in typed):
                rows.append((row, value))
        return rows

    def _network_rows(self) -> list[tuple[object, dict]]:
        return [(row, {"network": (row.form.network.data or "").strip(), "since": (row.form.since.data or "").strip()})
                for row in self.networks
                if any((f.data or "").strip() for f in (row.form.network, row.form.since, row.form.network_query))]

    def raw(self) -> dict:
        """The typed values, one per field of the table (empty rows of lists left out)."""
        raw = {}
        for f in FIELDS:
            if f.name == "partnerships":
                raw[f.name] = [value for _row, value in self._partnership_rows()]
            elif f.name == "networks":
                raw[f.name] = [value for _row, value in self._network_rows() if value["network"]]
            else:
                data = getattr(self, f.name).data
                raw[f.name] = [v for v in data or [] if (v or "").strip()] if f.multi else data
        return raw

    def check(self, vocab: Vocabulary, need_place: bool = True,
              holder_slug: str | None = None) -> tuple[ActorInput | None, dict]:
        """Validate everything; return clean data or ``{field: [messages]}`` (for the summary).

        The messages of partnership and network rows are also in ``row_errors`` (``{input id:
        [messages]}``), to be shown beside their fields; ``holder_slug`` is the entry's own slug.
        """
        errors: dict[str, list[str]] = {}
        if not self.validate():
            for fieldname, messages in self.errors.items():
                if fieldname not in ("partnerships", "networks"):
                    errors.setdefault(fieldname, []).extend(str(m) for m in messages if isinstance(m, str))
        self._fill_from_directory()
        raw = self.raw()
        data, problems = validate_actor(raw, vocab, strict=True)
        row_problems = self._check_rows(vocab, holder_slug)
        for fieldname, message in problems:
            if fieldname in ("partnerships", "networks") and row_problems.get(fieldname):
                continue  # told row by row below
            errors.setdefault(fieldname, []).append(message)
        for fieldname, messages in row_problems.items():
            errors.setdefault(fieldname, []).extend(messages)
        if need_place and not raw["countries"] and not raw["intervention_towns"] \
                and not (self.no_intervention.data or "").strip():
            errors.setdefault("countries", []).append(str(_l(
                "Indiquez au moins un pays ou une ville d'intervention, ou expliquez pourquoi "
                "dans le champ prévu.")))
        return (None if errors else data), errors

    def link_errors(self, problem, vocab: Vocabulary, need_place: bool = True,
                    holder_slug: str | None = None) -> dict:
        """The errors to show when the save found a network or partner gone (``operations.LinkProblem``:
        withdrawn, archived or merged after this form's check; the caller has rolled back).

        The rows are checked again against the directory as it is now, so the message stands beside the
        row's field, and everything typed stays in the form.
        """
        self.__dict__.pop("_linked", None)  # read the directory again
        _data, errors = self.check(vocab, need_place=need_place, holder_slug=holder_slug)
        if not errors:  # back meanwhile: say what the save met
            for fieldname, message in problem.problems:
                errors.setdefault(fieldname, []).append(message)
        return errors

    def _check_rows(self, vocab: Vocabulary, holder_slug: str | None) -> dict[str, list[str]]:
        """Check each partnership and network row; messages beside the fields (``row_errors``) and, for
        the summary, ``{"partnerships" | "networks": ["Partenariat 2 : …"]}``."""
        self.row_errors: dict[str, list[str]] = {}
        self.anchors: dict[str, str] = {}
        summary: dict[str, list[str]] = {}
        linked = self.linked_actors()

        def tell(field, message, where, label):
            self.row_errors.setdefault(field.id, []).append(message)
            summary.setdefault(where, []).append(f"{label} : {message}")
            self.anchors.setdefault(where, field.id)

        for row, value in self._partnership_rows():
            label = _("partenariat %(n)d", n=self.partnerships.entries.index(row) + 1)
            _clean, problems = check_partnership(value, vocab)
            for key, message in problems:
                if key == "partners":
                    continue  # each partner below
                tell(row.form[key] if key in row.form._fields else row.form.kind, message, "partnerships", label)
            partner_rows = [p for p in row.form.partners]
            named = False
            for p, raw in zip(partner_rows, value["partners"]):
                clean, partner_problems = check_partner(raw)
                named = named or clean is not None
                for key, message in partner_problems:
                    tell(p.form.actor_query if key == "actor" else p.form[key], message, "partnerships", label)
                slug = raw["actor"]
                if slug and SLUG.match(slug):
                    from .operations import partner_problem
                    message = partner_problem(slug, holder_slug, linked)
                    if message:
                        tell(p.form.actor_query, message, "partnerships", label)
            if not named:
                tell(partner_rows[0].form.name, _("indiquez au moins un partenaire (nom et pays)"),
                     "partnerships", label)
        for row, value in self._network_rows():
            label = _("réseau %(n)d", n=self.networks.entries.index(row) + 1)
            if not value["network"]:
                tell(row.form.network_query, _("choisissez le réseau parmi les fiches trouvées (bouton « Chercher »)"),
                     "networks", label)
                continue
            _clean, messages = check_networks([value])
            for message in messages:
                tell(row.form.since if SLUG.match(value["network"]) else row.form.network_query, message, "networks", label)
            if not messages:
                from .operations import network_problem
                message = network_problem(value["network"], holder_slug, linked)
                if message:
                    tell(row.form.network_query, message, "networks", label)
        return summary

    def error_anchors(self) -> dict[str, str]:
        """Where each line of the error summary leads."""
        return {"countries": "countries-0", "intervention_towns": "intervention_towns-0",
                "domains": "domains-0", "activities": "activities-0", **getattr(self, "anchors", {})}


for _field in FIELDS:  # a field without a widget of its own above: a text input
    if not hasattr(ActorForm, _field.name):
        setattr(ActorForm, _field.name, StringField(_field.label))


def form_data(data: ActorInput) -> dict:
    """Initial values of an ActorForm from clean data (countries shown by name)."""
    values = data.as_dict()
    values["countries"] = [geo.country_name(code) for code in data.countries] or [""]
    values["intervention_towns"] = data.intervention_towns or [""]
    values["partnerships"] = [
        {**item, "partners": [{**p, "country": geo.country_name(p["country"]) if p["country"] else "",
                               "actor": p["actor"] or ""} for p in item["partners"]]}
        for item in data.partnerships]
    values["networks"] = [{"network": n["network"], "since": "" if n["since"] is None else str(n["since"])}
                          for n in data.networks]
    return values
