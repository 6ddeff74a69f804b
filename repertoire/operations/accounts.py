"""Accounts: users, passwords, sessions, roles."""
from __future__ import annotations

import secrets
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import ROLES, User, utcnow

from . import OperationError
from .audit import record_action


# -- accounts --------------------------------------------------------------

PASSWORD_MIN = 10


def check_new_password(password: str):
    if len(password) < PASSWORD_MIN:
        raise OperationError(_("Le mot de passe doit compter au moins %(n)d caractères.", n=PASSWORD_MIN))


def create_user(session, email: str, password: str, role: str = "member",
                confirmed: bool = True, locale: str = "fr") -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise OperationError(f"rôle inconnu « {role} » (member, coordinator ou admin)")
    check_new_password(password)
    if find_user(session, email) is not None:
        raise OperationError(f"un compte existe déjà pour {email}")
    user = User(email=email, password_hash=generate_password_hash(password), role=role,
                confirmed_at=utcnow() if confirmed else None, locale=locale)
    session.add(user)
    session.flush()
    if role != "member":  # accounts with rights are made by an admin, on the command line
        record_action(session, None, "account.create", user, None, {"role": role}, [])
    return user


def find_user(session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


_dummy_hash: str | None = None


def dummy_password_check(password: str):
    """The cost of checking a password, spent when there is no account to check it against."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_hex(16))
    check_password_hash(_dummy_hash, password)


def authenticate(session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same answer, and one password check,
    for any mistake: unknown, closed or wrong)."""
    user = find_user(session, email)
    if user is None:
        dummy_password_check(password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(session, user: User, password: str):
    """Change the password and end every session of the account."""
    check_new_password(password)
    user.password_hash = generate_password_hash(password)
    end_sessions(session, user)


def end_sessions(session, user: User):
    """Void every session and remember-me cookie of ``user`` (their id carries the old version)."""
    user.session_version = User.session_version + 1
    session.flush()
    session.refresh(user, ["session_version"])


def confirm_user(session, user: User):
    if user.confirmed_at is None:
        user.confirmed_at = utcnow()


def set_role(session, user: User, role: str, acting: User):
    if role not in ROLES:
        raise OperationError(_("Rôle inconnu."))
    if user.id == acting.id and role != "admin":
        raise OperationError(_("Vous ne pouvez pas retirer vos propres droits d'administration."))
    if user.role != role:
        record_action(session, acting, "account.role", user, {"role": user.role}, {"role": role}, [])
    user.role = role


def set_active(session, user: User, active: bool, acting: User):
    """Close or reopen an account (a closed one cannot log in; its entries stay)."""
    if user.id == acting.id and not active:
        raise OperationError(_("Vous ne pouvez pas fermer votre propre compte."))
    if user.active != active:
        record_action(session, acting, "account.activate" if active else "account.close", user,
                      {"active": user.active}, {"active": active}, [])
    user.active = active
