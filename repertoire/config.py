"""Configuration read from the environment (see README)."""
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from .files import FILE_MODE, private_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent


DEFAULT_SECRET = "dev-only-change-me"  # the public key of earlier versions: refused in production
SECRET_FILE = "secret_key"
LOCAL_HOSTS = ("localhost", "127.0.0.1")
# The operator's part of the legal pages, each from REPERTOIRE_LEGAL_<NAME> (README, « Pages légales »).
LEGAL_SETTINGS = ("PUBLISHER", "DIRECTOR", "HOST", "CONTACT", "DPO", "LOG_RETENTION", "ACCESSIBILITY_DATE")


def from_environment(instance_path: str) -> dict:
    database_url = os.environ.get("REPERTOIRE_DATABASE_URL") or (
        "sqlite:///" + os.path.join(instance_path, "repertoire.sqlite3"))
    index_dir = os.environ.get("REPERTOIRE_INDEX_DIR") or str(PROJECT_ROOT / "index")
    return {
        "SECRET_KEY": os.environ.get("REPERTOIRE_SECRET_KEY") or None,
        "REPERTOIRE_TRUSTED_HOSTS": os.environ.get("REPERTOIRE_TRUSTED_HOSTS") or None,
        "REPERTOIRE_ENV": os.environ.get("REPERTOIRE_ENV", "development"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REPERTOIRE_INDEX_DIR": os.path.abspath(index_dir),
        "REPERTOIRE_SEARCH_ENGINE": os.environ.get("REPERTOIRE_SEARCH_ENGINE", "whoosh"),  # see search.engine
        # jobs (repertoire/jobs.py): a thread of the web process runs them unless "0" (default: "0" in production)
        "REPERTOIRE_JOBS_INLINE": os.environ.get("REPERTOIRE_JOBS_INLINE") or None,
        "REPERTOIRE_JOBS_CHUNK": int(os.environ.get("REPERTOIRE_JOBS_CHUNK") or 300),
        "REPERTOIRE_JOBS_STALE_SECONDS": float(os.environ.get("REPERTOIRE_JOBS_STALE_SECONDS") or 120),
        # a web worker prepares the index and the home page as it starts (web/warmup.py); default: in production
        "REPERTOIRE_WARM_INDEX": os.environ.get("REPERTOIRE_WARM_INDEX") or None,
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        # an import file of more rows is checked by a job (« vérification d'import »), its report read when done
        "IMPORT_BACKGROUND_ROWS": int(os.environ.get("REPERTOIRE_IMPORT_BACKGROUND_ROWS") or 300),
        # rows a chunk of that check (one transaction, one progress step): the duplicate search reads the
        # published actors a chunk's rows share blocks with, so larger chunks read them fewer times (20,000 rows
        # at 100,000 actors: 21.6 s CPU in chunks of 500, 14.9 s in chunks of 2,000)
        "IMPORT_CHECK_CHUNK": int(os.environ.get("REPERTOIRE_IMPORT_CHECK_CHUNK") or 2000),
        "UPLOAD_MAX_AGE": 3600,  # seconds a checked import file waits for its confirmation
        # a write of more actors than this leaves their duplicate pairs to compute after its commit
        "DUPLICATES_INLINE_LIMIT": 500,
        # the back-office pages count duplicate pairs, actors still to compare and (dashboard) actors to check this
        # far (beyond: « plus de 1 000 »): never every row of a 1,000,000-actor directory
        "BACK_OFFICE_COUNT_CAP": 1000,
        # seconds the import page spends, after its commit, comparing the imported actors (the rest: the command)
        "DUPLICATES_DRAIN_SECONDS": float(os.environ.get("REPERTOIRE_DUPLICATES_DRAIN_SECONDS") or 20),
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
        "REPORT_RATE_LIMIT": os.environ.get("REPERTOIRE_REPORT_RATE_LIMIT", "10 per hour"),
        # The operator's part of the legal pages (empty: a visible placeholder); see README.
        **{f"REPERTOIRE_LEGAL_{name}": os.environ.get(f"REPERTOIRE_LEGAL_{name}", "").strip()
           for name in LEGAL_SETTINGS},
        # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none).
        "REPERTOIRE_PROXIES": int(os.environ.get("REPERTOIRE_PROXIES") or 0),
    }


def generated_secret(instance_path: str) -> str:
    """The key kept in the instance folder, created (random, 0600) by the first process that needs it.

    Written to a temporary file then linked into place: two processes starting at
    once agree on one key, and a process killed half-way never leaves an empty key.
    """
    path = os.path.join(private_dir(instance_path), SECRET_FILE)
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.fsync(fd)
            os.close(fd)
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process won: use its key
        finally:
            os.unlink(temporary)
    with open(path, encoding="ascii") as f:
        return f.read().strip()


def trusted_hosts(config: dict) -> list[str]:
    """The hosts this instance answers: REPERTOIRE_TRUSTED_HOSTS, or the base URL's host (plus
    localhost in development)."""
    if config.get("REPERTOIRE_TRUSTED_HOSTS"):
        return [h.strip() for h in config["REPERTOIRE_TRUSTED_HOSTS"].split(",") if h.strip()]
    hosts = [urlsplit(config.get("REPERTOIRE_BASE_URL") or "").hostname or ""]
    if config.get("REPERTOIRE_ENV") != "production":
        hosts += LOCAL_HOSTS
    return [h for h in dict.fromkeys(hosts) if h]


def finish(config: dict, instance_path: str):
    """Settings that depend on others, once the environment and the caller's overrides are merged."""
    if config.get("TRUSTED_HOSTS") is None:
        config["TRUSTED_HOSTS"] = trusted_hosts(config)
    check_production(config)
    inline = config.get("REPERTOIRE_JOBS_INLINE")
    if inline is None:
        inline = config.get("REPERTOIRE_ENV") != "production"
    config["REPERTOIRE_JOBS_INLINE"] = _flag(inline)
    warm = config.get("REPERTOIRE_WARM_INDEX")
    if warm is None:  # in production, not under tests
        warm = config.get("REPERTOIRE_ENV") == "production" and not config.get("TESTING")
    config["REPERTOIRE_WARM_INDEX"] = _flag(warm)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = generated_secret(instance_path)


def _flag(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() not in ("0", "false", "no", "non", "")


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
