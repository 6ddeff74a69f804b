"""Who may do what: trusted hosts, sessions, roles, signed links, rate limits."""
import re
from functools import wraps

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.exceptions import SecurityError

from .extensions import db, login_manager
from .models import User

# Storage from RATELIMIT_STORAGE_URI (config.py): memory by default, Redis to share limits between processes.
limiter = Limiter(key_func=get_remote_address)

SESSION_ID = re.compile(r"([0-9]{1,10}):([0-9]{1,18})")  # user id : session version (User.get_id)
CONFIRM_MAX_AGE = 2 * 24 * 3600
RESET_MAX_AGE = 3600


def rate(name: str):
    """A rate limit read from the configuration when the request comes in."""
    return lambda: current_app.config[name]


def login_account_key() -> str:
    """Throttle key of a login attempt: the account tried, whichever address the attempts come from."""
    email = " ".join((request.form.get("email") or "").split()).lower()
    return "account:" + email[:320] if email else "address:" + get_remote_address()


def failed_login(response) -> bool:
    """Only failed attempts count against an account (a success redirects)."""
    return response.status_code != 302


def is_coordinator(user) -> bool:
    return bool(user and user.is_authenticated and user.role in ("coordinator", "admin"))


def role_required(*roles):
    """Anonymous visitors and users without one of ``roles`` get a 403 page."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def init_auth(app):
    if app.config.get("REPERTOIRE_PROXIES"):  # behind N proxies: the client's address, not the proxy's
        from werkzeug.middleware.proxy_fix import ProxyFix
        proxies = app.config["REPERTOIRE_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    limiter.init_app(app)

    @login_manager.user_loader
    def load_user(session_id):
        return user_for_session(session_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        from .account.forms import LoginForm
        form = LoginForm(next=request.full_path if request.method == "GET" else "")
        return render_template("account/login.html", form=form, login_required=True), 403

    @app.errorhandler(SecurityError)
    def untrusted_host(error):
        """A Host this instance does not serve (TRUSTED_HOSTS): a bare 400, no page built for that host."""
        return _("Adresse de site inconnue."), 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.context_processor
    def roles():
        return {"is_coordinator": is_coordinator(current_user)}


def user_for_session(session_id: str) -> User | None:
    """The active user a session or remember-me cookie names, if it still carries their current version."""
    match = SESSION_ID.fullmatch(str(session_id))
    if match is None or int(match[1]) >= 2**31:
        return None
    user = db.session.get(User, int(match[1]))
    if user is None or not user.active or user.session_version != int(match[2]):
        return None
    return user


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def confirmation_token(user: User) -> str:
    return _serializer("confirm-email").dumps({"uid": user.id, "email": user.email})


def reset_token(user: User) -> str:
    # The end of the password hash makes the link single-use: it dies once the password changes.
    return _serializer("reset-password").dumps({"uid": user.id, "h": user.password_hash[-16:]})


STILL_ACCURATE_MAX_AGE = 60 * 24 * 3600


def still_accurate_token(actor) -> str:
    return _serializer("still-accurate").dumps({"aid": actor.id})


def actor_id_from_token(token: str) -> int | None:
    try:
        return _serializer("still-accurate").loads(token, max_age=STILL_ACCURATE_MAX_AGE).get("aid")
    except (BadSignature, SignatureExpired):
        return None


def user_from_token(token: str, purpose: str) -> User | None:
    """The user a confirmation or reset link names, or None if it is wrong, used or expired.

    A confirmation link serves once: an address already confirmed makes it void."""
    salt, max_age = {"confirm": ("confirm-email", CONFIRM_MAX_AGE),
                     "reset": ("reset-password", RESET_MAX_AGE)}[purpose]
    try:
        payload = _serializer(salt).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, payload.get("uid"))
    if user is None or not user.active:
        return None
    if purpose == "confirm" and (payload.get("email") != user.email or user.confirmed_at is not None):
        return None
    if purpose == "reset" and payload.get("h") != user.password_hash[-16:]:
        return None
    return user
