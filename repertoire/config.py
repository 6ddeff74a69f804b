"""Configuration read from the environment (see README)."""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


DEFAULT_SECRET = "dev-only-change-me"


def from_environment(instance_path: str) -> dict:
    database_url = os.environ.get("REPERTOIRE_DATABASE_URL") or (
        "sqlite:///" + os.path.join(instance_path, "repertoire.sqlite3"))
    index_dir = os.environ.get("REPERTOIRE_INDEX_DIR") or str(PROJECT_ROOT / "index")
    return {
        "SECRET_KEY": os.environ.get("REPERTOIRE_SECRET_KEY", DEFAULT_SECRET),
        "REPERTOIRE_ENV": os.environ.get("REPERTOIRE_ENV", "development"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REPERTOIRE_INDEX_DIR": os.path.abspath(index_dir),
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "REPERTOIRE_BASE_URL": os.environ.get("REPERTOIRE_BASE_URL", "http://127.0.0.1:5000"),
        "MAIL_SERVER": os.environ.get("REPERTOIRE_MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("REPERTOIRE_MAIL_PORT", "587")),
        "MAIL_USE_TLS": os.environ.get("REPERTOIRE_MAIL_USE_TLS", "1") != "0",
        "MAIL_USERNAME": os.environ.get("REPERTOIRE_MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("REPERTOIRE_MAIL_PASSWORD", ""),
        "MAIL_SENDER": os.environ.get("REPERTOIRE_MAIL_SENDER",
                                      "Répertoire <ne-pas-repondre@repertoire.invalid>"),
        "MAIL_OUTBOX": os.environ.get("REPERTOIRE_MAIL_OUTBOX", os.path.join(instance_path, "outbox")),
        # Rate limits: shared by every worker and server when stored in Redis (redis://host:port/db).
        "RATELIMIT_STORAGE_URI": os.environ.get("REPERTOIRE_RATELIMIT_STORAGE") or "memory://",
        "SIGNUP_RATE_LIMIT": os.environ.get("REPERTOIRE_SIGNUP_RATE_LIMIT", "10 per hour"),
        "LOGIN_RATE_LIMIT": os.environ.get("REPERTOIRE_LOGIN_RATE_LIMIT", "10 per minute"),
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("REPERTOIRE_LOGIN_ACCOUNT_RATE_LIMIT", "20 per hour"),
        "SUBMIT_RATE_LIMIT": os.environ.get("REPERTOIRE_SUBMIT_RATE_LIMIT", "30 per hour"),
        "RESET_RATE_LIMIT": os.environ.get("REPERTOIRE_RESET_RATE_LIMIT", "5 per hour"),
        # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
        "REPERTOIRE_PROXIES": int(os.environ.get("REPERTOIRE_PROXIES") or 0),
    }


def check_production(config: dict):
    """In production, refuse a missing or default secret key and send cookies over HTTPS only."""
    if config.get("REPERTOIRE_ENV") != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if secret == DEFAULT_SECRET or len(secret) < 16:
        raise RuntimeError("REPERTOIRE_ENV=production : définissez REPERTOIRE_SECRET_KEY (au moins 16 caractères "
                           "aléatoires, par exemple « python3 -c 'import secrets; print(secrets.token_hex(32))' »).")
    config["SESSION_COOKIE_SECURE"] = True
    config["REMEMBER_COOKIE_SECURE"] = True
