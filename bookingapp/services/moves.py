"""Moving a booking to another slot: one transaction, the same conditional seat update as booking.

Staff move any booking to a slot of any active game (inside the minimum notice, never to
one that has started); a customer moves their own to another slot of the same game,
outside the minimum notice and before the game's cancellation cut-off. The reference and
cancel token stay. A full target answers ``slot_full`` and changes nothing.

Locks are taken booking row first, then both slot rows in id order, the order a cancel
(booking, then its slot) and a booking (one slot) also follow, so racing writers queue
instead of deadlocking.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bookingapp.errors import BookingCancelled, BookingChanged, SlotClosed, ValidationError
from bookingapp.models import Booking, BookingStatus, Slot
from bookingapp.services import audit, outbox, webhooks
from bookingapp.services.audit import Actor
from bookingapp.services.booking_input import MAX_SLOT_ID, check_party_fits
from bookingapp.services.bookings import (
    booking_facts, customer_change_deadline, earliest_start, get_booking, open_slot, take_seats, why_not_taken,
)
from bookingapp.services.daysheet import find_booking

_SLOTS = Slot.__table__
_BOOKINGS = Booking.__table__


@dataclass(frozen=True)
class MoveRequest:
    """Move ``reference`` to ``slot_id``: as staff (``actor``) or as its customer (``token``)."""

    reference: object
    slot_id: object
    actor: Actor | None = None
    token: object = None


def move_booking(session: Session, request: MoveRequest, now: datetime) -> Booking:
    """Move the booking and commit; raise SlotNotFound, SlotClosed, SlotFull or BookingCancelled otherwise."""
    slot_id = _slot_id(request.slot_id)
    try:
        booking = _booking_for(session, request)
        session.execute(select(_BOOKINGS.c.id).where(_BOOKINGS.c.id == booking.id).with_for_update())
        session.refresh(booking)
        if booking.is_cancelled:
            raise BookingCancelled("This booking is cancelled; make a new one instead.")
        if booking.slot_id != slot_id:
            _move(session, booking, slot_id, request, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(booking)
    return booking


def _slot_id(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_SLOT_ID:
        raise ValidationError({"slot_id": "must be the id of a slot (a positive whole number)"})
    return raw


def _booking_for(session: Session, request: MoveRequest) -> Booking:
    if request.actor is not None:
        return find_booking(session, request.reference)
    return get_booking(session, request.reference, request.token)


def _move(session: Session, booking: Booking, slot_id: int, request: MoveRequest, now: datetime) -> None:
    by_staff = request.actor is not None
    old_slot_id, before, old_starts_at = booking.slot_id, booking_facts(booking), booking.slot.starts_at
    if not by_staff and customer_change_deadline(booking) <= now:
        raise SlotClosed("This session starts too soon to be moved online; please call the venue.")
    slot, game = open_slot(session, slot_id, None if by_staff else booking.slot.game_id)
    check_party_fits(booking.party_size, slot.capacity, game.booking_mode, game.min_party)
    earliest = now if by_staff else earliest_start(game, now)
    if slot.starts_at <= now or slot.starts_at < earliest:
        raise SlotClosed("This slot has already started." if slot.starts_at <= now else "This slot starts too soon to be booked online.")
    session.execute(select(_SLOTS.c.id).where(_SLOTS.c.id.in_([old_slot_id, slot_id])).order_by(_SLOTS.c.id).with_for_update())
    if not take_seats(session, slot_id, booking.party_size, game.booking_mode, earliest):
        raise why_not_taken(session, slot_id, game, earliest)
    moved = session.execute(
        update(_BOOKINGS)
        .where(_BOOKINGS.c.id == booking.id, _BOOKINGS.c.slot_id == old_slot_id, _BOOKINGS.c.status == BookingStatus.CONFIRMED)
        .values(slot_id=slot_id).returning(_BOOKINGS.c.id)
    ).first()
    if moved is None:
        raise BookingChanged("This booking was changed at the same moment; reload it and try again.")
    session.execute(update(_SLOTS).where(_SLOTS.c.id == old_slot_id).values(booked=_SLOTS.c.booked - booking.party_size))
    session.refresh(booking)
    outbox.booking_moved(session, booking, old_starts_at, None if by_staff else str(request.token), now)
    webhooks.booking_event(session, webhooks.BOOKING_MOVED, booking, now)
    if by_staff:
        audit.record(session, request.actor, audit.Change(
            "booking.move", "booking", booking.reference, {"slot_id": before["slot_id"]}, {"slot_id": slot_id}
        ), now)
