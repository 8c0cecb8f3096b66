"""Booking: list what can be booked, book seats, cancel — never oversold.

A booking is one conditional UPDATE of the slot's seats (the database decides, under
the row lock, whether the seats are still free and the slot still open) plus the
booking row, in one transaction. Cancelling is a conditional status transition, so
seats are freed exactly once however many requests race.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from bookingapp.core import tokens
from bookingapp.core.prices import booking_amount
from bookingapp.core.window import local_days_bounds
from bookingapp.errors import BadCancelToken, BookingNotFound, SlotClosed, SlotFull, SlotNotFound
from bookingapp.extensions import insert_for
from bookingapp.models import Attendance, Booking, BookingMode, BookingStatus, Game, Slot
from bookingapp.services import audit, outbox, webhooks
from bookingapp.services.audit import Actor
from bookingapp.services.booking_input import BookingRequest, check_party_fits, clean_booking_request
from bookingapp.services.slots import offered_slots, slot_is_offered

REFERENCE_ATTEMPTS = 5
_SLOTS = Slot.__table__
_BOOKINGS = Booking.__table__


@dataclass(frozen=True)
class SlotOffer:
    """A slot as customers see it: times in the game's zone, seats they can book now."""

    id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    available: int


@dataclass(frozen=True)
class NewBooking:
    booking: Booking
    cancel_token: str  # shown once; only its hash is stored


def earliest_start(game: Game, now: datetime) -> datetime:
    """The earliest start a customer may still book: now plus the game's minimum notice."""
    return now + timedelta(minutes=game.min_notice_minutes or 0)


def seats_free(game: Game, capacity: int, booked: int) -> int:
    """Seats one booking can take: a private slot is all or nothing."""
    if game.booking_mode is BookingMode.PRIVATE:
        return capacity if booked == 0 else 0
    return capacity - booked


def slot_listing_query(game_id: uuid.UUID, lower: datetime, upper: datetime) -> Select:
    """The game's slots starting in ``[lower, upper)``, by start (served by the (game_id, starts_at) index)."""
    return (
        select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.capacity, Slot.booked)
        .where(Slot.game_id == game_id, Slot.starts_at >= lower, Slot.starts_at < upper)
        .where(Slot.blocked.is_(False))
        .order_by(Slot.starts_at)
    )

def list_bookable_slots(session: Session, game: Game, day_from: date, day_to: date, now: datetime) -> list[SlotOffer]:
    """Slots of ``game`` on local dates ``day_from..day_to`` still open for booking, full ones included.

    Past slots and those inside the minimum notice are left out; full ones come with
    ``available == 0``. Reading never generates slots.
    """
    lower, upper = local_days_bounds(game.timezone, day_from, day_to)
    lower = max(lower, earliest_start(game, now))
    if lower >= upper:
        return []
    return _offers(game, session.execute(slot_listing_query(game.id, lower, upper)))


def next_free_slots(session: Session, game: Game, now: datetime, *, party_size: int = 1, limit: int = 3) -> list[SlotOffer]:
    """The next ``limit`` slots of ``game`` that could still take ``party_size`` players.

    Off-schedule slots are passed over and the walk goes on past them, so fewer come
    back only when fewer such slots exist.
    """
    offers: list[SlotOffer] = []
    after, page = None, limit
    while len(offers) < limit:
        rows = session.execute(_free_slots_query(game, now, party_size, after, page)).all()
        offers.extend(_offers(game, rows))
        if len(rows) < page:
            break
        # Off-schedule slots took some of the page: read on after it, in larger pages.
        after, page = rows[-1].starts_at, page * 2
    return offers[:limit]


def _free_slots_query(game: Game, now: datetime, party_size: int, after: datetime | None, page: int) -> Select:
    query = (
        select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.capacity, Slot.booked)
        .where(Slot.game_id == game.id, Slot.starts_at >= earliest_start(game, now))
        .where(Slot.booked + party_size <= Slot.capacity, Slot.blocked.is_(False))
        .order_by(Slot.starts_at)
        .limit(page)
    )
    if after is not None:
        query = query.where(Slot.starts_at > after)
    if game.booking_mode is BookingMode.PRIVATE:
        query = query.where(Slot.booked == 0)
    return query


def _offers(game: Game, rows) -> list[SlotOffer]:
    tz = ZoneInfo(game.timezone)
    # Slots kept off-schedule after an edit (for the bookings they hold) are not offered.
    return [
        SlotOffer(r.id, r.starts_at.astimezone(tz), r.ends_at.astimezone(tz), r.capacity,
                  seats_free(game, r.capacity, r.booked))
        for r in offered_slots(game, list(rows))
    ]


def book_slot(
    session: Session, request: BookingRequest, now: datetime, *, game_id: uuid.UUID | None = None, actor: Actor | None = None,
) -> NewBooking:
    """Book seats of a slot; commit and return the booking and its cancel token.

    ``game_id`` restricts the slot to one game (the game page). Customers book outside
    the minimum notice; staff (``request.source`` STAFF) up to the start. Raises
    ValidationError, SlotNotFound, SlotClosed (started, or inside the notice) or SlotFull.
    With ``actor`` (staff) the booking is recorded in the audit log in the same transaction.
    """
    request = clean_booking_request(request)
    try:
        slot, game = open_slot(session, request.slot_id, game_id)
        check_party_fits(request.party_size, slot.capacity, game.booking_mode, game.min_party)
        earliest = now if request.by_staff else earliest_start(game, now)
        if slot.starts_at < earliest or slot.starts_at <= now:
            raise SlotClosed(_closed_message(slot, now))
        if not take_seats(session, slot.id, request.party_size, game.booking_mode, earliest):
            raise why_not_taken(session, slot.id, game, earliest)
        token = tokens.new_cancel_token()
        booking_id = _insert_booking(session, slot.id, game, request, tokens.hash_token(token), now)
        outbox.booking_confirmed(session, session.get(Booking, booking_id), token, now)
        webhooks.booking_event(session, webhooks.BOOKING_CONFIRMED, session.get(Booking, booking_id), now)
        if actor is not None:
            audit.record(session, actor, audit.Change("booking.create", "booking", _reference(session, booking_id),
                                                      after=booking_facts(session.get(Booking, booking_id))), now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return NewBooking(session.get(Booking, booking_id), token)


def _reference(session: Session, booking_id: int) -> str:
    return session.scalar(select(_BOOKINGS.c.reference).where(_BOOKINGS.c.id == booking_id))


def booking_facts(booking: Booking) -> dict[str, object]:
    """What the audit log keeps of a booking's state."""
    return {
        "slot_id": booking.slot_id, "name": booking.customer_name, "email": booking.email, "phone": booking.phone,
        "party_size": booking.party_size, "status": booking.status.value, "source": booking.source.value,
        "attendance": booking.attendance.value, "note": booking.note,
    }


def open_slot(session: Session, slot_id: int, game_id: uuid.UUID | None) -> tuple[Slot, Game]:
    """The slot (of ``game_id`` when given) and its game, if new bookings may take it; else SlotNotFound."""
    query = select(Slot, Game).join(Game, Slot.game_id == Game.id).where(Slot.id == slot_id)
    row = session.execute(query).one_or_none()
    # A deactivated game's slots cannot be booked, though its bookings stand.
    if (
        row is None or not row.Game.is_active or (game_id is not None and row.Game.id != game_id)
        or not slot_is_offered(row.Game, row.Slot)  # kept off-schedule after an edit
        or row.Slot.blocked
    ):
        raise SlotNotFound("There is no such slot open for booking.", {"slot_id": "no such slot"})
    return row.Slot, row.Game


def take_seats(session: Session, slot_id: int, seats: int, mode: BookingMode, earliest: datetime) -> bool:
    """Take ``seats`` of an open, unblocked slot starting at or after ``earliest``, if they are free."""
    # The only write that decides whether seats are free: the row lock serialises
    # racing bookings and each re-checks the condition against the latest row.
    statement = (
        update(_SLOTS)
        .where(_SLOTS.c.id == slot_id)
        .where(_SLOTS.c.booked + seats <= _SLOTS.c.capacity)
        .where(_SLOTS.c.starts_at >= earliest)
        .where(_SLOTS.c.blocked.is_(False))
        .values(booked=_SLOTS.c.booked + seats)
        .returning(_SLOTS.c.id)
    )
    if mode is BookingMode.PRIVATE:
        statement = statement.where(_SLOTS.c.booked == 0)
    return session.execute(statement).first() is not None


def why_not_taken(session: Session, slot_id: int, game: Game, earliest: datetime) -> Exception:
    """The error for a ``take_seats`` that took nothing, read off the slot as it now is."""
    starts_at, capacity, booked, blocked = session.execute(
        select(_SLOTS.c.starts_at, _SLOTS.c.capacity, _SLOTS.c.booked, _SLOTS.c.blocked).where(_SLOTS.c.id == slot_id)
    ).one()
    if blocked:
        return SlotNotFound("There is no such slot open for booking.", {"slot_id": "this slot is blocked"})
    if starts_at < earliest:
        return SlotClosed("This slot is no longer open for booking.")
    left = seats_free(game, capacity, booked)
    if game.booking_mode is BookingMode.PRIVATE:
        detail = "another group has booked this session"
    elif left == 0:
        detail = "no seats are left"
    else:
        detail = f"only {left} seat{'s' if left != 1 else ''} left"
    return SlotFull(f"This slot is full for your party: {detail}.", {"party_size": detail})


def _closed_message(slot: Slot, now: datetime) -> str:
    if slot.starts_at <= now:
        return "This slot has already started."
    return "This slot starts too soon to be booked online."


def _insert_booking(
    session: Session, slot_id: int, game: Game, request: BookingRequest, token_hash: str, now: datetime
) -> int:
    insert = insert_for(session.get_bind())
    amount = booking_amount(game.price, game.price_per.value, request.party_size)
    for _ in range(REFERENCE_ATTEMPTS):
        # ON CONFLICT keeps the transaction (and the seats just taken) alive on a
        # reference collision; a fresh reference is simply tried again.
        statement = (
            insert(_BOOKINGS)
            .values(
                reference=tokens.new_reference(), slot_id=slot_id, customer_name=request.name,
                email=request.email, phone=request.phone, note=request.note, source=request.source,
                attendance=Attendance.EXPECTED, party_size=request.party_size,
                status=BookingStatus.CONFIRMED, cancel_token_hash=token_hash, created_at=now,
                amount=amount, currency=game.currency, locale=request.locale,
            )
            .on_conflict_do_nothing(index_elements=["reference"])
            .returning(_BOOKINGS.c.id)
        )
        booking_id = session.execute(statement).scalar()
        if booking_id is not None:
            return booking_id
    raise RuntimeError(f"no free booking reference after {REFERENCE_ATTEMPTS} attempts")


def get_booking(session: Session, reference: object, token: object) -> Booking:
    """The booking with this reference, if ``token`` is its cancel token."""
    normalized = tokens.normalize_reference(reference)
    booking = None
    if normalized is not None:
        booking = session.scalar(select(Booking).where(Booking.reference == normalized))
    if booking is None:
        raise BookingNotFound("There is no booking with this reference.")
    if not tokens.token_matches(token, booking.cancel_token_hash):
        raise BadCancelToken("This link or token does not match the booking.")
    return booking


def customer_change_deadline(booking: Booking) -> datetime:
    """The last instant a customer may cancel or move: the start less the game's cut-off."""
    return booking.slot.starts_at - timedelta(minutes=booking.slot.game.cancel_cutoff_minutes or 0)


def cancel_booking(session: Session, reference: object, token: object, now: datetime) -> Booking:
    """Cancel a booking for its customer and free its seats, exactly once; cancelling again changes nothing.

    Refused once the session has started, or inside the game's cancellation cut-off.
    """
    try:
        booking = get_booking(session, reference, token)
        if booking.is_cancelled:
            return booking
        if booking.slot.starts_at <= now:
            raise SlotClosed("This session has already started; it can no longer be cancelled.")
        if customer_change_deadline(booking) <= now:
            raise SlotClosed("This session starts too soon to be cancelled online; please call the venue.")
        if cancel_once(session, booking, now):
            outbox.booking_cancelled(session, booking, str(token), now, by_venue=False)
            webhooks.booking_event(session, webhooks.BOOKING_CANCELLED, booking, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(booking)
    return booking


def cancel_once(session: Session, booking: Booking, now: datetime) -> bool:
    """Cancel ``booking`` and free its seats, if it is still confirmed; False when another request did it first."""
    cancelled = session.execute(
        update(_BOOKINGS)
        .where(_BOOKINGS.c.id == booking.id, _BOOKINGS.c.status == BookingStatus.CONFIRMED)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now)
        .returning(_BOOKINGS.c.slot_id, _BOOKINGS.c.party_size)
    ).first()
    # Only the request whose transition succeeded frees the seats.
    if cancelled is None:
        return False
    session.execute(
        update(_SLOTS).where(_SLOTS.c.id == cancelled.slot_id).values(booked=_SLOTS.c.booked - cancelled.party_size)
    )
    return True
