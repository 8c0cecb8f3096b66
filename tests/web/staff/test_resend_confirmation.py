"""Staff resend a booking's confirmation: a new link goes out, the old one stops working, the audit log says so."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import AuditEvent, BookingSource, OutboxMessage
from bookingapp.services import bookings as service
from bookingapp.services import delivery
from bookingapp.services.booking_input import BookingRequest

from tests.booking_helpers import fill, slot_at
from tests.staff_helpers import post_form

UTC = timezone.utc
DAY_AFTER = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_URL": smtp_server.url, "SITE_URL": "https://book.example"}


@pytest.fixture
def booked(app, clock, make_game, smtp_server):
    game = make_game()
    fill(game, clock)
    made = service.book_slot(db.session, BookingRequest(slot_at(game, DAY_AFTER).id, "Ada", "ada@example.com", 2),
                             clock.now())
    delivery.deliver_due(clock.now())
    return made


def _link_in(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return next(line for line in text.splitlines() if line.startswith("https://")).removeprefix("https://book.example")


def _page(reference: str) -> str:
    return f"/admin/bookings/{reference}"


def test_resend_sends_a_new_link_and_the_old_one_stops_working(staff_client, booked, clock, smtp_server):
    reference = booked.booking.reference
    old_link = _link_in(smtp_server.messages[0])
    page = staff_client.get(_page(reference)).get_data(as_text=True)
    assert "Resend confirmation" in page
    answer = post_form(staff_client, _page(reference), {}, url=f"{_page(reference)}/resend", follow_redirects=True)
    assert answer.status_code == 200
    assert "a new link was sent to ada@example.com; the old link no longer works" in answer.get_data(as_text=True)
    assert delivery.deliver_due(clock.now()).sent == 1
    first, again = smtp_server.messages
    new_link = _link_in(again)
    assert str(again["Subject"]).strip().startswith("Booking confirmed: ") and new_link != old_link
    customer = staff_client.application.test_client()
    assert customer.get(old_link).status_code == 403
    assert customer.get(new_link).status_code == 200
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "booking.resend")).one()
    assert (event.actor, event.target_id, event.after) == ("alice", reference, {"email": "ada@example.com"})


def test_the_pending_reminder_carries_the_new_link(staff_client, booked, clock, smtp_server):
    reference = booked.booking.reference
    post_form(staff_client, _page(reference), {}, url=f"{_page(reference)}/resend")
    delivery.deliver_due(clock.now())
    new_token = _link_in(smtp_server.messages[-1]).split("token=")[1]
    db.session.expire_all()
    reminder = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "booking.reminder")).one()
    assert reminder.payload["token"] == new_token


def test_a_booking_without_email_is_refused_with_a_message(staff_client, app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = service.book_slot(db.session, BookingRequest(slot_at(game, DAY_AFTER).id, "Walk-in", "", 1,
                                                        source=BookingSource.STAFF), clock.now())
    reference = made.booking.reference
    assert "Resend confirmation" not in staff_client.get(_page(reference)).get_data(as_text=True)
    answer = post_form(staff_client, _page(reference), {}, url=f"{_page(reference)}/resend")
    assert answer.status_code == 422
    assert "This booking has no email address, so no confirmation can be sent." in answer.get_data(as_text=True)
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "booking.resend")).all() == []


def test_a_cancelled_booking_is_refused(staff_client, booked, clock):
    service.cancel_booking(db.session, booked.booking.reference, booked.cancel_token, clock.now())
    reference = booked.booking.reference
    answer = post_form(staff_client, _page(reference), {}, url=f"{_page(reference)}/resend")
    assert answer.status_code == 409 and "there is no confirmation to send again" in answer.get_data(as_text=True)


def test_a_post_without_the_csrf_token_changes_nothing(staff_client, booked, clock, smtp_server):
    reference = booked.booking.reference
    answer = staff_client.post(f"{_page(reference)}/resend")
    assert answer.status_code == 400  # CSRFProtect refuses it before the view
    assert delivery.deliver_due(clock.now()).sent == 0
    customer = staff_client.application.test_client()
    assert customer.get(_link_in(smtp_server.messages[0])).status_code == 200


def test_the_staff_api_resends_too(api, booked, clock, smtp_server):
    reference = booked.booking.reference
    answer = api.post(f"/api/bookings/{reference}/resend", None)
    assert answer.status_code == 200 and answer.get_json()["reference"] == reference
    assert delivery.deliver_due(clock.now()).sent == 1
    assert _link_in(smtp_server.messages[-1]) != _link_in(smtp_server.messages[0])
    assert api.post("/api/bookings/NOSUCHREF/resend", None).status_code == 404
