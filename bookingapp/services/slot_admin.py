"""Staff changes to one slot: block or unblock it (with a reason), set its capacity.

A block only stops new bookings (bookings already in the slot stand); generation and
edits never touch it. Capacity is set with a conditional update, so it is never below
the seats booked, however a booking races it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bookingapp.errors import Conflict, SlotNotFound, ValidationError
from bookingapp.models import Slot
from bookingapp.services import audit
from bookingapp.services.audit import Actor
from bookingapp.services.booking_input import MAX_PARTY, MAX_SLOT_ID

MAX_REASON = 200
_SLOTS = Slot.__table__


class BelowBooked(Conflict):
    code = "capacity_below_booked"


def get_slot(session: Session, slot_id: object) -> Slot:
    """The slot with this id, or SlotNotFound."""
    slot = None
    if isinstance(slot_id, int) and not isinstance(slot_id, bool) and 1 <= slot_id <= MAX_SLOT_ID:
        slot = session.get(Slot, slot_id)
    if slot is None:
        raise SlotNotFound("There is no such slot.", {"slot_id": "no such slot"})
    return slot


def set_slot_blocked(session: Session, slot_id: object, blocked: bool, reason: object, actor: Actor, now: datetime) -> Slot:
    """Block (``reason`` optional, up to 200 characters) or unblock a slot; the same state again changes nothing."""
    clean = _reason(reason) if blocked else ""
    try:
        slot = get_slot(session, slot_id)
        before = {"blocked": slot.blocked, "block_reason": slot.block_reason}
        after = {"blocked": blocked, "block_reason": clean}
        if before != after:
            slot.blocked, slot.block_reason = blocked, clean
            action = "slot.block" if blocked else "slot.unblock"
            audit.record(session, actor, audit.Change(action, "slot", str(slot.id), before, after), now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return slot


def set_slot_capacity(session: Session, slot_id: object, capacity: object, actor: Actor, now: datetime) -> Slot:
    """Set one slot's capacity, never below the seats booked in it (409 capacity_below_booked)."""
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= MAX_PARTY:
        raise ValidationError({"capacity": f"must be a whole number from 1 to {MAX_PARTY}"})
    try:
        slot = get_slot(session, slot_id)
        old = slot.capacity
        changed = session.execute(
            update(_SLOTS).where(_SLOTS.c.id == slot.id, _SLOTS.c.booked <= capacity)
            .values(capacity=capacity).returning(_SLOTS.c.id)
        ).first()
        if changed is None:
            booked = session.scalar(select(_SLOTS.c.booked).where(_SLOTS.c.id == slot.id))
            raise BelowBooked(f"{booked} seats are booked in this slot; its capacity cannot go below that.",
                              {"capacity": f"must be at least {booked} (the seats booked)"})
        if old != capacity:
            audit.record(session, actor, audit.Change("slot.capacity", "slot", str(slot.id), {"capacity": old}, {"capacity": capacity}), now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(slot)
    return slot


def _reason(raw: object) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str) or len(raw.strip()) > MAX_REASON:
        raise ValidationError({"reason": f"must be text of at most {MAX_REASON} characters"})
    reason = " ".join(raw.split())
    if any(not ch.isprintable() for ch in reason):
        raise ValidationError({"reason": "must not contain control characters"})
    return reason
