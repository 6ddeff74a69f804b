"""Mails that tell network coordinators of new submissions and members of coordinators' edits.

Mails are queued by ``mail.send_mail`` and leave after the commit of the request or command.
"""
from flask_babel import gettext as _, ngettext

from .mail import external_url, in_language_of, send_mail
from .models import Actor, ChangeRequest, User
from .operations import networks


def tell_networks(session, request: ChangeRequest):
    """A mail to each coordinator (who chose a mail each) of the networks whose scope holds the submission."""
    actor = request.actor
    for user in networks.coordinators_of(session, networks.networks_holding(session, actor), mode="each"):
        with in_language_of(user):
            send_mail(user.email, _("Nouvelle fiche à valider : %(name)s — Répertoire", name=actor.name), _(
                "Bonjour,\n\nUne nouvelle fiche attend votre validation : « %(name)s » (%(town)s).\n\n"
                "%(link)s\n\nVous pouvez choisir de recevoir plutôt un résumé quotidien depuis votre espace :\n"
                "%(space)s\n", name=actor.name, town=actor.town,
                link=external_url("moderation.request_detail", request_id=request.id),
                space=external_url("account.space")))


def tell_networks_of_join(session, request: ChangeRequest | None, before: list[int]):
    """A member's change asks to join networks it did not ask to join before: a mail to each coordinator (who
    chose a mail each) of those networks, and of the networks whose scope already holds the entry."""
    asked = networks.asked_networks(session, request)
    new = sorted(set(asked) - set(before))
    if not new:
        return
    actor = request.actor
    concerned = sorted(set(new) | set(networks.networks_holding(session, actor)))
    for user in networks.coordinators_of(session, concerned, mode="each"):
        with in_language_of(user):
            send_mail(user.email, _("Demande d'adhésion à valider : %(name)s — Répertoire", name=actor.name), _(
                "Bonjour,\n\n« %(name)s » (%(town)s) demande à rejoindre un réseau, par une proposition de "
                "modification de sa fiche qui concerne un réseau que vous coordonnez.\n\n%(link)s\n\nVous pouvez choisir de "
                "recevoir plutôt un résumé quotidien depuis votre espace :\n%(space)s\n", name=actor.name,
                town=actor.town, link=external_url("moderation.request_detail", request_id=request.id),
                space=external_url("account.space")))


def tell_owner_of_edit(actor: Actor, editor: User):
    """The member an entry is attached to learns that a coordinator changed it."""
    owner = actor.owner
    if owner is None or owner.id == editor.id or not owner.active:
        return
    with in_language_of(owner):
        send_mail(owner.email, _("Votre fiche « %(name)s » a été modifiée — Répertoire", name=actor.name), _(
            "Bonjour,\n\nUn coordinateur du réseau a modifié la fiche « %(name)s », qui vous est rattachée. "
            "Vous pouvez la relire depuis votre espace :\n\n%(link)s\n", name=actor.name,
            link=external_url("account.space")))


def send_digest(session, user: User) -> int:
    """Mail ``user`` the new submissions of their scope since their last digest; return how many.

    The watermark moves in the same transaction as the mail is queued; the mail leaves after the commit,
    so a digest run twice, or killed half-way, never mails the same submission twice."""
    through, newest, requests = networks.digest_due(session, user)
    if newest <= through or not networks.advance_digest(session, user, through, newest):
        return 0
    if not requests:
        return 0
    with in_language_of(user):
        lines = "".join(f"- {r.actor.name} ({r.actor.town}) : "
                        f"{external_url('moderation.request_detail', request_id=r.id)}\n" for r in requests)
        send_mail(user.email, ngettext("%(num)d nouvelle fiche à valider — Répertoire",
                                       "%(num)d nouvelles fiches à valider — Répertoire", len(requests)),
                  _("Bonjour,\n\nVoici les fiches arrivées depuis votre dernier résumé :\n\n%(lines)s\n"
                    "File de modération : %(queue)s\n", lines=lines, queue=external_url("moderation.queue")))
    return len(requests)
