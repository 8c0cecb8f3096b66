"""Email from the outbox to a real SMTP server: what customers receive, and retries when SMTP fails."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import OutboxMessage, OutboxStatus
from bookingapp.services import bookings as service
from bookingapp.services import delivery
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.moves import MoveRequest, move_booking

from tests.booking_helpers import fill, slot_at

UTC = timezone.utc
DAY_AFTER = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)  # 48.5 h after the tests' now; 10:00 GMT in London
LATER = datetime(2027, 1, 15, 14, 0, tzinfo=UTC)


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_URL": smtp_server.url, "MAIL_FROM": "desk@venue.example", "VENUE_NAME": "Escape Ltd",
            "VENUE_ADDRESS": "1 High St", "VENUE_PHONE": "+44 20 1234", "SITE_URL": "https://book.venue.example"}


def _book(game, clock, starts_at=DAY_AFTER, email="ada@example.com", locale="en", party=2):
    return service.book_slot(db.session, BookingRequest(slot_at(game, starts_at).id, "Ada", email, party,
                                                        locale=locale), clock.now())


def _subject(message) -> str:
    return str(message["Subject"]).strip()  # a folded header may come back with its fold's space


def _calendar(message) -> Calendar:
    part = next(p for p in message.iter_attachments() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(part.get_content() if isinstance(part.get_content(), str) else part.get_content().decode())


def _event(message):
    return _calendar(message).walk("VEVENT")[0]


def _rows():
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_the_confirmation_arrives_once_with_its_headers_bodies_link_and_calendar_event(
        any_app, clock, make_game, smtp_server):
    game = make_game(name="Laser <Maze>", price=2500, currency="GBP", price_per="player",
                     instructions="Arrive 10 minutes early.", location="Room 2")
    fill(game, clock)
    made = _book(game, clock)
    assert delivery.deliver_due(clock.now()) == delivery.DeliveryReport(sent=1)
    assert delivery.deliver_due(clock.now()) == delivery.DeliveryReport()  # nothing twice
    [message] = smtp_server.messages
    reference = made.booking.reference
    assert message["To"] == "ada@example.com"
    assert message["From"].addresses[0].display_name == "Escape Ltd"
    assert message["From"].addresses[0].addr_spec == "desk@venue.example"
    assert _subject(message) == "Booking confirmed: Laser <Maze>, Friday 15 January 2027, 10:00 GMT"
    row = _rows()[0]
    assert message["Message-ID"] == f"<{row.message_id}@book.venue.example>"
    assert (row.status, row.attempts, row.response_status, row.sent_at) == (OutboxStatus.SENT, 1, 250, clock.now())
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"https://book.venue.example/bookings/{reference}?token={made.cancel_token}"
    for expected in ("your booking is confirmed", reference, "Friday 15 January 2027, 10:00 GMT (UTC+00:00)",
                     "Players: 2", "£50.00, pay at the venue", "Escape Ltd, Room 2, 1 High St", "+44 20 1234",
                     "Arrive 10 minutes early.", link, "Laser <Maze>"):
        assert expected in text
    assert "Laser &lt;Maze&gt;" in html and "Laser <Maze>" not in html  # escaped
    assert f'href="{link}"' in html.replace("&amp;", "&")
    event = _event(message)
    assert str(_calendar(message)["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"{reference}@bookingapp" and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == DAY_AFTER and event.decoded("DTSTART").utcoffset() == timedelta(0)
    part = next(message.iter_attachments())
    assert part["Content-Type"].params["method"] == "REQUEST"


def test_the_manage_link_in_the_email_opens_the_booking(any_app, clock, make_game, smtp_server):
    game = make_game()
    fill(game, clock)
    made = _book(game, clock)
    delivery.deliver_due(clock.now())
    text = smtp_server.messages[0].get_body(("plain",)).get_content()
    path = next(line for line in text.splitlines() if line.startswith("https://")).removeprefix(
        "https://book.venue.example")
    page = any_app.test_client().get(path)
    assert page.status_code == 200 and made.booking.reference in page.get_data(as_text=True)


def test_a_german_booking_gets_german_email(any_app, clock, make_game, smtp_server):
    game = make_game(timezone="Europe/Berlin", instructions="Bitte pünktlich.")
    fill(game, clock)
    _book(game, clock, starts_at=DAY_AFTER, locale="de")  # 11:00 in Berlin
    delivery.deliver_due(clock.now())
    [message] = smtp_server.messages
    assert _subject(message).startswith("Buchung bestätigt: ")
    assert _subject(message).endswith("Freitag, 15. Januar 2027, 11:00 CET")
    assert "Freitag, 15. Januar 2027, 11:00 CET (UTC+01:00)" in message.get_body(("plain",)).get_content()
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hallo Ada, Ihre Buchung ist bestätigt." in text and "Bevor Sie kommen" in text
    assert "Buchung ansehen, verlegen oder stornieren" in html and "Personen" in html


def test_a_move_sends_a_notice_whose_event_has_a_higher_sequence(any_app, clock, make_game, smtp_server):
    game = make_game()
    fill(game, clock)
    made = _book(game, clock)
    delivery.deliver_due(clock.now())
    move_booking(db.session, MoveRequest(made.booking.reference, slot_at(game, LATER).id, token=made.cancel_token),
                 clock.now())
    delivery.deliver_due(clock.now())
    first, moved = smtp_server.messages
    assert _subject(moved).startswith("Booking moved: ")
    text = moved.get_body(("plain",)).get_content()
    assert "Friday 15 January 2027, 14:00 GMT" in text and "Before the move: Friday 15 January 2027, 10:00 GMT" in text
    assert str(_event(moved)["UID"]) == str(_event(first)["UID"])
    assert int(_event(moved)["SEQUENCE"]) > int(_event(first)["SEQUENCE"])
    assert _event(moved).decoded("DTSTART") == LATER


def test_a_cancel_sends_a_calendar_cancel(any_app, clock, make_game, smtp_server):
    game = make_game()
    fill(game, clock)
    made = _book(game, clock)
    service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    delivery.deliver_due(clock.now())
    confirmed, cancelled = smtp_server.messages
    assert _subject(cancelled).startswith("Booking cancelled: ")
    assert str(_calendar(cancelled)["METHOD"]) == "CANCEL" and str(_event(cancelled)["STATUS"]) == "CANCELLED"
    assert int(_event(cancelled)["SEQUENCE"]) == 1
    assert next(cancelled.iter_attachments())["Content-Type"].params["method"] == "CANCEL"


def test_the_reminder_is_sent_only_once_its_time_comes(any_app, clock, make_game, smtp_server):
    game = make_game()
    fill(game, clock)
    _book(game, clock)
    delivery.deliver_due(clock.now())
    clock.advance(timedelta(hours=24, minutes=29))  # a minute before 24 h ahead of the start
    assert delivery.deliver_due(clock.now()).sent == 0
    clock.advance(timedelta(minutes=1))
    assert delivery.deliver_due(clock.now()).sent == 1
    reminder = smtp_server.messages[-1]
    assert _subject(reminder).startswith("Reminder: ") and len(smtp_server.messages) == 2
    assert str(_calendar(reminder)["METHOD"]) == "REQUEST"


def test_a_cancelled_booking_never_gets_its_reminder(any_app, clock, make_game, smtp_server):
    game = make_game()
    fill(game, clock)
    made = _book(game, clock)
    service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    clock.advance(timedelta(hours=47))
    delivery.deliver_due(clock.now())
    assert [_subject(m).split(":")[0] for m in smtp_server.messages] == ["Booking confirmed", "Booking cancelled"]


def test_a_refusing_server_gets_retries_on_the_backoff_until_the_message_fails(app, clock, make_game, smtp_server):
    game = make_game()
    fill(game, clock)
    _book(game, clock, starts_at=datetime(2027, 1, 13, 12, 0, tzinfo=UTC))  # no reminder
    smtp_server.refuse(451)
    start = clock.now()
    for attempt, wait in enumerate([60, 300, 1800, 7200, 43200], start=1):
        assert delivery.deliver_due(clock.now()) == delivery.DeliveryReport(retried=1)
        row = _rows()[0]
        assert (row.attempts, row.response_status, row.next_attempt_at) == (attempt, 451, clock.now() + timedelta(seconds=wait))
        assert "451" in row.last_error
        clock.advance(timedelta(seconds=wait - 1))
        assert delivery.deliver_due(clock.now()) == delivery.DeliveryReport()  # not yet
        clock.advance(timedelta(seconds=1))
    assert delivery.deliver_due(clock.now()) == delivery.DeliveryReport(failed=1)
    assert _rows()[0].status is OutboxStatus.FAILED and smtp_server.messages == []
    assert clock.now() - start == timedelta(seconds=60 + 300 + 1800 + 7200 + 43200)
    smtp_server.accept()
    assert delivery.retry(_rows()[0].id, clock.now()) is True
    assert delivery.retry(_rows()[0].id, clock.now()) is False  # pending now, not failed
    assert delivery.deliver_due(clock.now()).sent == 1 and len(smtp_server.messages) == 1


def test_a_permanent_refusal_fails_at_once(app, clock, make_game, smtp_server):
    game = make_game()
    fill(game, clock)
    _book(game, clock, starts_at=datetime(2027, 1, 13, 12, 0, tzinfo=UTC))
    smtp_server.refuse(550)
    assert delivery.deliver_due(clock.now()) == delivery.DeliveryReport(failed=1)
    row = _rows()[0]
    assert (row.status, row.attempts, row.response_status) == (OutboxStatus.FAILED, 1, 550)
    assert delivery.counts() == {"pending": 0, "sent": 0, "failed": 1, "dropped": 0}


def test_a_server_that_is_down_means_a_retry_not_a_lost_message(app, clock, make_game, smtp_server):
    game = make_game()
    fill(game, clock)
    _book(game, clock)
    smtp_server.stop()
    assert delivery.deliver_due(clock.now()) == delivery.DeliveryReport(retried=1)
    row = _rows()[0]
    assert row.response_status is None and "unreachable" in row.last_error
    assert delivery.next_due_at() == clock.now() + timedelta(seconds=60)
    smtp_server.start()
    clock.advance(timedelta(seconds=90))
    assert delivery.oldest_due_age(clock.now()) == 30.0
    assert delivery.deliver_due(clock.now()).sent == 1
    assert delivery.oldest_due_age(clock.now()) is None
