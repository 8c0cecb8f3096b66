"""/admin/outbox: what waits and what failed, newest first and paged; Retry (CSRF, audited); who may see it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import AuditEvent, OutboxMessage, OutboxStatus, StaffRole, StaffUser
from bookingapp.services import delivery
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.bookings import book_slot
from tests.booking_helpers import fill, slot_at
from tests.staff_helpers import PASSWORD, csrf_from, post_form

UTC = timezone.utc
SOON = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)  # inside the reminder's lead: one message per booking


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_URL": smtp_server.url}


@pytest.fixture
def booked(app, clock, make_game):
    """Book ``n`` customers into one slot; their references, oldest first."""
    game = make_game(capacity=100)
    fill(game, clock, days=1)
    slot_id = slot_at(game, SOON).id

    def book(n: int, start: int = 0) -> list[str]:
        refs = []
        for i in range(start, start + n):
            made = book_slot(db.session, BookingRequest(slot_id, f"Guest {i}", f"guest{i}@example.com", 1), clock.now())
            refs.append(made.booking.reference)
            clock.advance(seconds=1)  # so "newest first" has an order to show
        return refs

    return book


def _failed_one(booked, clock, smtp_server) -> OutboxMessage:
    """A confirmation the SMTP server refused for good (550): failed at its first attempt."""
    (ref,) = booked(1, start=90)
    smtp_server.refuse(550)
    delivery.deliver_due(clock.now())
    smtp_server.accept()
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)).one()


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="outbox-(\w+)">', html)


def test_staff_see_waiting_and_failed_messages_newest_first_with_their_details(staff_client, booked, clock,
                                                                               smtp_server):
    failed = _failed_one(booked, clock, smtp_server)
    refs = booked(2)
    html = staff_client.get("/admin/outbox").get_data(as_text=True)
    assert _rows(html) == ["pending", "pending", "failed"]
    assert html.index(refs[1]) < html.index(refs[0]) < html.index(failed.booking.reference)
    assert f'href="/admin/bookings/{refs[0]}"' in html and "guest0@example.com" in html
    assert "550" in html and "Refused by the test server" in html  # the code and the last error
    assert "booking.confirmed" in html and 'aria-label="Retry message' in html and html.count(">Retry</button>") == 1


def test_the_listing_pages_fifty_at_a_time_and_sent_ones_have_their_own(staff_client, booked, clock):
    booked(60)
    first = staff_client.get("/admin/outbox").get_data(as_text=True)
    assert len(_rows(first)) == 50 and "Page 1 of 2" in first and "60 messages" in first
    second = staff_client.get("/admin/outbox?page=2").get_data(as_text=True)
    assert len(_rows(second)) == 10 and "guest0@example.com" in second and "guest59@example.com" not in second
    while delivery.deliver_due(clock.now()).total:
        pass
    assert _rows(staff_client.get("/admin/outbox").get_data(as_text=True)) == []
    assert len(_rows(staff_client.get("/admin/outbox?show=sent&page=2").get_data(as_text=True))) == 10


@pytest.mark.parametrize("query", ["?show=everything", "?show=%00"])
def test_an_unknown_listing_answers_400_and_says_which_exist(staff_client, query):
    response = staff_client.get("/admin/outbox" + query)
    assert response.status_code == 400
    assert "one of open, failed, sent" in response.get_data(as_text=True)


def test_retry_puts_a_failed_message_back_due_now_audited_and_it_is_then_sent(staff_client, booked, clock,
                                                                              smtp_server):
    failed = _failed_one(booked, clock, smtp_server)
    clock.advance(minutes=10)
    response = post_form(staff_client, "/admin/outbox?show=failed", {"show": "failed"},
                         url=f"/admin/outbox/{failed.id}/retry", follow_redirects=True)
    assert response.status_code == 200 and "is due again" in response.get_data(as_text=True)
    db.session.expire_all()
    row = db.session.get(OutboxMessage, failed.id)
    assert (row.status, row.next_attempt_at, row.attempts) == (OutboxStatus.PENDING, clock.now(), 0)
    (event,) = db.session.scalars(select(AuditEvent)).all()
    assert (event.actor, event.action, event.target_type, event.target_id) == (
        "alice", "outbox.retry", "outbox_message", str(failed.id))
    assert event.before["status"] == "failed" and event.after["status"] == "pending"
    delivery.deliver_due(clock.now())
    assert [str(m["To"]) for m in smtp_server.messages] == ["guest90@example.com"]


def test_retry_without_the_csrf_token_is_refused_and_changes_nothing(staff_client, booked, clock, smtp_server):
    failed = _failed_one(booked, clock, smtp_server)
    response = staff_client.post(f"/admin/outbox/{failed.id}/retry", data={})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(OutboxMessage, failed.id).status is OutboxStatus.FAILED
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_retrying_a_message_that_has_not_failed_answers_409_and_a_missing_one_404(staff_client, booked):
    booked(1)
    pending = db.session.scalars(select(OutboxMessage)).one()
    token = csrf_from(staff_client.get("/admin/outbox").get_data(as_text=True))
    response = staff_client.post(f"/admin/outbox/{pending.id}/retry", data={"csrf_token": token})
    assert response.status_code == 409 and "this one is pending" in response.get_data(as_text=True)
    assert staff_client.post("/admin/outbox/999999/retry", data={"csrf_token": token}).status_code == 404
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_a_desk_login_may_see_and_retry(app, password_hash, booked, clock, smtp_server):
    failed = _failed_one(booked, clock, smtp_server)
    db.session.add(StaffUser(username="dana", password_hash=password_hash, role=StaffRole.DESK))
    db.session.commit()
    desk = app.test_client()
    assert post_form(desk, "/admin/login", {"username": "dana", "password": PASSWORD}).status_code == 302
    page = desk.get("/admin/outbox")
    assert page.status_code == 200 and 'href="/admin/outbox"' in page.get_data(as_text=True)  # in the navigation
    assert post_form(desk, "/admin/outbox", {}, url=f"/admin/outbox/{failed.id}/retry").status_code == 302
    db.session.expire_all()
    assert db.session.get(OutboxMessage, failed.id).status is OutboxStatus.PENDING
    assert db.session.scalars(select(AuditEvent.actor)).all() == ["dana"]


def test_anonymous_visitors_are_sent_to_the_login_and_cannot_retry(app, booked, clock, smtp_server):
    failed = _failed_one(booked, clock, smtp_server)
    client = app.test_client()
    response = client.get("/admin/outbox")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    response = client.post(f"/admin/outbox/{failed.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(OutboxMessage, failed.id).status is OutboxStatus.FAILED


class TestEmbeddedDefault:
    @pytest.fixture
    def app_settings(self):
        return {"MAIL_URL": None}

    def test_a_sent_email_links_to_the_eml_file_it_was_written_to(self, staff_client, app, booked, clock,
                                                                  monkeypatch, tmp_path):
        monkeypatch.setattr(app, "instance_path", str(tmp_path))
        (ref,) = booked(1)
        delivery.deliver_due(clock.now())
        message = db.session.scalars(select(OutboxMessage)).one()
        html = staff_client.get("/admin/outbox?show=sent").get_data(as_text=True)
        assert f'href="/admin/outbox/{message.id}.eml"' in html
        eml = staff_client.get(f"/admin/outbox/{message.id}.eml")
        assert eml.status_code == 200 and eml.mimetype == "text/plain"
        text = eml.get_data(as_text=True)
        assert "To: guest0@example.com" in text and message.message_id in text and ref in text
        assert staff_client.get("/admin/outbox/999999.eml").status_code == 404


def test_with_mail_url_there_is_no_eml_to_show(staff_client, booked, clock):
    booked(1)
    delivery.deliver_due(clock.now())
    message = db.session.scalars(select(OutboxMessage)).one()
    assert ".eml" not in staff_client.get("/admin/outbox?show=sent").get_data(as_text=True)
    assert staff_client.get(f"/admin/outbox/{message.id}.eml").status_code == 404


def test_healthz_reports_the_outbox(client, booked, clock, smtp_server):
    body = client.get("/healthz").get_json()
    assert body["outbox"] == {"delivery_enabled": False, "pending": 0, "failed": 0, "oldest_due_age_seconds": None}
    booked(2)
    delivery.deliver_due(clock.now())
    _failed_one(booked, clock, smtp_server)
    booked(1, start=50)  # due at the clock's now, which moves a second past it
    clock.advance(seconds=30)
    body = client.get("/healthz").get_json()
    assert body["outbox"] == {"delivery_enabled": False, "pending": 1, "failed": 1, "oldest_due_age_seconds": 31.0}
    assert body["status"] == "ok"
