"""Outgoing mail: SMTP when configured, otherwise a file per message in the outbox folder.

The outbox lets the demo and the tests follow the links a message carries.
"""
import os
import smtplib
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from flask_babel import force_locale


def outbox_dir() -> str:
    return current_app.config.get("MAIL_OUTBOX") or os.path.join(current_app.instance_path, "outbox")


def in_language_of(user):
    """Write a mail in the recipient's language: ``with in_language_of(user): send_mail(…)``."""
    return force_locale(getattr(user, "locale", None) or "fr")


def send_mail(to: str, subject: str, body: str):
    config = current_app.config
    message = EmailMessage()
    message["From"] = config.get("MAIL_SENDER", "Répertoire <ne-pas-repondre@repertoire.invalid>")
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="repertoire")
    message.set_content(body)
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 587)), timeout=20) as smtp:
            if config.get("MAIL_USE_TLS", True):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            smtp.send_message(message)
        return
    folder = outbox_dir()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{time.time_ns()}.eml")
    with open(path, "wb") as f:
        f.write(bytes(message))
    current_app.logger.info("Courriel pour %s écrit dans %s", to, path)
