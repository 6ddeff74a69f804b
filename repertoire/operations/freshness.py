"""Freshness: stale actors, owners' confirmations and reminders."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..auth import still_accurate_token
from ..mail import in_language_of, send_mail
from ..models import Actor, User, utcnow

from .actors import record_revision


# -- freshness -------------------------------------------------------------

STALE_AFTER = timedelta(days=365)
REMIND_EVERY = timedelta(days=30)


def _is_stale(now=None):
    limit = (now or utcnow()) - STALE_AFTER
    return (Actor.status == "published") & ((Actor.confirmed_at < limit) | Actor.confirmed_at.is_(None))


def stale_actors_query(now=None):
    """The select of published actors not confirmed for twelve months, the oldest first (never confirmed before
    all), then by id: the (status, confirmed_at) index serves the order, a page is read without sorting the
    hundreds of thousands of stale actors of a large directory (a name as tie-break cost 1.3 s at 1,000,000)."""
    return select(Actor).where(_is_stale(now)).order_by(Actor.confirmed_at.asc().nulls_first(), Actor.id)


def stale_actors(session, now=None):
    """Published actors not confirmed for twelve months, the oldest first."""
    return session.scalars(stale_actors_query(now))


def stale_count(session, now=None, cap: int | None = None) -> int:
    """How many published actors are not confirmed for twelve months (one COUNT on an index); with ``cap``,
    counted no further than ``cap`` + 1 (the dashboard: a third of a 1,000,000-actor directory is not walked)."""
    if cap is None:
        return session.scalar(select(func.count()).select_from(Actor).where(_is_stale(now)))
    return session.scalar(select(func.count()).select_from(
        select(Actor.id).where(_is_stale(now)).limit(cap + 1).subquery()))


def confirm_still_accurate(session, actor: Actor, user: User | None = None):
    actor.confirmed_at = utcnow()
    record_revision(session, actor, user, "confirm")


def reminders_due(session, now=None) -> tuple[list[Actor], int]:
    """Stale actors whose owner should get a reminder now, and how many stale ones have no owner."""
    now = now or utcnow()
    due, orphans = [], 0
    for actor in stale_actors(session, now):
        if actor.owner is None or not actor.owner.active:
            orphans += 1
        elif actor.reminded_at is None or actor.reminded_at < now - REMIND_EVERY:
            due.append(actor)
    return due, orphans


def remind_owners(session, dry_run: bool = False) -> tuple[list[Actor], int]:
    """Queue a "still accurate?" mail to each owner due one and note when; return them and the orphans count.

    The mails leave after the caller's commit (``unit_of_work``): a reminder not recorded is not sent.
    """
    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config["REPERTOIRE_BASE_URL"]):
        due, orphans = reminders_due(session)
        if dry_run:
            return due, orphans
        for actor in due:
            link = url_for("account.still_accurate", actor_id=actor.id, token=still_accurate_token(actor),
                           _external=True)
            with in_language_of(actor.owner):
                send_mail(actor.owner.email, _("Votre fiche « %(name)s » est-elle toujours exacte ?", name=actor.name),
                          _("Bonjour,\n\nLa fiche « %(name)s » n'a pas été confirmée depuis un an. Si elle est "
                            "toujours exacte, un clic suffit :\n\n%(link)s\n\nSinon, connectez-vous pour la "
                            "mettre à jour :\n\n%(space)s\n", name=actor.name, link=link,
                            space=url_for("account.space", _external=True)))
            actor.reminded_at = utcnow()
        session.flush()
    return due, orphans
