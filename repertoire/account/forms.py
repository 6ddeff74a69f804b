from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..forms import HoneypotMixin
from ..operations import PASSWORD_MIN

REQUIRED = _l("Ce champ est obligatoire.")
PASSWORD_RULE = _l("Au moins %(n)d caractères.", n=PASSWORD_MIN)


def new_password_fields():
    password = PasswordField(_l("Mot de passe"), validators=[
        DataRequired(REQUIRED), Length(min=PASSWORD_MIN, max=200, message=PASSWORD_RULE)])
    confirm = PasswordField(_l("Confirmez le mot de passe"), validators=[
        DataRequired(REQUIRED), EqualTo("password", message=_l("Les deux mots de passe diffèrent."))])
    return password, confirm


class SignupForm(HoneypotMixin, FlaskForm):
    email = EmailField(_l("Adresse électronique"), validators=[
        DataRequired(REQUIRED), Email(message=_l("Adresse électronique invalide.")), Length(max=254)])
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Créer mon compte"))


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse électronique"), validators=[DataRequired(REQUIRED)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(REQUIRED)])
    remember = BooleanField(_l("Rester connecté sur cet appareil"))
    next = HiddenField()
    submit = SubmitField(_l("Se connecter"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Adresse électronique"), validators=[
        DataRequired(REQUIRED), Email(message=_l("Adresse électronique invalide."))])
    submit = SubmitField(_l("Recevoir un lien"))


class ResetPasswordForm(FlaskForm):
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Enregistrer le mot de passe"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired(REQUIRED)])
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Changer le mot de passe"))


class ClaimForm(FlaskForm):
    message = TextAreaField(_l("Votre lien avec cette structure"), validators=[
        DataRequired(_l("Expliquez en quelques mots votre lien avec cette structure.")),
        Length(max=2000)])
    submit = SubmitField(_l("Envoyer la demande"))


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Votre mot de passe, pour confirmer"), validators=[DataRequired(REQUIRED)])
    submit = SubmitField(_l("Supprimer définitivement mon compte"))


class NoticeForm(FlaskForm):
    mode = RadioField(_l("Nouvelles fiches de mes réseaux"), choices=[
        SelectChoice("each", _l("Un courriel par nouvelle fiche")), SelectChoice("daily", _l("Un résumé quotidien")),
        SelectChoice("none", _l("Aucun courriel"))], validators=[DataRequired(REQUIRED)])
    submit = SubmitField(_l("Enregistrer"))
