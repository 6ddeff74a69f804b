"""Helpers to use the site like a browser: forms with their CSRF token, the mail outbox."""
import html
import re
from email import message_from_bytes, policy
from pathlib import Path


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def submit(client, url, data, form_url=None, **kwargs):
    """GET the page holding the form, then POST ``data`` with its CSRF token (and version, as a browser would)."""
    page = client.get(form_url or url).get_data(as_text=True)
    hidden = {"csrf_token": csrf_token(page)}
    if version_in(page) is not None:
        hidden["version"] = version_in(page)
    return client.post(url, data={**hidden, **data}, **kwargs)


def version_in(page: str) -> str | None:
    """The version an edit form was opened on (its hidden field), if it has one."""
    match = re.search(r'<input[^>]*name="version"[^>]*value="(\d*)"', page)
    return match.group(1) if match else None


def outbox(app) -> list:
    folder = Path(app.config["MAIL_OUTBOX"])
    if not folder.exists():
        return []
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]


def last_mail(app, to: str):
    mails = [m for m in outbox(app) if m["To"] == to]
    assert mails, f"no mail for {to}"
    return mails[-1]


def link_in(mail) -> str:
    body = mail.get_payload(decode=True).decode("utf-8")
    match = re.search(r"https?://[^\s]+", body)
    assert match, body
    return match.group(0).replace("http://localhost", "")


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


ACTOR_FORM = {
    "name": "Association Puits du Sahel", "acronym": "APS", "kind": "association", "town": "Caen",
    "postcode": "14000", "department": "14", "countries-0": "Mali", "countries-1": "Niger",
    "countries-2": "", "intervention_towns-0": "Kayes", "intervention_towns-1": "", "intervention_towns-2": "",
    "domains": ["eau", "sante"], "activities": ["projets"], "description": "Forages au Mali et au Niger.",
    "website": "puits-sahel.example.org", "email": "contact@puits-sahel.example.org",
    "phone": "02 31 12 34 56", "submit": "1",
}
