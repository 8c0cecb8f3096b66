"""The game page shows one local day of a game's window: which day, and what it offers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy.orm import Session

from bookingapp.core.window import DayRange, parse_date
from bookingapp.errors import NotFound, ValidationError
from bookingapp.models import Game
from bookingapp.services.bookings import SlotOffer, list_bookable_slots, next_free_slots


@dataclass(frozen=True)
class GameDay:
    """One day of the window with every slot still open (full ones too) and its neighbours."""

    day: date
    window: DayRange
    offers: list[SlotOffer]
    next_free: SlotOffer | None  # the next free time after this day, when the day has none

    @property
    def previous(self) -> date | None:
        return self.day - timedelta(days=1) if self.day > self.window.first else None

    @property
    def following(self) -> date | None:
        return self.day + timedelta(days=1) if self.day < self.window.last else None

    @property
    def has_free(self) -> bool:
        return any(offer.available > 0 for offer in self.offers)


def chosen_day(raw: str | None, window: DayRange) -> date:
    """The day ``?date=`` asks for (the window's first, today, when absent); 400 or 404 when it cannot be shown."""
    if raw is None or raw == "":
        return window.first
    try:
        day = parse_date(raw)
    except ValueError:
        raise ValidationError({"date": "must be a date like 2027-01-31"},
                              gettext("That is not a date. Choose a day from the calendar.")) from None
    if not window.first <= day <= window.last:
        raise NotFound(gettext("This game can be booked from %(first)s to %(last)s; choose a day in between.",
                               first=window.first.isoformat(), last=window.last.isoformat()))
    return day


def game_day(session: Session, game: Game, day: date, window: DayRange, now: datetime) -> GameDay:
    """What the game page shows for ``day``."""
    offers = list_bookable_slots(session, game, day, day, now)
    following = None
    if not any(offer.available > 0 for offer in offers):
        upcoming = next_free_slots(session, game, now, limit=1)
        following = upcoming[0] if upcoming and day < upcoming[0].starts_at.date() <= window.last else None
    return GameDay(day, window, offers, following)


def chosen_offer(day: GameDay, slot_id: object) -> SlotOffer | None:
    """The offer of this day the form has chosen, if any."""
    return next((offer for offer in day.offers if offer.id == slot_id), None)
