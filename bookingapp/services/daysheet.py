"""What staff read about bookings: the day sheet, the look-up, one booking.

The day sheet shows every slot of one local day per game (its own zone), with the
bookings each holds; the look-up finds bookings across all dates by reference, or by
part of an email, name or phone.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session, joinedload

from bookingapp.core import tokens
from bookingapp.core.window import local_days_bounds, local_today
from bookingapp.errors import BookingNotFound, ValidationError
from bookingapp.models import Booking, BookingStatus, Game, Slot
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
    match = text_match(q)
    if match is None:
        return []
    statement = (
        select(Booking).options(joinedload(Booking.slot).joinedload(Slot.game))
        .where(match).order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(limit).offset(offset)
    )
    return list(session.scalars(statement))


def text_match(q: str | None):
    """The condition "reference is ``q``, or email, name or phone contains it in any case"; None for blank."""
    text = " ".join((q or "").split())[:MAX_QUERY]
    if not text:
        return None
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches = [
        Booking.email.ilike(pattern, escape="\\"),
        Booking.customer_name.ilike(pattern, escape="\\"),
        Booking.phone.ilike(pattern, escape="\\"),
    ]
    reference = tokens.normalize_reference(text)
    if reference is not None:
        matches.append(Booking.reference == reference)
    return or_(*matches)


@dataclass(frozen=True)
class BookingFilter:
    """Which bookings the staff API lists: a local date (in each game's zone), a game, text, a status."""

    day: date | None = None
    game_id: str | None = None
    q: str | None = None
    status: str | None = None


def list_bookings(session: Session, where: BookingFilter, *, limit: int, before_id: int | None = None) -> list[Booking]:
    """Bookings matching ``where``, newest first (by id), ``limit`` of them with ids below ``before_id``."""
    statement = (
        select(Booking).join(Slot, Booking.slot_id == Slot.id).join(Game, Slot.game_id == Game.id)
        .options(joinedload(Booking.slot).joinedload(Slot.game))
        .order_by(Booking.id.desc()).limit(limit)
    )
    if before_id is not None:
        statement = statement.where(Booking.id < before_id)
    if where.game_id is not None:
        statement = statement.where(Game.id == _uuid(where.game_id))
    if where.status is not None:
        statement = statement.where(Booking.status == BookingStatus(where.status))
    if (match := text_match(where.q)) is not None:
        statement = statement.where(match)
    if where.day is not None:
        statement = statement.where(_on_local_day(session, where.day))
    return list(session.scalars(statement))


def _uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw[:64])
    except ValueError:
        raise ValidationError({"game_id": "must be a game's id"}, "Bad query string.") from None


def _on_local_day(session: Session, day: date):
    """Slots starting on local ``day`` in their own game's zone: one range per zone in use."""
    zones = session.scalars(select(Game.timezone).distinct()).all()
    ranges = []
    for zone in zones:
        lower, upper = local_days_bounds(zone, day, day)
        ranges.append((Game.timezone == zone) & (Slot.starts_at >= lower) & (Slot.starts_at < upper))
    return or_(*ranges) if ranges else false()


def find_booking(session: Session, reference: object) -> Booking:
    """The booking with this reference, for staff (no cancel token needed)."""
    normalized = tokens.normalize_reference(reference)
    booking = None
    if normalized is not None:
        booking = session.scalar(select(Booking).where(Booking.reference == normalized))
    if booking is None:
        raise BookingNotFound("There is no booking with this reference.")
    return booking


def move_targets(session: Session, game: Game, day: date, now: datetime) -> list[Slot]:
    """Slots of ``game`` on local ``day`` a booking could be moved to now: offered, unblocked, not started."""
    lower, upper = local_days_bounds(game.timezone, day, day)
    slots = list(session.scalars(
        select(Slot).where(Slot.game_id == game.id, Slot.starts_at >= max(lower, now), Slot.starts_at < upper)
        .where(Slot.blocked.is_(False)).order_by(Slot.starts_at)
    ))
    return offered_slots(game, slots)


def list_games(session: Session) -> list[Game]:
    """Every active game by name (the choice of games to move a booking to)."""
    return list(session.scalars(select(Game).where(Game.is_active.is_(True)).order_by(Game.name)))


def slot_bookings(session: Session, slot_id: int) -> list[Booking]:
    """Every booking of one slot, confirmed and cancelled."""
    return _bookings_of(session, [slot_id]).get(slot_id, [])


def all_games(session: Session) -> list[Game]:
    """Every game, active or not, by name."""
    return list(session.scalars(select(Game).order_by(Game.name)))
