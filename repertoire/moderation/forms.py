from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
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
