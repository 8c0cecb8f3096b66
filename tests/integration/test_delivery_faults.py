"""Delivery under faults: SMTP down while customers book, deliverers racing, a deliverer dying mid-send."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bookingapp.extensions import db
from bookingapp.models import Booking, OutboxMessage, OutboxStatus
from bookingapp.services import delivery
from bookingapp.services.mail import SmtpTransport

from tests.booking_helpers import fill, slot_at
from tests.race_helpers import in_app

UTC = timezone.utc
SOON = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)  # inside the reminder's lead: one message per booking


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_URL": smtp_server.url}


def _book_online(client, slot_id: int, n: int):
    return client.post("/api/bookings", json={"slot_id": slot_id, "name": f"Guest {n}",
                                              "email": f"guest{n}@example.com", "party_size": 1})


def _message_ids(server) -> Counter:
    return Counter(str(message["Message-ID"]) for message in server.messages)


@pytest.mark.parametrize("fault", ["refusing", "down"])
def test_smtp_failing_while_100_bookings_are_made_loses_none_and_sends_none_twice(
        any_app, clock, make_game, smtp_server, fault):
    game = make_game(capacity=100)
    fill(game, clock, days=1)
    slot_id = slot_at(game, SOON).id
    smtp_server.refuse(451) if fault == "refusing" else smtp_server.stop()
    client = any_app.test_client()
    for n in range(100):
        assert _book_online(client, slot_id, n).status_code == 201
        if n % 25 == 24:  # deliverers keep trying while customers book
            assert delivery.deliver_due(clock.now()).sent == 0
    while delivery.deliver_due(clock.now()).total:
        pass
    assert smtp_server.messages == [] and db.session.scalar(select(func.count()).select_from(Booking)) == 100
    smtp_server.accept() if fault == "refusing" else smtp_server.start()
    clock.advance(timedelta(seconds=59))
    assert delivery.deliver_due(clock.now()).sent == 0  # still inside the first backoff
    clock.advance(timedelta(seconds=1))
    while delivery.deliver_due(clock.now()).total:
        pass
    assert sorted(str(m["To"]) for m in smtp_server.messages) == sorted(f"guest{n}@example.com" for n in range(100))
    assert set(_message_ids(smtp_server).values()) == {1}
    assert delivery.counts()["sent"] == 100


def test_four_deliverers_racing_on_postgresql_send_each_message_once(app, clock, make_game, smtp_server):
    game = make_game(capacity=200)
    fill(game, clock, days=1)
    slot_id = slot_at(game, SOON).id
    client = app.test_client()
    for n in range(200):
        assert _book_online(client, slot_id, n).status_code == 201
    start, errors, reports = threading.Barrier(4), [], []

    def deliver():
        start.wait()
        while (report := delivery.deliver_due(clock.now(), limit=7)).total:
            reports.append(report)

    threads = [in_app(app, deliver, errors) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(smtp_server.messages) == 200 and set(_message_ids(smtp_server).values()) == {1}
    assert sum(report.sent for report in reports) == 200
    db.session.expire_all()
    assert set(db.session.scalars(select(OutboxMessage.attempts))) == {1}


def test_a_deliverer_that_dies_mid_send_leaves_the_message_to_be_sent_after_its_lease(
        any_app, clock, make_game, smtp_server, monkeypatch):
    game = make_game()
    fill(game, clock, days=1)
    assert _book_online(any_app.test_client(), slot_at(game, SOON).id, 1).status_code == 201
    real_send = SmtpTransport.send

    def killed(self, email):
        real_send(self, email)  # the server has it; the worker dies before recording so
        raise SystemExit("killed")

    monkeypatch.setattr(SmtpTransport, "send", killed)
    with pytest.raises(SystemExit):
        delivery.deliver_due(clock.now())
    monkeypatch.setattr(SmtpTransport, "send", real_send)
    assert delivery.deliver_due(clock.now()).total == 0  # claimed: nobody takes it during the lease
    clock.advance(delivery.CLAIM_LEASE)
    assert delivery.deliver_due(clock.now()).sent == 1
    first, again = smtp_server.messages
    assert first["Message-ID"] == again["Message-ID"]  # a receiver can drop the repeat
    row = db.session.scalars(select(OutboxMessage)).one()
    db.session.refresh(row)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
