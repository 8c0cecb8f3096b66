"""The reminder follows the game's own lead when it has one: hours before the start, 0 for none."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import OutboxMessage
from bookingapp.services import bookings as service
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.moves import MoveRequest, move_booking

from tests.booking_helpers import fill, slot_at

DAY_AFTER = datetime(2027, 1, 15, 10, 0, tzinfo=timezone.utc)


def _reminders():
    db.session.expire_all()
    return [m.due_at for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "booking.reminder", OutboxMessage.status == "pending"))]


def _book(game, clock, starts_at=DAY_AFTER):
    slot = slot_at(game, starts_at)
    return service.book_slot(db.session, BookingRequest(slot.id, "Ada", "ada@example.com", 1), clock.now())


def test_a_games_own_lead_times_the_reminder_and_survives_a_move(any_app, clock, make_game):
    game = make_game(reminder_hours=2)
    fill(game, clock)
    made = _book(game, clock)
    assert _reminders() == [DAY_AFTER - timedelta(hours=2)]
    later = DAY_AFTER + timedelta(hours=3)
    move_booking(db.session, MoveRequest(made.booking.reference, slot_at(game, later).id, token=made.cancel_token),
                 clock.now())
    assert _reminders() == [later - timedelta(hours=2)]


def test_zero_sends_no_reminder_and_none_follows_the_setting(any_app, clock, make_game):
    quiet, default = make_game(reminder_hours=0), make_game()
    fill(quiet, clock)
    fill(default, clock)
    _book(quiet, clock)
    assert _reminders() == []
    _book(default, clock)
    assert _reminders() == [DAY_AFTER - timedelta(hours=24)]
