"""The unit of work: a request (or a command) commits once at its end, then sends the mails it queued.

Views and operations only flush. A response below 400 commits; an error answer, or a failed commit, rolls back
and drops the queued mails, so no one is told about a change that did not happen.
"""
from contextlib import contextmanager

from ..extensions import db
from ..mail import drop_queue, flush_queue, open_queue


def begin():
    open_queue()


def finish(response):
    """After the view: commit if it succeeded, then send its mails; roll back otherwise."""
    if response.status_code >= 400:
        db.session.rollback()
        drop_queue()
        return response
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        drop_queue()
        raise  # answered by the 500 handler, whose response comes back here and rolls back
    flush_queue()
    return response


def discard(exc=None):
    """At teardown after an exception no handler answered: its mails are forgotten."""
    if exc is not None:
        drop_queue()


@contextmanager
def unit_of_work():
    """For commands: ``with unit_of_work(): …`` commits once at the end, then sends the mails."""
    open_queue()
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        drop_queue()
        raise
    flush_queue()


def init_app(app):
    app.before_request(begin)
    app.after_request(finish)
    app.teardown_request(discard)
