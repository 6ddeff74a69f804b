"""Languages: French first, English second.

The visitor's choice lives in the session (and on the account, for mails);
the JSON API always speaks French, as the contract's examples do.
The English catalogue is compiled from its ``.po`` file when the application
starts, so no generated ``.mo`` file is committed. French, the source language,
has no ``.po``: its catalogue holds only the plural messages, built from the
English one, so that ``ngettext`` follows the French rule (0 and 1 singular).
"""
import os
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import has_request_context, request, session
from flask_babel import get_locale

LANGUAGES = ("fr", "en")
DEFAULT = "fr"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """French unless the visitor chose another language (the API stays French)."""
    if not has_request_context() or request.blueprint == "api":
        return DEFAULT
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT


def current_language() -> str:
    """The language of the current request, or French outside a request."""
    try:
        return str(get_locale() or DEFAULT) if has_request_context() else DEFAULT
    except RuntimeError:
        return DEFAULT


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``messages.po`` whose ``.mo`` is missing or older; return what was written.

    Written to a temporary file then renamed, so several workers starting at
    once never read half a catalogue.
    """
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        targets = [(po_path.with_suffix(".mo"), lambda catalog: catalog)]
        if po_path.parent.parent.name != DEFAULT:
            targets.append((directory / DEFAULT / "LC_MESSAGES" / "messages.mo", _source_plurals))
        for mo_path, convert in targets:
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as f:
                catalog = convert(read_po(f))
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
            with os.fdopen(fd, "wb") as f:
                write_mo(f, catalog)
            os.replace(tmp, mo_path)
            written.append(mo_path)
    return written


def _source_plurals(translated: Catalog) -> Catalog:
    """The French catalogue: each plural message of ``translated`` translated to itself, French plural rule."""
    catalog = Catalog(locale=DEFAULT)
    for message in translated:
        if message.id and message.pluralizable:
            singular, plural = message.id[:2]
            catalog.add(message.id, string=(singular,) + (plural,) * (catalog.num_plurals - 1))
    return catalog
