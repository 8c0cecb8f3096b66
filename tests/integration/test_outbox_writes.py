"""The outbox is written in the booking's own transaction: confirmed, moved, cancelled, the reminder re-timed or dropped."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bookingapp.errors import SlotFull
from bookingapp.extensions import db
from bookingapp.models import BookingSource, OutboxMessage, OutboxStatus
from bookingapp.services import bookings as service
from bookingapp.services.audit import Actor
from bookingapp.services.booking_changes import cancel_as_staff
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.moves import MoveRequest, move_booking

from tests.booking_helpers import fill, slot_at

UTC = timezone.utc
DAY_AFTER = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)  # 48.5 h after the tests' now
STAFF = Actor("alice", "user")


def _messages():
    db.session.expire_all()
    return [(m.kind, m.status.value, m.due_at) for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def _book(slot, clock, email="ada@example.com", party=1, source=BookingSource.ONLINE):
    return service.book_slot(db.session, BookingRequest(slot.id, "Ada", email, party, source=source), clock.now())


def test_a_booking_queues_its_confirmation_now_and_its_reminder_a_day_before(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, DAY_AFTER), clock)
    assert _messages() == [("booking.confirmed", "pending", clock.now()),
                           ("booking.reminder", "pending", DAY_AFTER - timedelta(hours=24))]
    confirmation = db.session.scalars(select(OutboxMessage)).first()
    assert confirmation.payload["token"] == made.cancel_token and confirmation.recipient == "ada@example.com"


def test_no_email_no_messages_and_a_booking_inside_the_lead_gets_no_reminder(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    _book(slot_at(game, DAY_AFTER), clock, email="", source=BookingSource.STAFF)
    assert _messages() == []
    _book(slot_at(game, datetime(2027, 1, 13, 12, 0, tzinfo=UTC)), clock)
    assert [kind for kind, _, _ in _messages()] == ["booking.confirmed"]


def test_a_refused_booking_leaves_no_message(any_app, clock, make_game):
    game = make_game(capacity=2)
    fill(game, clock)
    slot = slot_at(game, DAY_AFTER)
    _book(slot, clock, party=2)
    with pytest.raises(SlotFull):
        _book(slot, clock, party=1)
    assert [kind for kind, _, _ in _messages()] == ["booking.confirmed", "booking.reminder"]


def test_cancelling_queues_the_notice_and_drops_the_reminder_once(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, DAY_AFTER), clock)
    service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    assert [(k, s) for k, s, _ in _messages()] == [
        ("booking.confirmed", "pending"), ("booking.reminder", "dropped"), ("booking.cancelled", "pending")]


def test_staff_cancel_carries_the_token_of_the_pending_reminder(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, DAY_AFTER), clock)
    cancel_as_staff(db.session, made.booking.reference, STAFF, clock.now())
    notice = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "booking.cancelled")).one()
    assert notice.payload == {"token": made.cancel_token, "sequence": 1, "by_venue": True}


def test_a_move_queues_its_notice_and_re_times_the_reminder(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, DAY_AFTER), clock)
    later = DAY_AFTER + timedelta(days=1)
    move_booking(db.session, MoveRequest(made.booking.reference, slot_at(game, later).id, actor=STAFF), clock.now())
    assert _messages() == [("booking.confirmed", "pending", clock.now()),
                           ("booking.reminder", "pending", later - timedelta(hours=24)),
                           ("booking.moved", "pending", clock.now())]
    moved = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "booking.moved")).one()
    assert moved.payload["token"] == made.cancel_token and moved.payload["sequence"] == 1
    assert datetime.fromisoformat(moved.payload["old_starts_at"]) == DAY_AFTER


def test_reminders_off(app, clock, make_game):
    app.config["BOOKING_REMINDER_HOURS"] = 0
    game = make_game()
    fill(game, clock)
    _book(slot_at(game, DAY_AFTER), clock)
    assert [kind for kind, _, _ in _messages()] == ["booking.confirmed"]


@pytest.mark.parametrize("own, due", [
    (None, DAY_AFTER - timedelta(hours=24)),  # BOOKING_REMINDER_HOURS
    (2, DAY_AFTER - timedelta(hours=2)),
    (0, None),  # this game sends none
])
def test_a_games_own_reminder_lead_wins_over_the_setting(app, clock, make_game, own, due):
    game = make_game()
    game.reminder_hours = own
    db.session.commit()
    fill(game, clock)
    _book(slot_at(game, DAY_AFTER), clock)
    reminders = [when for kind, _, when in _messages() if kind == "booking.reminder"]
    assert reminders == ([] if due is None else [due])
