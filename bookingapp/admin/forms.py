"""Staff forms. They only carry text and the CSRF token: every rule about a game lives in
``games.service.validate_game``, shared with the API, and its messages land on these fields."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Mapping

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectMultipleField, StringField, TextAreaField

from bookingapp.core.hours import WEEKDAYS
from bookingapp.models import Game
from bookingapp.services.money import to_major, to_minor
from bookingapp.services.webhooks import EVENTS

BOOKING_MODES = (("shared", "Shared: each booking takes its seats"), ("private", "Private: one group takes the whole slot"))
CHANGE_WORDS = {
    "removed": "removed", "added": "added", "resized": "resized", "kept": "kept (booked, off-schedule)",
    "hidden": "hidden (cancelled bookings only)", "not_created": "not created (a kept booking holds the room)",
}
PRICE_PER = (("session", "Per session (one price whatever the group)"), ("player", "Per player"))
_AMOUNT = re.compile(r"[0-9]{1,9}(?:[.,][0-9]{1,3})?")
NUMBER_FIELDS = (
    "slot_minutes", "gap_minutes", "capacity", "days_ahead", "min_notice_minutes", "cancel_cutoff_minutes", "min_party",
    "reminder_hours",
)
# What an empty box means; the others left empty are refused (days_ahead: the site's default).
EMPTY_MEANS = {"gap_minutes": 0, "min_notice_minutes": 0, "cancel_cutoff_minutes": 0, "min_party": 1}
_WHOLE = re.compile(r"-?[0-9]{1,9}")
_RANGE_SEPARATORS = re.compile(r"\s*[-–]\s*")


class LoginForm(FlaskForm):
    username = StringField("Username")
    password = PasswordField("Password")
    next = HiddenField()


class ServiceForm(FlaskForm):
    """A form whose rules live in a service: its ValidationError messages land on the fields."""

    def show_problems(self, problems: Mapping[str, str]) -> None:
        """Put a service's messages on the fields they name; the rest on the form."""
        self.form_errors = []
        for key, message in problems.items():
            name = key.replace("weekly_hours.", "hours_") if key.startswith("weekly_hours.") else key
            field = self._fields.get(name) if name != "csrf_token" else None
            if field is None:
                self.form_errors.append(message)
            else:
                field.errors = [*field.errors, message]


class TokenForm(ServiceForm):
    name = StringField("Name", description="Who or what will use it, e.g. the till or a CI job.")
    expires_in = StringField("Expires after (days)", description="Leave empty for a token that never expires.")

    def expires_in_days(self) -> int | str | None:
        """The days typed, as a number when they are one (the service judges the rest)."""
        return _number(self.expires_in.data)


class WebhookForm(ServiceForm):
    url = StringField("URL", description="Where to POST each event, e.g. https://crm.example.com/hooks/bookings.")
    # The service judges the events (and words a refusal); the form only carries what was ticked.
    events = SelectMultipleField("Events", choices=list(EVENTS), validate_choice=False)


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token.

    A page holds several such forms (a booking's cancel, move and attendance), so its
    hidden token is rendered without an id: one id would name several elements.
    """

    class Meta:
        def render_field(self, field, render_kw):
            return super().render_field(field, {"id": False, **render_kw})


class GameForm(ServiceForm):
    name = StringField("Name")
    slug = StringField("Slug", description="Part of the page address; left empty, it comes from the name.")
    description = TextAreaField("Description")
    timezone = StringField("Time zone", description="An IANA name such as Europe/London.")
    slot_minutes = StringField("Slot length (minutes)")
    gap_minutes = StringField("Gap after each slot (minutes)")
    capacity = StringField("Capacity (players per slot)")
    booking_mode = StringField("Booking mode")  # a <select> in the template; validate_game words a refusal
    min_party = StringField("Smallest group (private mode)")
    days_ahead = StringField("Days of slots ahead", description="Empty: the site's default.")
    min_notice_minutes = StringField("Minimum notice (minutes)")
    cancel_cutoff_minutes = StringField(
        "Cancellation cut-off (minutes)", description="Customers cannot cancel or move this close to the start."
    )
    reminder_hours = StringField(
        "Reminder (hours before)", description="Empty: the site's default; 0: no reminder e-mail (at most 720)."
    )
    hours_mon = StringField("Monday")
    hours_tue = StringField("Tuesday")
    hours_wed = StringField("Wednesday")
    hours_thu = StringField("Thursday")
    hours_fri = StringField("Friday")
    hours_sat = StringField("Saturday")
    hours_sun = StringField("Sunday")
    closures = TextAreaField("Closed on", description="Dates like 2027-12-25, one per line.")
    price = StringField("Price", description="Paid at the venue, e.g. 25.00; 0 for free.")
    currency = StringField("Currency", description="An ISO 4217 code such as EUR, GBP or USD.")
    price_per = StringField("Price is")  # a <select> in the template
    location = StringField("Location", description="Where in the venue, e.g. Room 2, first floor.")
    instructions = TextAreaField("Instructions for customers", description="What to bring, when to arrive.")
    is_active = BooleanField("Open for booking", default=True)

    def hour_fields(self):
        """The seven opening-hours fields, Monday first."""
        return [getattr(self, f"hours_{day}") for day in WEEKDAYS]

    def game_data(self, *, with_active: bool = True) -> dict[str, Any]:
        """The fields as validate_game takes them (text that is not a number stays text, to be refused there).

        The edit form has no "open for booking" box (deactivating has its own button), so
        an edit leaves ``is_active`` out rather than reading the absent box as "no".
        """
        data: dict[str, Any] = {
            "name": self.name.data or "",
            "slug": (self.slug.data or "").strip() or None,
            "description": self.description.data or "",
            "timezone": (self.timezone.data or "").strip(),
            "booking_mode": self.booking_mode.data,
            "weekly_hours": {day: parse_ranges(getattr(self, f"hours_{day}").data) for day in WEEKDAYS},
            "closures": (self.closures.data or "").replace(",", " ").split(),
            "is_active": bool(self.is_active.data),
            "location": self.location.data or "",
            "instructions": self.instructions.data or "",
            **self._price_data(),
        }
        for name in NUMBER_FIELDS:
            value = _number(getattr(self, name).data)
            data[name] = EMPTY_MEANS.get(name) if value is None else value
        if not with_active:
            del data["is_active"]
        return data

    def _price_data(self) -> dict[str, Any]:
        # A box left empty keeps what the game has (a new game: EUR, free, per session).
        data: dict[str, Any] = {}
        currency = (self.currency.data or "").strip().upper()
        if currency:
            data["currency"] = currency
        if self.price_per.data:
            data["price_per"] = self.price_per.data
        if (self.price.data or "").strip():
            data["price"] = minor_units(self.price.data, currency or "EUR")
        return data

    def fill_from(self, game: Game) -> None:
        """Show a game's current settings."""
        for name in ("name", "slug", "description", "timezone", *NUMBER_FIELDS):
            value = getattr(game, name)
            getattr(self, name).data = "" if value is None else str(value)
        self.booking_mode.data = game.booking_mode.value
        for day in WEEKDAYS:
            getattr(self, f"hours_{day}").data = format_ranges(game.weekly_hours.get(day, []))
        self.closures.data = "\n".join(game.closures or [])
        self.price.data = str(to_major(game.price, game.currency))
        self.currency.data, self.price_per.data = game.currency, game.price_per.value
        self.location.data, self.instructions.data = game.location, game.instructions
        self.is_active.data = game.is_active


def _number(text: str | None) -> int | str | None:
    text = (text or "").strip()
    if text == "":
        return None
    return int(text) if _WHOLE.fullmatch(text) else text


def minor_units(text: str | None, currency: str) -> int | str:
    """ "25", "25.5" or "25,50" in ``currency`` -> 2550 minor units; other text stays text (validate_game refuses it)."""
    text = (text or "").strip()
    if not _AMOUNT.fullmatch(text):
        return text
    amount = to_minor(Decimal(text.replace(",", ".")), currency)
    return int(amount) if amount == amount.to_integral_value() else text


def parse_ranges(text: str | None) -> list[list[str]]:
    """ "10:00-14:00, 16:00-01:00" -> [["10:00", "14:00"], ["16:00", "01:00"]]; malformed parts stay as given."""
    pieces = [p for p in re.split(r"[,;]", text or "") if p.strip()]
    return [_RANGE_SEPARATORS.split(p.strip()) for p in pieces]


def format_ranges(ranges) -> str:
    """Write ranges as staff type them: [["10:00", "14:00"]] -> "10:00-14:00"."""
    return ", ".join(f"{opens}-{closes}" for opens, closes in ranges)
