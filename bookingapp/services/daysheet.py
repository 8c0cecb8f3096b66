"""What staff read about bookings: the day sheet, the look-up, one booking.

The day sheet shows every slot of one local day per game (its own zone), with the
bookings each holds; the look-up finds bookings across all dates by reference, or by
part of an email, name or phone.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from bookingapp.core import tokens
from bookingapp.core.window import local_days_bounds, local_today
from bookingapp.errors import BookingNotFound
from bookingapp.models import Booking, Game, Slot
from bookingapp.services.slots import offered_slots

GAMES_PER_PAGE = 50
MAX_QUERY = 120


@dataclass(frozen=True)
class SheetSlot:
    slot: Slot
    off_schedule: bool
    bookings: list[Booking]


@dataclass(frozen=True)
class GameDay:
    """One game's local day on the sheet."""

    game: Game
    day: date
    slots: list[SheetSlot]


@dataclass(frozen=True)
class SheetQuery:
    """Which day sheet: a local date (None: each game's today), one game's slug or all, a page of games."""

    day: date | None = None
    slug: str | None = None
    page: int = 1


def day_sheet(session: Session, query: SheetQuery, now: datetime) -> list[GameDay]:
    """Each game's slots of the day (by start) with their bookings (by creation), games by name."""
    games = _sheet_games(session, query)
    days = {g.id: query.day or local_today(now, g.timezone) for g in games}
    bounds = {g.id: local_days_bounds(g.timezone, days[g.id], days[g.id]) for g in games}
    slots_by_game = _slots_of_days(session, bounds)
    bookings = _bookings_of(session, [s.id for slots in slots_by_game.values() for s in slots])
    sheet = []
    for game in games:
        slots = slots_by_game.get(game.id, [])
        offered = {s.id for s in offered_slots(game, slots)}
        rows = [SheetSlot(s, s.id not in offered, bookings.get(s.id, [])) for s in slots]
        sheet.append(GameDay(game, days[game.id], rows))
    return sheet


def _sheet_games(session: Session, query: SheetQuery) -> list[Game]:
    statement = select(Game).order_by(Game.is_active.desc(), Game.name, Game.id)
    if query.slug:
        statement = statement.where(Game.slug == query.slug)
    page = max(query.page, 1)
    return list(session.scalars(statement.limit(GAMES_PER_PAGE).offset((page - 1) * GAMES_PER_PAGE)))


def _slots_of_days(session: Session, bounds: dict[uuid.UUID, tuple[datetime, datetime]]) -> dict[uuid.UUID, list[Slot]]:
    if not bounds:
        return {}
    ranges = [
        (Slot.game_id == game_id) & (Slot.starts_at >= lower) & (Slot.starts_at < upper)
        for game_id, (lower, upper) in bounds.items()
    ]
    found: dict[uuid.UUID, list[Slot]] = {}
    for slot in session.scalars(select(Slot).where(or_(*ranges)).order_by(Slot.game_id, Slot.starts_at)):
        found.setdefault(slot.game_id, []).append(slot)
    return found


def _bookings_of(session: Session, slot_ids: list[int]) -> dict[int, list[Booking]]:
    found: dict[int, list[Booking]] = {}
    for start in range(0, len(slot_ids), 1000):
        chunk = slot_ids[start:start + 1000]
        for booking in session.scalars(select(Booking).where(Booking.slot_id.in_(chunk)).order_by(Booking.id)):
            found.setdefault(booking.slot_id, []).append(booking)
    return found


def search_bookings(session: Session, q: str, *, limit: int = 50, offset: int = 0) -> list[Booking]:
    """Bookings whose reference is ``q``, or whose email, name or phone contains it (any case), newest first."""
    text = " ".join((q or "").split())[:MAX_QUERY]
    if not text:
        return []
    reference = tokens.normalize_reference(text)
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches = [
        Booking.email.ilike(pattern, escape="\\"),
        Booking.customer_name.ilike(pattern, escape="\\"),
        Booking.phone.ilike(pattern, escape="\\"),
    ]
    if reference is not None:
        matches.append(Booking.reference == reference)
    statement = (
        select(Booking).options(joinedload(Booking.slot).joinedload(Slot.game))
        .where(or_(*matches)).order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(limit).offset(offset)
    )
    return list(session.scalars(statement))


def find_booking(session: Session, reference: object) -> Booking:
    """The booking with this reference, for staff (no cancel token needed)."""
    normalized = tokens.normalize_reference(reference)
    booking = None
    if normalized is not None:
        booking = session.scalar(select(Booking).where(Booking.reference == normalized))
    if booking is None:
        raise BookingNotFound("There is no booking with this reference.")
    return booking
