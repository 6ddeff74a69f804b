"""The actor form, shared by members' registration and coordinators' edits.

Field-level rules live in ``validation.validate_actor`` (the same as the
importer's); WTForms brings rendering, CSRF and the honeypot.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, HiddenField, SelectField, SelectMultipleField, StringField,
                     SubmitField, TextAreaField)
from wtforms.widgets import CheckboxInput, ListWidget

from . import geo
from .actor_fields import FIELDS
from .validation import ActorInput, Vocabulary, validate_actor


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class HoneypotMixin:
    """A field people never see nor fill; robots do."""

    nickname = StringField(_l("Laissez ce champ vide"))

    def is_spam(self) -> bool:
        return bool((self.nickname.data or "").strip())


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
    not_duplicate = BooleanField(_l("Aucune de ces fiches n'est la nôtre : créer une nouvelle fiche"))
    add_country = SubmitField(_l("Ajouter un pays"))
    add_town = SubmitField(_l("Ajouter une ville"))
    submit = SubmitField(_l("Envoyer"))
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

    def adding_rows(self) -> bool:
        """"Add a country/town" pressed: add an empty row and show the form again."""
        if self.add_country.data:
            self.countries.append_entry()
            return True
        if self.add_town.data:
            self.intervention_towns.append_entry()
            return True
        return False

    def raw(self) -> dict:
        """The typed values, one per field of the table (empty rows of lists left out)."""
        raw = {}
        for f in FIELDS:
            data = getattr(self, f.name).data
            raw[f.name] = [v for v in data or [] if (v or "").strip()] if f.multi else data
        return raw

    def check(self, vocab: Vocabulary, need_place: bool = True) -> tuple[ActorInput | None, dict]:
        """Validate everything; return clean data or ``{field: [messages]}``."""
        errors: dict[str, list[str]] = {}
        if not self.validate():
            for fieldname, messages in self.errors.items():
                errors.setdefault(fieldname, []).extend(str(m) for m in messages if isinstance(m, str))
        raw = self.raw()
        data, problems = validate_actor(raw, vocab, strict=True)
        for fieldname, message in problems:
            errors.setdefault(fieldname, []).append(message)
        if need_place and not raw["countries"] and not raw["intervention_towns"] \
                and not (self.no_intervention.data or "").strip():
            errors.setdefault("countries", []).append(str(_l(
                "Indiquez au moins un pays ou une ville d'intervention, ou expliquez pourquoi "
                "dans le champ prévu.")))
        return (None if errors else data), errors


for _field in FIELDS:  # a field without a widget of its own above: a text input
    if not hasattr(ActorForm, _field.name):
        setattr(ActorForm, _field.name, StringField(_field.label))


def form_data(data: ActorInput) -> dict:
    """Initial values of an ActorForm from clean data (countries shown by name)."""
    values = data.as_dict()
    values["countries"] = [geo.country_name(code) for code in data.countries] or [""]
    values["intervention_towns"] = data.intervention_towns or [""]
    return values
