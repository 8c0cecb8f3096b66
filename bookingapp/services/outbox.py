"""The outbox: messages about bookings, written in the same transaction as the change they tell of.

A booking that commits has its messages; one that rolls back has none. Each row has a
due time (now, or the reminder's time) and is sent later by a deliverer (``services.delivery``).
A cancelled booking drops its pending reminder; a moved one re-times it.

The cancel token's plaintext is known only when the booking is made (only its hash is
stored), so the messages that carry the manage link keep it in their payload until sent.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from bookingapp.models import Booking, OutboxMessage, OutboxStatus

CONFIRMED = "booking.confirmed"
MOVED = "booking.moved"
CANCELLED = "booking.cancelled"
REMINDER = "booking.reminder"
KINDS = (CONFIRMED, MOVED, CANCELLED, REMINDER)
DEFAULT_REMINDER_HOURS = 24
_DUE_KEY = "outbox_due"  # session.info: the earliest due time written in this transaction


def reminder_hours() -> int:
    """BOOKING_REMINDER_HOURS of the current app (0: no reminders)."""
    if has_app_context():
        return int(current_app.config.get("BOOKING_REMINDER_HOURS", DEFAULT_REMINDER_HOURS))
    return DEFAULT_REMINDER_HOURS


def booking_confirmed(session: Session, booking: Booking, token: str, now: datetime) -> None:
    """Queue the confirmation (due now) and the reminder of a new booking."""
    if not booking.email:
        return
    _add(session, booking, CONFIRMED, now, {"token": token, "sequence": 0}, now)
    due = _reminder_due(booking, now)
    if due is not None:
        _add(session, booking, REMINDER, due, {"token": token, "sequence": 0}, now)


def booking_moved(session: Session, booking: Booking, old_starts_at: datetime, token: str | None, now: datetime) -> None:
    """Queue the notice of a move (due now) and re-time the pending reminder to the new start."""
    if not booking.email:
        return
    reminder = _pending_reminder(session, booking.id)
    token = token or (reminder.payload.get("token") if reminder is not None else None)
    sequence = _next_sequence(session, booking.id)
    _add(session, booking, MOVED, now, {"token": token, "sequence": sequence,
                                         "old_starts_at": old_starts_at.isoformat()}, now)
    due = _reminder_due(booking, now)
    if reminder is not None:
        if due is None:
            reminder.status = OutboxStatus.DROPPED
        else:
            reminder.due_at = reminder.next_attempt_at = due
            reminder.payload = {**reminder.payload, "sequence": sequence}
            note_due(session, due)
    elif due is not None and token is not None:
        _add(session, booking, REMINDER, due, {"token": token, "sequence": sequence}, now)


def booking_cancelled(session: Session, booking: Booking, token: str | None, now: datetime, *, by_venue: bool) -> None:
    """Queue the notice of a cancellation (due now) and drop the pending reminder."""
    if not booking.email:
        return
    reminder = _pending_reminder(session, booking.id)
    token = token or (reminder.payload.get("token") if reminder is not None else None)
    _add(session, booking, CANCELLED, now, {"token": token, "sequence": _next_sequence(session, booking.id),
                                             "by_venue": by_venue}, now)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.booking_id == booking.id, OutboxMessage.kind == REMINDER,
               OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.DROPPED)
    )


def _reminder_due(booking: Booking, now: datetime) -> datetime | None:
    own = booking.slot.game.reminder_hours  # the game's own lead; None follows BOOKING_REMINDER_HOURS
    hours = reminder_hours() if own is None else own
    if hours <= 0:
        return None
    due = booking.slot.starts_at - timedelta(hours=hours)
    return due if due > now else None  # booked inside the reminder's lead: the confirmation is enough


def _pending_reminder(session: Session, booking_id: int) -> OutboxMessage | None:
    return session.scalar(
        select(OutboxMessage).where(OutboxMessage.booking_id == booking_id, OutboxMessage.kind == REMINDER,
                                    OutboxMessage.status == OutboxStatus.PENDING).limit(1)
    )


def _next_sequence(session: Session, booking_id: int) -> int:
    """The calendar SEQUENCE of the next change: one more than the booking's messages so far."""
    count = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.booking_id == booking_id, OutboxMessage.kind != REMINDER))
    return int(count or 0)


def _add(session: Session, booking: Booking, kind: str, due: datetime, payload: dict, now: datetime) -> OutboxMessage:
    message = OutboxMessage(
        kind=kind, booking_id=booking.id, recipient=booking.email, payload=payload, due_at=due,
        next_attempt_at=due, status=OutboxStatus.PENDING, attempts=0, created_at=now, message_id=uuid.uuid4().hex,
    )
    session.add(message)
    session.flush()
    note_due(session, due)
    return message


def note_due(session: Session, due: datetime) -> None:
    """Remember that this transaction wrote a row due at ``due``; deliverers hear of it on commit."""
    current = session.info.get(_DUE_KEY)
    session.info[_DUE_KEY] = due if current is None else min(current, due)


# Once the transaction commits, deliverers hear of the earliest due time it wrote.
_listeners: list = []


def on_due(callback) -> None:
    """Call ``callback(due)`` after each commit that wrote outbox rows (the lazy deliverer listens)."""
    _listeners.append(callback)


def announce_due(due: datetime) -> None:
    """Tell the listeners a message is due at ``due`` (after a commit that made it so)."""
    for callback in list(_listeners):
        try:
            callback(due)
        except Exception:  # a deliverer's memo must never fail a booking that committed
            pass


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    due = session.info.pop(_DUE_KEY, None)
    if due is not None:
        announce_due(due)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_DUE_KEY, None)
