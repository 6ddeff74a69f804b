"""Répertoire: a directory of the actors of international solidarity and decentralised cooperation."""
from pathlib import Path

from flask import Flask, request

from . import config as config_module
from .extensions import babel, csrf, db, login_manager
from .i18n import compile_catalogues, select_locale

TEMPLATES = Path(__file__).resolve().parent / "templates"


def create_app(config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Application factory; ``config`` overrides what the environment says."""
    app = Flask(__name__, template_folder=str(TEMPLATES), instance_relative_config=True,
                instance_path=instance_path)
    app.config.from_mapping(config_module.from_environment(app.instance_path))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    config_module.finish(app.config, app.instance_path)
    app.json.sort_keys = False  # keep the contract's order (total, page, …, results, facets)

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    compile_catalogues()
    babel.init_app(app, locale_selector=select_locale)

    from . import database, jobs, search  # noqa: F401  (database: SQLite settings for several processes)
    search.init_app(app)

    from .auth import init_auth
    init_auth(app)

    from .account import bp as account_bp
    from .api import bp as api_bp
    from .moderation import bp as moderation_bp
    from .public import bp as public_bp
    app.register_blueprint(public_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    csrf.exempt(api_bp)

    from .cli import register_commands
    register_commands(app)

    from . import web
    web.init_app(app)

    @app.after_request
    def security_headers(response):
        """No inline script anywhere; only the embeddable search may be framed by other sites."""
        embed = request.path.startswith("/embed")
        response.headers["Content-Security-Policy"] = CSP + ("frame-ancestors *" if embed else "frame-ancestors 'none'")
        if not embed:
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response

    web.warmup.init_app(app)  # last: the app complete
    return app


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; ")
