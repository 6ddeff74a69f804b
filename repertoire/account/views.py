import json

from flask import Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from .. import operations
from ..notices import tell_networks, tell_networks_of_join
from ..operations import networks
from ..auth import (actor_id_from_token, is_coordinator, confirmation_token, failed_login, limiter, login_account_key, rate,
                    reset_token, role_required, user_from_token)
from ..extensions import db
from ..forms import ActorForm, form_data
from ..i18n import current_language
from ..mail import external_url, in_language_of, send_mail
from ..models import Actor, ChangeRequest
from ..validation import Vocabulary
from ..web import local_path
from . import bp
from ..moderation.forms import ConfirmForm
from .forms import (ChangePasswordForm, ClaimForm, DeleteAccountForm, ForgotPasswordForm, LoginForm,
                    NoticeForm, ResetPasswordForm, SignupForm)

ANYONE = ("member", "coordinator", "admin")


# -- accounts --------------------------------------------------------------

def send_confirmation(user):
    link = external_url("account.confirm", token=confirmation_token(user))
    with in_language_of(user):
        send_mail(user.email, _("Confirmez votre adresse — Répertoire"), _(
            "Bonjour,\n\nPour activer votre compte sur Répertoire, ouvrez ce lien (valable 48 heures) :\n\n"
            "%(link)s\n\nSi vous n'avez rien demandé, ignorez ce message.\n", link=link))


@bp.route("/compte/inscription", methods=["GET", "POST"])
@limiter.limit(rate("SIGNUP_RATE_LIMIT"), methods=["POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        if not form.is_spam():
            user = operations.find_user(db.session, form.email.data)
            if user is None:
                user = operations.create_user(db.session, form.email.data, form.password.data,
                                              confirmed=False, locale=current_language())
                send_confirmation(user)
            else:  # same answer on screen, same cost; the owner of the address is told by mail
                operations.dummy_password_check(form.password.data)
                with in_language_of(user):
                    send_mail(user.email, _("Tentative d'inscription — Répertoire"), _(
                        "Bonjour,\n\nQuelqu'un a demandé à créer un compte Répertoire avec cette adresse, qui en "
                        "a déjà un. Si c'était vous, connectez-vous ou demandez un nouveau mot de passe :\n\n"
                        "%(link)s\n", link=external_url("account.forgot_password")))
        return render_template("account/check_mail.html", email=form.email.data)
    return render_template("account/signup.html", form=form)


@bp.get("/compte/confirmer/<token>")
def confirm(token):
    user = user_from_token(token, "confirm")
    if user is None:
        flash(_("Ce lien de confirmation est invalide ou a expiré. Connectez-vous pour en recevoir un "
                "nouveau."), "error")
        return redirect(url_for("account.login"))
    operations.confirm_user(db.session, user)
    # The link proves the address, not who holds the browser: it never opens (or switches) a session.
    if current_user.is_authenticated:
        flash(_("Votre adresse est confirmée. Bienvenue !") if current_user.id == user.id else
              _("L'adresse %(email)s est confirmée.", email=user.email), "success")
        return redirect(url_for("account.space"))
    flash(_("Votre adresse est confirmée : connectez-vous."), "success")
    return redirect(url_for("account.login"))


@bp.route("/compte/connexion", methods=["GET", "POST"])
@limiter.limit(rate("LOGIN_RATE_LIMIT"), methods=["POST"])
@limiter.limit(rate("LOGIN_ACCOUNT_RATE_LIMIT"), methods=["POST"], key_func=login_account_key,
               deduct_when=failed_login)
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = operations.authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Adresse électronique ou mot de passe incorrect."))
        elif user.confirmed_at is None:
            send_confirmation(user)
            flash(_("Confirmez d'abord votre adresse : un nouveau lien vient de vous être envoyé."), "error")
        else:
            login_user(user, remember=form.remember.data)
            session.setdefault("lang", user.locale)
            return redirect(local_path(form.next.data) or url_for("account.space"))
    return render_template("account/login.html", form=form)


@bp.post("/compte/deconnexion")
def logout():
    if current_user.is_authenticated:  # copies of this session's cookies stop working too
        operations.end_sessions(db.session, current_user)
    logout_user()
    flash(_("Vous êtes déconnecté."), "success")
    return redirect(url_for("public.index"))


@bp.route("/compte/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(rate("RESET_RATE_LIMIT"), methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = operations.find_user(db.session, form.email.data)
        if user is not None and user.active:
            link = external_url("account.reset_password", token=reset_token(user))
            with in_language_of(user):
                send_mail(user.email, _("Nouveau mot de passe — Répertoire"), _(
                    "Bonjour,\n\nPour choisir un nouveau mot de passe, ouvrez ce lien (valable une heure, une "
                    "seule fois) :\n\n%(link)s\n\nSi vous n'avez rien demandé, ignorez ce message.\n", link=link))
        return render_template("account/check_mail.html", email=form.email.data, reset=True)
    return render_template("account/forgot_password.html", form=form)


@bp.route("/compte/nouveau-mot-de-passe/<token>", methods=["GET", "POST"])
def reset_password(token):
    user = user_from_token(token, "reset")
    if user is None:
        flash(_("Ce lien est invalide, a déjà servi ou a expiré. Demandez-en un nouveau."), "error")
        return redirect(url_for("account.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        operations.set_password(db.session, user, form.password.data)
        operations.confirm_user(db.session, user)  # the link proves the address
        login_user(user)
        flash(_("Votre mot de passe a été changé."), "success")
        return redirect(url_for("account.space"))
    return render_template("account/reset_password.html", form=form)


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@role_required(*ANYONE)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if operations.authenticate(db.session, current_user.email, form.current.data) is None:
            form.current.errors.append(_("Mot de passe actuel incorrect."))
        else:
            operations.set_password(db.session, current_user, form.password.data)
            login_user(current_user._get_current_object())  # this session goes on; every other one ends
            flash(_("Votre mot de passe a été changé."), "success")
            return redirect(url_for("account.space"))
    return render_template("account/change_password.html", form=form)


@bp.get("/mon-espace/mes-donnees.json")
@role_required(*ANYONE)
def my_data():
    """Everything stored about the signed-in member (no id in the address: only one's own)."""
    body = json.dumps(operations.account_data(db.session, current_user), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="repertoire-mes-donnees.json"',
        "Cache-Control": "no-store"})


@bp.route("/compte/supprimer", methods=["GET", "POST"])
@role_required(*ANYONE)
@limiter.limit(rate("LOGIN_RATE_LIMIT"), methods=["POST"])  # a password is tried here too
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if operations.authenticate(db.session, current_user.email, form.password.data) is None:
            form.password.errors.append(_("Mot de passe incorrect."))
        else:
            try:
                operations.delete_account(db.session, current_user._get_current_object())
            except operations.OperationError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                return redirect(url_for("account.space"))
            logout_user()
            session.clear()
            flash(_("Votre compte a été supprimé. Les fiches des structures restent dans le répertoire, sans "
                    "lien avec vous."), "success")
            return redirect(url_for("public.index"))
    return render_template("account/delete.html", form=form)


# -- the member's space ----------------------------------------------------

@bp.get("/mon-espace")
@role_required(*ANYONE)
def space():
    actors = db.session.scalars(select(Actor).where(Actor.owner_id == current_user.id)
                                .order_by(Actor.name_sort)).all()
    requests = db.session.scalars(select(ChangeRequest).where(ChangeRequest.user_id == current_user.id)
                                  .order_by(ChangeRequest.created_at.desc())).all()
    notice_form = None
    if networks.network_ids_of(db.session, current_user):
        notice_form = NoticeForm(mode=networks.notice_mode(db.session, current_user))
    return render_template("account/space.html", actors=actors, requests=requests, notice_form=notice_form)


@bp.post("/mon-espace/avis")
@role_required("coordinator")
def notices():
    """A network coordinator chooses how new submissions are told: a mail each, a daily digest, or none."""
    if not networks.network_ids_of(db.session, current_user):
        abort(403)
    form = NoticeForm()
    if not form.validate_on_submit():
        abort(400)
    networks.set_notice_mode(db.session, current_user, form.mode.data)
    flash(_("Votre choix est enregistré."), "success")
    return redirect(url_for("account.space"))


def _actor_form_page(form, errors, duplicates=(), actor=None, conflict=None):
    return render_template("account/actor_form.html", form=form, errors=errors, duplicates=duplicates,
                           actor=actor, conflict=conflict)


@bp.route("/mon-espace/inscrire", methods=["GET", "POST"])
@role_required(*ANYONE)
@limiter.limit(rate("SUBMIT_RATE_LIMIT"), methods=["POST"])
def submit_actor():
    vocab = Vocabulary(db.session)
    form = ActorForm()
    form.fill_choices(vocab)
    errors, duplicates = {}, []
    if form.is_submitted() and not form.adding_rows():
        data, errors = form.check(vocab)
        if data is not None:
            if form.is_spam():
                flash(_("Votre fiche a été envoyée."), "success")
                return redirect(url_for("account.space"))
            duplicates = operations.find_duplicates(db.session, data)
            if not duplicates or form.not_duplicate.data:
                message = form.no_intervention.data or ""
                try:
                    if is_coordinator(current_user):
                        actor = operations.coordinator_entry(db.session, current_user._get_current_object(), data,
                                                            vocab, message)
                    else:
                        actor = operations.submit_actor(db.session, current_user, data, vocab, message=message)
                except operations.LinkProblem as problem:  # a network or partner withdrawn since the check
                    db.session.rollback()
                    return _actor_form_page(form, form.link_errors(problem, vocab), duplicates)
                if actor.is_published:
                    flash(_("Fiche publiée."), "success")
                    return redirect(url_for("moderation.edit_actor", actor_id=actor.id))
                db.session.flush()
                tell_networks(db.session, operations.open_request(db.session, actor, "new"))
                flash(_("Merci ! Votre fiche a été envoyée. Elle sera publiée après validation par "
                      "l'équipe du réseau ; vous serez prévenu par courriel."), "success")
                return redirect(url_for("account.space"))
    return _actor_form_page(form, errors, duplicates)


def own_actor(actor_id: int) -> Actor:
    """The member's own entry, or 404: another member's entry does not exist for them."""
    actor = db.session.get(Actor, actor_id)
    if actor is None or actor.owner_id != current_user.id or actor.status == "archived":
        abort(404)
    return actor


@bp.route("/mon-espace/fiches/<int(max=2147483647):actor_id>/modifier", methods=["GET", "POST"])
@role_required(*ANYONE)
@limiter.limit(rate("SUBMIT_RATE_LIMIT"), methods=["POST"])
def edit_actor(actor_id: int):
    kept = operations.merged_into(db.session, db.session.get(Actor, actor_id))
    if kept is not None and kept.owner_id == current_user.id:
        flash(_("Cette fiche a été fusionnée dans « %(name)s » : c'est désormais celle-ci qu'il faut modifier.",
                name=kept.name), "info")
        return redirect(url_for("account.edit_actor", actor_id=kept.id))
    actor = own_actor(actor_id)
    vocab = Vocabulary(db.session)
    if request.method == "GET":
        form = ActorForm(data={**form_data(operations.proposed_input(db.session, actor, current_user)),
                               "version": operations.actor_version(db.session, actor)})
    else:
        form = ActorForm()
    form.fill_choices(vocab)
    errors, conflict = {}, None
    if form.is_submitted() and not form.adding_rows():
        data, errors = form.check(vocab, need_place=False, holder_slug=actor.slug)
        if data is not None:
            asked_before = networks.asked_networks(
                db.session, operations.open_request(db.session, actor, "change", current_user))
            try:
                outcome = operations.edit_own_actor(db.session, current_user, actor, data, vocab,
                                                    message=form.no_intervention.data or "",
                                                    version=form.version_number())
            except operations.ActorMerged as merged:
                db.session.rollback()
                flash(str(merged), "error")
                if merged.kept.owner_id == current_user.id:
                    return redirect(url_for("account.edit_actor", actor_id=merged.kept.id))
                return redirect(url_for("account.space"))
            except operations.EditConflict as exc:  # shown with what the member typed
                db.session.rollback()
                form.version.data = str(exc.version)
                return _actor_form_page(form, errors, actor=actor, conflict=exc), 409
            except operations.LinkProblem as problem:  # a network or partner withdrawn since the check
                db.session.rollback()
                return _actor_form_page(form, form.link_errors(problem, vocab, need_place=False,
                                                               holder_slug=actor.slug), actor=actor)
            if outcome == "proposed":
                tell_networks_of_join(db.session, operations.open_request(db.session, actor, "change", current_user),
                                      asked_before)
            flash({
                "updated": _("Vos modifications sont enregistrées ; la fiche attend toujours sa validation."),
                "resubmitted": _("Votre fiche corrigée a été renvoyée en modération."),
                "proposed": _("Votre proposition de modification a été envoyée. La version publiée reste "
                              "visible jusqu'à sa validation."),
                "unchanged": _("Aucune modification à enregistrer."),
            }[outcome], "success")
            return redirect(url_for("account.space"))
    return _actor_form_page(form, errors, actor=actor)


@bp.route("/acteurs/<slug>/revendiquer", methods=["GET", "POST"])
@role_required(*ANYONE)
@limiter.limit(rate("SUBMIT_RATE_LIMIT"), methods=["POST"])
def claim(slug: str):
    actor = db.session.scalar(select(Actor).where(Actor.slug == slug))
    if actor is None or not actor.is_published:
        abort(404)
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            operations.claim_actor(db.session, current_user, actor, form.message.data)
        except operations.OperationError as exc:
            flash(str(exc), "error")
            return redirect(url_for("account.space"))
        flash(_("Votre demande a été envoyée : un coordinateur du réseau va la vérifier."), "success")
        return redirect(url_for("account.space"))
    return render_template("account/claim.html", form=form, actor=actor)


@bp.route("/fiches/<int(max=2147483647):actor_id>/toujours-exacte/<token>", methods=["GET", "POST"])
def still_accurate(actor_id: int, token: str):
    """The link of the yearly reminder: a page with one button (a GET never changes anything,
    so that mail scanners opening links cannot confirm on the owner's behalf)."""
    actor = db.session.get(Actor, actor_id)
    if actor is None or actor_id_from_token(token) != actor_id or actor.status != "published":
        flash(_("Ce lien est invalide ou a expiré ; connectez-vous pour vérifier votre fiche."), "error")
        return redirect(url_for("account.login"))
    form = ConfirmForm()
    if form.validate_on_submit():
        operations.confirm_still_accurate(db.session, actor, current_user if current_user.is_authenticated else None)
        return render_template("account/still_accurate.html", actor=actor, done=True)
    return render_template("account/still_accurate.html", actor=actor, form=form, done=False)
