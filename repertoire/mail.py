"""Outgoing mail: SMTP when configured, otherwise a file per message in the outbox folder.

Mails are queued while a unit of work is open (every request, and commands that
use ``web.transactions.unit_of_work``) and leave only after its commit; a rollback drops them.
The outbox lets the demo and the tests follow the links a message carries; it
holds reset links, so it is private (0700, files 0600). SMTP deliveries happen
on a background thread after the request (commands deliver at once): whether a mail leaves (an address
is known or not) does not change how long the request takes.
Links in mails are built from REPERTOIRE_BASE_URL, never from the request's Host.
"""
import os
import queue
import smtplib
import threading
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from flask import current_app, g, has_app_context, has_request_context
from flask_babel import force_locale

from .files import private_dir, private_open


def outbox_dir() -> str:
    return current_app.config.get("MAIL_OUTBOX") or os.path.join(current_app.instance_path, "outbox")


def external_url(endpoint: str, **values) -> str:
    """An absolute link to ``endpoint`` on the site's public address (REPERTOIRE_BASE_URL)."""
    base = urlsplit(current_app.config["REPERTOIRE_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def in_language_of(user):
    """Write a mail in the recipient's language: ``with in_language_of(user): send_mail(…)``."""
    return force_locale(getattr(user, "locale", None) or "fr")


def send_mail(to: str, subject: str, body: str):
    """Write the message now (in the current language); send it after the commit if a unit of work is open."""
    message = compose(to, subject, body)
    queued = g.get("repertoire_mails") if has_app_context() else None
    if queued is None:
        post(message)
    else:
        queued.append(message)


def open_queue():
    """Start holding mails back until ``flush_queue`` (after the commit) or ``drop_queue`` (rollback)."""
    g.repertoire_mails = []


def flush_queue():
    """Send what the unit of work queued; it has committed."""
    for message in g.pop("repertoire_mails", None) or ():
        post(message)


def drop_queue() -> int:
    """Forget what the unit of work queued (it rolled back); return how many were dropped."""
    return len(g.pop("repertoire_mails", None) or ())


def compose(to: str, subject: str, body: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config.get("MAIL_SENDER", "Répertoire <ne-pas-repondre@repertoire.invalid>")
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="repertoire")
    message.set_content(body)
    return message


def post(message: EmailMessage):
    """Hand the message on: to the SMTP thread (requests), to the server now (commands), or to the outbox."""
    config = current_app.config
    to = message["To"]
    if config.get("MAIL_SERVER"):
        if has_request_context():
            _sender().put((current_app._get_current_object(), message))
        else:  # a command: deliver before it exits
            deliver(current_app, message)
        return
    path = os.path.join(private_dir(outbox_dir()), f"{time.time_ns()}.eml")
    with private_open(path, "wb") as f:
        f.write(bytes(message))
    current_app.logger.info("Courriel pour %s écrit dans %s", to, path)


def deliver(app, message: EmailMessage):
    """Hand one message to the SMTP server."""
    config = app.config
    with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 587)), timeout=20) as smtp:
        if config.get("MAIL_USE_TLS", True):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        smtp.send_message(message)


_queue: queue.Queue | None = None
_queue_lock = threading.Lock()


def _sender() -> queue.Queue:
    """This process's delivery queue, and the thread that empties it (started on first use)."""
    global _queue
    with _queue_lock:
        if _queue is None:
            _queue = queue.Queue()
            threading.Thread(target=_deliver_forever, args=(_queue,), name="repertoire-mail", daemon=True).start()
        return _queue


def _deliver_forever(messages: queue.Queue):
    while True:
        app, message = messages.get()
        try:
            deliver(app, message)
        except Exception:  # noqa: BLE001 — one failed delivery must not stop the others
            app.logger.exception("Courriel pour %s non envoyé", message["To"])
        finally:
            messages.task_done()
