"""Languages: French first, English second.

The visitor's choice lives in the session (and on the account, for mails);
the JSON API always speaks French, as the contract's examples do.
The English catalogue is compiled from its ``.po`` file when the application
starts, so no generated ``.mo`` file is committed.
"""
import os
import tempfile
from pathlib import Path

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
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as f:
            catalog = read_po(f)
        fd, tmp = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, mo_path)
        written.append(mo_path)
    return written
