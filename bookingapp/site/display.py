"""How times, lengths and prices read on customer pages: the reader's language (Babel),
times on the game's own clock with its zone's abbreviation."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from flask_babel import get_locale, gettext, ngettext

from bookingapp.services.money import to_major
from bookingapp.site import bp

# One pattern per language and use; a language without its own reads like English.
PATTERNS = {
    "en": {"when": "EEE d MMM y, HH:mm", "time": "HH:mm", "day": "EEEE d MMMM", "date": "d MMMM", "short": "EEE d"},
    "de": {"when": "EEE, d. MMM y, HH:mm", "time": "HH:mm", "day": "EEEE, d. MMMM", "date": "d. MMMM", "short": "EEE d."},
}


def _locale() -> str:
    locale = get_locale()
    return str(locale.language) if locale is not None and locale.language in PATTERNS else "en"


def _pattern(use: str) -> str:
    return PATTERNS[_locale()][use]


def in_zone(value: datetime, zone: str) -> datetime:
    """The same instant on ``zone``'s clock."""
    return value.astimezone(ZoneInfo(zone))


@bp.app_template_filter("when")
def when(value: datetime, zone: str | None = None) -> str:
    """ "Wed 13 Jan 2027, 10:00 GMT" (German: "Mi., 13. Jan. 2027, 10:00 GMT") in ``zone`` or the value's own."""
    local = in_zone(value, zone) if zone else value
    return f"{format_datetime(local, _pattern('when'), tzinfo=local.tzinfo, locale=_locale())} {local.tzname()}"


@bp.app_template_filter("clock_time")
def clock_time(value: datetime) -> str:
    """ "10:00 GMT" for a local (zone-aware) datetime."""
    return f"{format_datetime(value, _pattern('time'), tzinfo=value.tzinfo, locale=_locale())} {value.tzname()}"


@bp.app_template_filter("day_label")
def day_label(day: date, today: date) -> str:
    """ "Today, 13 January", "Tomorrow, 14 January" or "Friday 15 January" (in the reader's language)."""
    offset = (day - today).days
    if offset in (0, 1):
        name = gettext("Today") if offset == 0 else gettext("Tomorrow")
        return f"{name}, {format_date(day, _pattern('date'), locale=_locale())}"
    return format_date(day, _pattern("day"), locale=_locale())


@bp.app_template_filter("short_day")
def short_day(day: date) -> str:
    """ "Wed 13" (German "Mi. 13.")."""
    return format_date(day, _pattern("short"), locale=_locale())


@bp.app_template_filter("duration")
def duration(minutes: int) -> str:
    """ "90 minutes", "1 hour", "2 hours"."""
    if minutes % 60 == 0:
        return ngettext("%(num)d hour", "%(num)d hours", minutes // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


@bp.app_template_filter("money")
def money(minor: int | None, currency: str | None) -> str:
    """An amount in minor units as the reader writes it: "€25.00", "25,00 €"; "" when there is none."""
    if minor is None or not currency:
        return ""
    return format_currency(to_major(minor, currency), currency, locale=_locale())


@bp.app_template_filter("price_label")
def price_label(game) -> str:
    """ "€25.00 per player", "€90.00 per session", or "Free"."""
    if not game.price:
        return gettext("Free")
    amount = money(game.price, game.currency)
    if game.price_per.value == "player":
        return gettext("%(amount)s per player", amount=amount)
    return gettext("%(amount)s per session", amount=amount)
