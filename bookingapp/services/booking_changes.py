"""Staff changes to one booking: cancel, attendance, note. Each is audited in its own transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bookingapp.errors import ValidationError
from bookingapp.models import Attendance, Booking
from bookingapp.services import audit, outbox, webhooks
from bookingapp.services.audit import Actor
from bookingapp.services.booking_input import clean_note
from bookingapp.services.bookings import booking_facts, cancel_once
from bookingapp.services.daysheet import find_booking

ATTENDANCE_VALUES = tuple(a.value for a in Attendance)


def cancel_as_staff(session: Session, reference: object, actor: Actor, now: datetime) -> Booking:
    """Cancel a booking for the venue (no token, no cut-off) and free its seats once; again changes nothing."""
    try:
        booking = find_booking(session, reference)
        before = booking_facts(booking)
        if cancel_once(session, booking, now):
            session.refresh(booking)
            _record(session, actor, "booking.cancel", booking, before, now)
            outbox.booking_cancelled(session, booking, None, now, by_venue=True)
            webhooks.booking_event(session, webhooks.BOOKING_CANCELLED, booking, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(booking)
    return booking


def set_attendance(session: Session, reference: object, status: object, actor: Actor, now: datetime) -> Booking:
    """Mark who came: ``expected``, ``arrived`` or ``no_show``."""
    if not isinstance(status, str) or status not in ATTENDANCE_VALUES:
        raise ValidationError({"status": f"must be one of {', '.join(ATTENDANCE_VALUES)}"})
    return _change(session, reference, actor, now, attendance=Attendance(status))


def set_note(session: Session, reference: object, note: object, actor: Actor, now: datetime) -> Booking:
    """Replace the staff note on a booking (empty clears it)."""
    problems: dict[str, str] = {}
    clean = clean_note(note, problems)
    if problems:
        raise ValidationError(problems)
    return _change(session, reference, actor, now, note=clean)


def _change(session: Session, reference: object, actor: Actor, now: datetime, **values) -> Booking:
    try:
        booking = find_booking(session, reference)
        before = booking_facts(booking)
        if any(getattr(booking, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(booking, name, value)
            session.flush()
            _record(session, actor, "booking." + "_".join(values), booking, before, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return booking


def _record(session: Session, actor: Actor, action: str, booking: Booking, before: dict, now: datetime) -> None:
    after = booking_facts(booking)
    changed = {k for k in after if before.get(k) != after[k]}
    audit.record(session, actor, audit.Change(
        action, "booking", booking.reference,
        before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
    ), now)
