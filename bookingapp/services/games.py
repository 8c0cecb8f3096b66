"""Games: validate what staff (forms, API, CLI) send, create games."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from babel.numbers import list_currencies

from bookingapp.core import hours
from bookingapp.errors import SlugTaken, ValidationError
from bookingapp.extensions import now as clock_now
from bookingapp.models import BookingMode, Game, PricePer
from bookingapp.services import audit, webhooks
from bookingapp.services.audit import Actor

# A tuple, not a set: a JSON list or object sent as the mode must be refused, not raise TypeError.
BOOKING_MODE_VALUES = tuple(m.value for m in BookingMode)
PRICE_PER_VALUES = tuple(p.value for p in PricePer)
CURRENCIES = frozenset(list_currencies())  # ISO 4217 codes Babel can format
MAX_LOCATION, MAX_INSTRUCTIONS = 200, 2000
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_CLOSURES = 1000
CLOSURE_YEARS = (2000, 2199)  # a typo like 0225-12-25 is refused, not stored

# field: (lowest, highest) for the whole-number settings of a game
INT_LIMITS = {
    "slot_minutes": (5, hours.MAX_SLOT_MINUTES),
    "gap_minutes": (0, 720),
    "capacity": (1, 500),
    "days_ahead": (1, 366),
    "min_notice_minutes": (0, 60 * 24 * 30),
    "cancel_cutoff_minutes": (0, 60 * 24 * 30),
    "min_party": (1, 500),
    "price": (0, 100_000_000),  # minor units: up to a million euros
    "reminder_hours": (0, 720),  # None: BOOKING_REMINDER_HOURS; 0: no reminder
}
NULLABLE = ("days_ahead", "reminder_hours")  # None means "the site's setting"
DEFAULTS = {
    "description": "",
    "gap_minutes": 0,
    "days_ahead": None,
    "reminder_hours": None,
    "min_notice_minutes": 0,
    "cancel_cutoff_minutes": 0,
    "booking_mode": BookingMode.SHARED.value,
    "min_party": 1,
    "weekly_hours": {},
    "closures": [],
    "is_active": True,
    "price": 0,
    "currency": "EUR",
    "price_per": PricePer.SESSION.value,
    "location": "",
    "instructions": "",
}
FIELDS = (
    "name", "slug", "description", "timezone", "slot_minutes", "gap_minutes", "capacity",
    "days_ahead", "min_notice_minutes", "cancel_cutoff_minutes", "booking_mode", "min_party", "weekly_hours",
    "closures", "is_active", "price", "currency", "price_per", "location", "instructions", "reminder_hours",
)


def slugify(name: str) -> str:
    """A URL slug from a game name: "Escape Room #1" -> "escape-room-1"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80].strip("-")


def validate_game(data: Mapping[str, Any], *, current: Game | None = None) -> dict[str, Any]:
    """Check game fields; return them cleaned (with defaults when creating).

    With ``current`` only the given fields change and the rest come from the game.
    Raises ValidationError naming every bad field.
    """
    problems: dict[str, str] = {}
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        problems["_"] = f"unknown field(s): {', '.join(map(str, unknown))[:200]}"
    merged = {**(_fields_of(current) if current else DEFAULTS), **{k: v for k, v in data.items() if k in FIELDS}}
    clean: dict[str, Any] = {}
    _check_text(merged, clean, problems)
    _check_price_and_venue(merged, clean, problems)
    _check_numbers(merged, clean, problems)
    _check_schedule(merged, clean, problems)
    if problems:
        raise ValidationError(problems)
    return clean


def _fields_of(game: Game) -> dict[str, Any]:
    values = {name: getattr(game, name) for name in FIELDS}
    values["booking_mode"] = game.booking_mode.value
    values["price_per"] = game.price_per.value
    return values


def _check_text(data, clean, problems) -> None:
    _check_name_and_slug(data, clean, problems)
    description = data.get("description") or ""
    if not isinstance(description, str) or len(description) > 2000:
        problems["description"] = "must be text of at most 2000 characters"
    elif _has_control(description, allowed="\n\r\t"):
        problems["description"] = "must not contain control characters other than line breaks and tabs"
    else:
        clean["description"] = description.strip()
    mode = data.get("booking_mode")
    if mode not in BOOKING_MODE_VALUES:
        problems["booking_mode"] = "must be 'shared' or 'private'"
    else:
        clean["booking_mode"] = BookingMode(mode)
    if not isinstance(data.get("is_active"), bool):
        problems["is_active"] = "must be true or false"
    else:
        clean["is_active"] = data["is_active"]


def _check_price_and_venue(data, clean, problems) -> None:
    currency = data.get("currency")
    if currency not in CURRENCIES:
        problems["currency"] = "must be an ISO 4217 code such as EUR, GBP or USD"
    else:
        clean["currency"] = currency
    per = data.get("price_per")
    if per not in PRICE_PER_VALUES:
        problems["price_per"] = "must be 'player' or 'session'"
    else:
        clean["price_per"] = PricePer(per)
    for name, limit, allowed in (("location", MAX_LOCATION, ""), ("instructions", MAX_INSTRUCTIONS, "\n\r\t")):
        value = data.get(name) or ""
        if not isinstance(value, str) or len(value) > limit:
            problems[name] = f"must be text of at most {limit} characters"
        elif _has_control(value, allowed=allowed):
            problems[name] = "must not contain control characters" + (" other than line breaks" if allowed else "")
        else:
            clean[name] = value.strip()


def _check_name_and_slug(data, clean, problems) -> None:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        problems["name"] = "is required"
    elif len(name.strip()) > 120:
        problems["name"] = "must be at most 120 characters"
    elif _has_control(name.strip()):
        problems["name"] = "must not contain control characters"
    else:
        clean["name"] = name.strip()
    slug = data.get("slug") or (slugify(clean["name"]) if "name" in clean else None)
    if not isinstance(slug, str) or not SLUG_PATTERN.fullmatch(slug) or len(slug) > 80:
        problems["slug"] = "must be lowercase letters, digits and single dashes (at most 80)"
    else:
        clean["slug"] = slug


def _has_control(text: str, allowed: str = "") -> bool:
    # PostgreSQL refuses NUL in text, no other control character belongs on a page, and a
    # lone surrogate (which JSON can carry) cannot even be encoded to be stored.
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


def _check_numbers(data, clean, problems) -> None:
    for name, (low, high) in INT_LIMITS.items():
        value = data.get(name)
        if value is None and name in NULLABLE:
            clean[name] = None
        elif isinstance(value, bool) or not isinstance(value, int):
            problems[name] = "must be a whole number"
        elif not low <= value <= high:
            problems[name] = f"must be between {low} and {high}"
        else:
            clean[name] = value
    if "min_party" in clean and "capacity" in clean and clean["min_party"] > clean["capacity"]:
        problems["min_party"] = "cannot be more than the capacity"


def _check_schedule(data, clean, problems) -> None:
    try:
        if data.get("timezone") in (None, ""):
            raise hours.ScheduleError({"timezone": "is required (an IANA name such as Europe/London)"})
        hours.validate_timezone(data.get("timezone"))
        clean["timezone"] = data["timezone"]
    except hours.ScheduleError as exc:
        problems.update(exc.problems)
    try:
        week = hours.parse_weekly_hours(data.get("weekly_hours"))
    except hours.ScheduleError as exc:
        problems.update(exc.problems)
    else:
        if "slot_minutes" in clean:
            problems.update(hours.schedule_problems(week, clean["slot_minutes"], clean.get("gap_minutes", 0)))
        clean["weekly_hours"] = hours.weekly_hours_to_json(week)
    closures = data.get("closures") or []
    try:
        if not isinstance(closures, (list, tuple)) or len(closures) > MAX_CLOSURES:
            raise ValueError
        days = {date.fromisoformat(d) for d in closures}
    except (TypeError, ValueError):
        problems["closures"] = f"must be a list of dates like 2027-12-25 (at most {MAX_CLOSURES})"
        return
    if any(not CLOSURE_YEARS[0] <= d.year <= CLOSURE_YEARS[1] for d in days):
        problems["closures"] = f"dates must fall in the years {CLOSURE_YEARS[0]} to {CLOSURE_YEARS[1]}"
    else:
        clean["closures"] = sorted(d.isoformat() for d in days)


def create_game(session: Session, data: Mapping[str, Any], *, actor: Actor | None = None, now: datetime | None = None) -> Game:
    """Validate and insert a game; a taken slug raises SlugTaken. With ``actor`` it is audited."""
    fields = validate_game(data)
    if session.scalar(select(Game.id).where(Game.slug == fields["slug"])) is not None:
        raise SlugTaken(f"the slug {fields['slug']!r} is taken", {"slug": "is taken"})
    game = Game(**fields)
    session.add(game)
    now = now or clock_now()
    try:
        session.flush()
        if actor is not None:
            audit.record(session, actor, audit.Change("game.create", "game", str(game.id), after=game_facts(game)), now)
        webhooks.game_event(session, webhooks.GAME_CREATED, game, now)
        session.commit()
    except IntegrityError:  # a concurrent create took the slug first
        session.rollback()
        raise SlugTaken(f"the slug {fields['slug']!r} is taken", {"slug": "is taken"}) from None
    except BaseException:
        session.rollback()
        raise
    return game


def game_facts(game: Game) -> dict[str, Any]:
    """A game's settings as JSON-ready values (the audit log's before and after)."""
    values = _fields_of(game)
    return {**values, "closures": list(values["closures"] or []), "weekly_hours": dict(values["weekly_hours"] or {})}


def active_zones(connection: Connection, default_zone: str) -> set[str]:
    """The time zones of active games (the default zone when there are none)."""
    zones = set(connection.scalars(select(Game.timezone).where(Game.is_active.is_(True)).distinct()))
    return zones or {default_zone}
