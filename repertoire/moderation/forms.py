from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..models import ROLES


class ConfirmForm(FlaskForm):
    """A button that changes something: only CSRF to check."""

    submit = SubmitField(_l("Confirmer"))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Raison du refus (envoyée au demandeur)"), validators=[
        DataRequired(_l("Indiquez la raison du refus : elle sera envoyée au demandeur.")), Length(max=2000)])
    submit = SubmitField(_l("Refuser"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Rôle"), choices=list(ROLES))
    submit = SubmitField(_l("Changer"))


class TermForm(FlaskForm):
    label = StringField(_l("Libellé"), validators=[DataRequired(_l("Indiquez un libellé.")), Length(max=160)])
    label_en = StringField(_l("Libellé en anglais (facultatif)"), validators=[Length(max=160)])
    slug = StringField(_l("Code (facultatif, jamais modifié ensuite)"), validators=[Length(max=60)])
    submit = SubmitField(_l("Ajouter"))


class RenameForm(FlaskForm):
    label = StringField(_l("Nouveau libellé"), validators=[DataRequired(_l("Indiquez un libellé.")), Length(max=160)])
    label_en = StringField(_l("Libellé en anglais"), validators=[Length(max=160)])
    submit = SubmitField(_l("Renommer"))


class MergeTermForm(FlaskForm):
    target = SelectField(_l("Fusionner dans"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Fusionner"))


class UploadForm(FlaskForm):
    file = FileField(_l("Fichier CSV ou Excel (format du répertoire)"), validators=[
        FileRequired(_l("Choisissez un fichier.")),
        FileAllowed(["csv", "txt", "json", "xlsx"], _l("Seuls les fichiers .csv, .xlsx et .json sont acceptés."))])
    kind = SelectField(_l("Contenu du fichier"), default="auto", choices=[
        SelectChoice("auto", _l("Détecter d'après l'en-tête")), SelectChoice("actors", _l("Acteurs")),
        SelectChoice("partnerships", _l("Partenariats (un partenariat par ligne)"))])
    submit = SubmitField(_l("Vérifier le fichier"))


class NetworkForm(FlaskForm):
    network = StringField(_l("Adresse du réseau dans l'annuaire (son code, par exemple horizons-solidaires)"),
                          validators=[DataRequired(_l("Indiquez le code du réseau.")), Length(max=100)])
    submit = SubmitField(_l("Faire modérer ses fiches par ce réseau"))


class TerritoryForm(FlaskForm):
    departments = StringField(_l("Départements du territoire (codes séparés par des espaces, par exemple 14 27 50)"),
                              validators=[Length(max=2000)])
    submit = SubmitField(_l("Enregistrer le territoire"))


class CoordinatorForm(FlaskForm):
    email = StringField(_l("Adresse du compte à ajouter comme coordinateur"),
                        validators=[DataRequired(_l("Indiquez une adresse.")), Length(max=254)])
    submit = SubmitField(_l("Ajouter"))
