"""Web concerns shared by every blueprint: errors, templating, responses, the unit of work."""
from .responses import json_error, local_path

__all__ = ["init_app", "json_error", "local_path"]


from . import warmup  # noqa: E402  (started last by the app factory)


def init_app(app):
    from . import errors, memory, templating, transactions
    transactions.init_app(app)
    memory.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
