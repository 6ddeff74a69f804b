from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..forms import HoneypotMixin


class ReportForm(HoneypotMixin, FlaskForm):
    """« Signaler une erreur »: open to anyone, no account needed."""

    message = TextAreaField(_l("Ce qui est inexact ou manque"), validators=[
        DataRequired(_l("Décrivez l'erreur en quelques mots.")),
        Length(max=2000, message=_l("%(max)d caractères au plus.", max=2000))])
    email = EmailField(_l("Votre adresse électronique (facultatif)"), validators=[
        Optional(), Email(message=_l("Adresse électronique invalide.")), Length(max=254)])
    submit = SubmitField(_l("Envoyer le signalement"))
