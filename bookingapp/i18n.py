"""Languages: English and German, chosen from the switcher's cookie or Accept-Language.

The catalogs live in ``bookingapp/translations`` (``make messages`` extracts and
updates them, ``make compile-messages`` compiles them). JSON error messages stay English.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask_babel import get_locale

from bookingapp.extensions import babel

LANGUAGES = {"en": "English", "de": "Deutsch"}
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "lang"
LOCALE_COOKIE_DAYS = 365
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """The switcher's remembered choice, else the best match for Accept-Language, else English."""
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LOCALE


def init_i18n(app: Flask) -> None:
    """Attach Flask-Babel with this app's catalogs and locale rule."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(_forget_locale)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, get_locale=get_locale)


def _forget_locale() -> None:
    # Flask-Babel keeps the locale on ``g``; a request inside an app context that is
    # already pushed (tests, CLI-made requests) must not inherit the previous one's.
    g.pop("_flask_babel", None)


def safe_next(target: object) -> str:
    """A local path to return to after switching language; anything else goes home."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target
