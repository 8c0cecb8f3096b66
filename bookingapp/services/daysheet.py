"""What staff read about bookings: the day sheet, the look-up, one booking.

The day sheet shows every slot of one local day per game (its own zone), with the
bookings each holds; the look-up finds bookings across all dates by reference, or by
part of an email, name or phone.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Row, false, or_, select
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
    """One slot of the sheet and its bookings, as plain read-only rows (``SLOT_COLUMNS``, ``BOOKING_COLUMNS``)."""

    slot: Row
    off_schedule: bool
    bookings: list[Row]


# What the sheet shows of a slot and of a booking: read as rows, not ORM objects (a busy
# day is hundreds of each, and the page only reads them).
SLOT_COLUMNS = (
    Slot.id, Slot.game_id, Slot.starts_at, Slot.ends_at, Slot.capacity, Slot.booked, Slot.blocked, Slot.block_reason,
)
BOOKING_COLUMNS = (
    Booking.id, Booking.slot_id, Booking.reference, Booking.customer_name, Booking.email, Booking.phone,
    Booking.party_size, Booking.status, Booking.source, Booking.attendance, Booking.note,
    (Booking.status == BookingStatus.CANCELLED).label("is_cancelled"),
)


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
    """Each game's slots of the day (by start) with their bookings (by creation), games by name.

    Three queries whatever the page holds: its games, their slots of the day, those slots' bookings.
    """
    games = _sheet_games(session, query)
    days = {g.id: query.day or local_today(now, g.timezone) for g in games}
    day_range = _day_range(games, days)
    slots_by_game: dict[uuid.UUID, list[Row]] = {}
    for slot in session.execute(select(*SLOT_COLUMNS).where(day_range).order_by(Slot.game_id, Slot.starts_at)):
        slots_by_game.setdefault(slot.game_id, []).append(slot)
    bookings: dict[int, list[Row]] = {}
    statement = select(*BOOKING_COLUMNS).join(Slot, Booking.slot_id == Slot.id).where(day_range).order_by(Booking.id)
    for booking in session.execute(statement):
        bookings.setdefault(booking.slot_id, []).append(booking)
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


def _day_range(games: list[Game], days: dict[uuid.UUID, date]):
    """Slots starting on each game's day: one range per distinct local day and zone, not one per game."""
    games_by_bounds: dict[tuple[datetime, datetime], list[uuid.UUID]] = {}
    for game in games:
        bounds = local_days_bounds(game.timezone, days[game.id], days[game.id])
        games_by_bounds.setdefault(bounds, []).append(game.id)
    ranges = [
        Slot.game_id.in_(ids) & (Slot.starts_at >= lower) & (Slot.starts_at < upper)
        for (lower, upper), ids in games_by_bounds.items()
    ]
    return or_(*ranges) if ranges else false()


def search_bookings(session: Session, q: str, *, limit: int = 50, offset: int = 0) -> list[Booking]:
    """Bookings whose reference is ``q``, or whose email, name or phone contains it (any case), newest first."""
    statement = search_statement(q, limit=limit, offset=offset)
    return [] if statement is None else list(session.scalars(statement))


def search_statement(q: str, *, limit: int, offset: int):
    """The look-up's query (None for a blank ``q``). On PostgreSQL each ILIKE is served by its
    column's trigram index (migration 0009_lookup_index), the reference by its unique index."""
    match = text_match(q)
    if match is None:
        return None
    return (
        select(Booking).options(joinedload(Booking.slot).joinedload(Slot.game))
        .where(match).order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(limit).offset(offset)
    )


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
    return list(session.scalars(select(Booking).where(Booking.slot_id == slot_id).order_by(Booking.id)))


def all_games(session: Session) -> list[Game]:
    """Every game, active or not, by name."""
    return list(session.scalars(select(Game).order_by(Game.name)))
