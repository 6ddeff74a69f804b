"""French first, English complete: catalogue, templates, switcher, taxonomy, countries, mails."""
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import Environment

from conftest import add_actor, add_user, login
from web import ACTOR_FORM, last_mail, link_in, submit, text

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "repertoire" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def extracted_messages() -> dict:
    """Every message marked for translation in the code and the templates, as Babel finds it."""
    method_map = [("repertoire/**.py", "python"), ("repertoire/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords=keywords):
        if "/.venv/" in filename or filename.startswith(".venv"):
            continue
        key = message[0] if isinstance(message, tuple) else message
        found.setdefault(key, (message, f"{filename}:{lineno}"))
    return found


def test_every_message_has_an_english_translation():
    with PO_FILE.open("rb") as f:
        catalog = read_po(f)
    messages = extracted_messages()
    assert len(messages) > 400  # the extraction really ran over code and templates
    problems = []
    for key, (message, where) in messages.items():
        entry = catalog.get(message[0] if isinstance(message, tuple) else message)
        if entry is None:
            problems.append(f"{where}: not in messages.po: {key!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings) or entry.fuzzy:
            problems.append(f"{where}: untranslated or fuzzy: {key!r}")
        for string in strings:
            if set(PLACEHOLDER.findall(key)) != set(PLACEHOLDER.findall(string)):
                problems.append(f"{where}: placeholders differ: {key!r} -> {string!r}")
    assert problems == [], "\n".join(problems) + "\n(run `make translations`, then translate)"


# -- no text left outside the catalogue ------------------------------------

HUMAN_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}
SAME_IN_EVERY_LANGUAGE = {"CSV", "JSON", "API", "ISO", "OK"}
WORD = re.compile(r"[^\W\d_]{2,}")
_jinja = Environment(extensions=["jinja2.ext.i18n"])


class _LiteralText(HTMLParser):
    """Words written straight into a template, outside ``{{ _() }}``.

    Text in an element with its own ``lang`` (the language switcher's
    « English » / « Français ») and code shown to copy (<textarea>) are meant as is.
    """

    SKIPPED = {"textarea", "code", "script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.stack = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in ("input", "meta", "link", "br", "img", "hr"):
            self.stack.append((tag, "lang" in attrs or tag in self.SKIPPED))
        for name in HUMAN_ATTRIBUTES & set(attrs):
            self.check(attrs[name] or "")

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not any(skipped for _, skipped in self.stack):
            self.check(data)

    def check(self, value):
        if [w for w in WORD.findall(value) if w not in SAME_IN_EVERY_LANGUAGE]:
            self.found.append(" ".join(value.replace("\x00", " ").split()))


def literal_text(source: str) -> list[str]:
    parts = [value if kind == "data" else "\x00" for _, kind, value in _jinja.lex(source)]
    parser = _LiteralText()
    parser.feed(re.sub("\x00+", "\x00", "".join(parts)))
    return parser.found


def test_the_checker_finds_text_left_in_a_template():
    assert literal_text('<p>{{ _("Bonjour") }}</p><p title="Aide">Texte oublié {{ x }}</p>') == ["Aide", "Texte oublié"]
    assert literal_text('<button lang="en">English</button><textarea>&lt;iframe title="x"&gt;</textarea>') == []


def test_no_template_holds_untranslated_text():
    found = {str(path.relative_to(ROOT)): literal_text(path.read_text(encoding="utf-8"))
             for path in sorted((ROOT / "repertoire" / "templates").rglob("*.html"))}
    assert {path: words for path, words in found.items() if words} == {}


# -- the site in English ---------------------------------------------------

def choose(client, lang, next_url="/"):
    """Follow the switcher's link, as shown on the page ``next_url``."""
    page = client.get(next_url).get_data(as_text=True)
    link = re.search(rf'href="(/langue/{lang}[^"]*)"', page).group(1).replace("&amp;", "&")
    return client.get(link)


def test_switcher_is_remembered_and_french_is_the_default(app, client):
    add_actor(app, name="Amitiés Sahel", countries="SN", domains="eau;sante", activities="projets",
              kind="collectivite")
    home = client.get("/")
    assert '<html lang="fr">' in home.get_data(as_text=True) and "Rechercher un acteur" in text(home)
    switched = choose(client, "en", "/?country=SN")
    assert switched.status_code == 303 and switched.headers["Location"] == "/?country=SN"
    page = client.get("/?country=SN")
    body = text(page)
    assert '<html lang="en">' in page.get_data(as_text=True)
    assert "Find an actor of international solidarity" in body and "1 actor found" in body
    # taxonomy labels and country names too
    assert "Senegal" in body and "Sénégal" not in body.replace("Mali, Senegal, Ségou", "")
    assert "Water and sanitation" in body and "Local authority" in body and "Development projects" in body
    # remembered on the next pages, including forms and their messages
    login_page = text(client.get("/compte/connexion"))
    assert "Password" in login_page and "Mot de passe" not in login_page
    refused = submit(client, "/compte/connexion", {"email": "x@example.org", "password": "faux"})
    assert "Wrong email address or password." in text(refused)
    actor_page = text(client.get("/acteurs/amities-sahel"))
    assert "Places of intervention" in actor_page and "Senegal" in actor_page
    assert "Water and sanitation" in actor_page
    # back to French
    choose(client, "fr")
    assert "Rechercher un acteur" in text(client.get("/"))


def test_switcher_refuses_other_sites_and_unknown_languages(client):
    response = choose(client, "en", "/")
    away = client.get("/langue/en?next=https://evil.example/")
    assert away.headers["Location"] == "/"
    assert client.get("/langue/en?next=//evil.example/").headers["Location"] == "/"
    client.get("/langue/xx?next=/")
    assert response.status_code == 303 and '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_api_stays_french_whatever_the_session_says(app, client):
    add_actor(app, name="Eau Vive Caen", countries="SN", domains="eau", activities="projets")
    choose(client, "en")
    facets = client.get("/api/actors").get_json()["facets"]
    assert {"value": "SN", "label": "Sénégal", "count": 1} in facets["country"]
    assert facets["domain"][0]["label"] == "Eau et assainissement"
    assert "Valeur inconnue" in client.get("/api/actors?domain=nope").get_json()["error"]


def test_coordinators_give_english_labels(app, coordinator_client):
    add_actor(app, name="Jardins partagés", domains="agriculture")
    page = coordinator_client.get("/moderation/taxonomie").get_data(as_text=True)
    term_id = re.search(r'id="label-domain-(\d+)" name="label" value="Agriculture et sécurité alimentaire"',
                        page).group(1)
    submit(coordinator_client, f"/moderation/taxonomie/domain/{term_id}/renommer",
           {"label": "Agriculture et sécurité alimentaire", "label_en": "Farming and food"},
           form_url="/moderation/taxonomie")
    submit(coordinator_client, "/moderation/taxonomie/domain/ajouter",
           {"label": "Numérique", "label_en": "Digital", "slug": ""}, form_url="/moderation/taxonomie")
    visitor = app.test_client()
    choose(visitor, "en")
    body = text(visitor.get("/"))
    assert "Farming and food" in body and "Agriculture and food security" not in body
    form = text(coordinator_client.get("/moderation/taxonomie"))
    assert "Numérique" in form
    choose(visitor, "fr")
    assert "Agriculture et sécurité alimentaire" in text(visitor.get("/"))


def test_mails_are_written_in_the_members_language(app, client, coordinator_client):
    choose(client, "en", "/compte/inscription")
    password = "a long pass phrase"
    submit(client, "/compte/inscription", {"email": "english@example.org", "password": password,
                                           "confirm": password})
    mail = last_mail(app, "english@example.org")
    assert mail["Subject"] == "Confirm your address — Répertoire"
    assert "To activate your account" in mail.get_content()
    client.get(link_in(mail))
    login(client, "english@example.org", password)  # a confirmation link opens no session (issue 12)
    submitted = submit(client, "/mon-espace/inscrire", {**ACTOR_FORM, "website": "not a site"})
    assert "invalid website address" in text(submitted) and "Puits du Sahel" in submitted.get_data(as_text=True)
    submit(client, "/mon-espace/inscrire", ACTOR_FORM)
    # the coordinator works in French; the member is told in English
    queue = coordinator_client.get("/moderation/").get_data(as_text=True)
    request_id = re.search(r"/moderation/demandes/(\d+)", queue).group(1)
    submit(coordinator_client, f"/moderation/demandes/{request_id}/accepter", {},
           form_url=f"/moderation/demandes/{request_id}")
    decision = last_mail(app, "english@example.org")
    assert decision["Subject"] == "Request approved — Répertoire"
    assert 'Your request about the registration of "Association Puits du Sahel" has been approved.' \
        in decision.get_content()


def test_a_member_who_switches_gets_later_mails_in_that_language(app):
    add_user(app, "bilingue@example.org")
    client = app.test_client()
    login(client, "bilingue@example.org")
    choose(client, "en", "/mon-espace")
    client = app.test_client()  # another day, another browser
    submit(client, "/compte/mot-de-passe-oublie", {"email": "bilingue@example.org"})
    assert last_mail(app, "bilingue@example.org")["Subject"] == "New password — Répertoire"


def test_reminders_are_written_in_the_owners_language(app, runner):
    from datetime import timedelta

    from sqlalchemy import update

    from repertoire.extensions import db
    from repertoire.models import Actor, User, utcnow
    owner = add_user(app, "owner-en@example.org")
    actor = add_actor(app, name="Old Friends of Kayes")
    with app.app_context():
        db.session.get(User, owner).locale = "en"
        db.session.execute(update(Actor).where(Actor.id == actor).values(
            owner_id=owner, confirmed_at=utcnow() - timedelta(days=400)))
        db.session.commit()
    assert runner.invoke(args=["remind"]).exit_code == 0
    mail = last_mail(app, "owner-en@example.org")
    assert mail["Subject"] == 'Is your entry "Old Friends of Kayes" still accurate?'
    assert "one click is enough" in mail.get_content()
