"""Lazy delivery in one process (and a second app standing in for another): after the
response, through the pool, one clock comparison while nothing is due, Redis shares the
due time, the database stands in when Redis is down."""
from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.maintenance import outbox as lazy
from bookingapp.models import OutboxMessage, OutboxStatus
from bookingapp.services import delivery, outbox_due
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.bookings import book_slot
from tests.booking_helpers import fill, slot_at
from tests.conftest import free_port, settings_for

UTC = timezone.utc
DAY_AFTER = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)  # 48.5 h after the tests' now: a reminder is due in a day
PAGE = "/no-such-page"  # any page triggers; one that answers 404 needs nothing else


@pytest.fixture
def app_settings(request, smtp_server):
    return {"OUTBOX_DELIVERY_ENABLED": True, "OUTBOX_RECHECK_SECONDS": 5, "MAIL_URL": smtp_server.url,
            **getattr(request, "param", {})}


@pytest.fixture
def sent(smtp_server):
    """The recipients of what the SMTP server received so far, in order."""
    return lambda: [str(message["To"]) for message in smtp_server.messages]


def _memo(app) -> lazy.OutboxMemo:
    return app.extensions["outbox_delivery"]


def _settle(app) -> None:
    """Wait for the delivery task a response started, as the next response would find it done."""
    task = _memo(app).task
    if task is not None:
        task.result(timeout=30)
    db.session.expire_all()


def _get(app, path=PAGE, client=None):
    response = (client or app.test_client()).get(path)
    response.close()  # the WSGI server closes the response once it is sent: delivery starts then
    _settle(app)
    return response


def _book(slot, clock, email="ada@example.com"):
    return book_slot(db.session, BookingRequest(slot.id, "Ada", email, 1), clock.now())


def _statuses() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(m.kind, m.status.value) for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


@pytest.fixture
def counted(monkeypatch):
    """Count the look-ups and passes: the deliverer's calls and the shared time's reads."""
    calls = {"next_due_at": 0, "deliver_due": 0, "read": 0}

    def counting(owner, name, key):
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            calls[key] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    counting(delivery, "next_due_at", "next_due_at")
    counting(delivery, "deliver_due", "deliver_due")
    counting(outbox_due.SharedDue, "read", "read")
    return calls


def test_a_booking_s_confirmation_is_sent_by_the_pool_after_its_response(app, clock, make_game, sent):
    game = make_game()
    fill(game, clock)
    slot_id = slot_at(game, DAY_AFTER).id
    client = app.test_client()
    response = client.post("/api/bookings", json={"slot_id": slot_id, "name": "Ada", "email": "ada@example.com",
                                                  "party_size": 2})
    assert response.status_code == 201
    assert _memo(app).task is None and sent() == []  # the response is not yet closed
    response.close()
    _settle(app)
    assert sent() == ["ada@example.com"]
    assert _statuses() == [("booking.confirmed", "sent"), ("booking.reminder", "pending")]
    assert _memo(app).due == DAY_AFTER - timedelta(hours=24)  # the memo learnt the reminder from the database


def test_nothing_is_looked_up_while_the_memo_says_nothing_is_due(app, clock, counted):
    _get(app)
    assert counted == {"next_due_at": 1, "deliver_due": 0, "read": 1}  # the first response looks once
    for _ in range(50):
        clock.advance(seconds=0.05)
        _get(app)
    assert counted == {"next_due_at": 1, "deliver_due": 0, "read": 1}
    clock.advance(seconds=5)
    _get(app)
    assert counted["read"] == 2 and counted["deliver_due"] == 0


def test_the_reminder_goes_out_after_its_due_time(app, clock, make_game, sent):
    game = make_game()
    fill(game, clock)
    _book(slot_at(game, DAY_AFTER), clock)
    _get(app)
    assert len(sent()) == 1
    clock.set(DAY_AFTER - timedelta(hours=24, seconds=1))
    _get(app)  # a look (5 s passed), nothing due yet
    assert len(sent()) == 1
    clock.advance(seconds=2)
    _get(app)
    assert len(sent()) == 2
    assert _statuses() == [("booking.confirmed", "sent"), ("booking.reminder", "sent")]


def _other_process(app, settings: dict, clock):
    """A second app on the same database and Redis prefix: another worker, as far as the first can tell."""
    from bookingapp import create_app

    return create_app({**app.config, **settings}, clock=clock)


def test_a_message_another_process_wrote_is_known_through_redis_within_the_recheck(app, clock, make_game,
                                                                                   counted, sent):
    game = make_game()
    fill(game, clock)
    slot_id = slot_at(game, DAY_AFTER).id
    _get(app)  # this process looks: nothing pending
    other = _other_process(app, {}, clock)
    with other.app_context():
        book_slot(db.session, BookingRequest(slot_id, "Bo", "bo@example.com", 1), clock.now())
        db.session.remove()
    for _ in range(4):
        clock.advance(seconds=1)
        _get(app)
    assert sent() == [] and counted["read"] == 1  # not yet: the memo said nothing was due
    clock.advance(seconds=1)
    _get(app)
    assert sent() == ["bo@example.com"]
    assert counted["next_due_at"] == 2  # the first look, and the memo after the pass; Redis told the rest
    with other.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("app_settings", [{"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}], indirect=True)
def test_with_redis_down_the_database_tells_of_messages_another_process_wrote(app, clock, make_game,
                                                                              caplog, sent):
    game = make_game()
    fill(game, clock)
    slot_id = slot_at(game, DAY_AFTER).id
    with caplog.at_level(logging.WARNING, logger="bookingapp"):
        _get(app)
    assert sum("Redis is unreachable" in r.getMessage() for r in caplog.records) == 1
    other = _other_process(app, {}, clock)
    with other.app_context():
        book_slot(db.session, BookingRequest(slot_id, "Bo", "bo@example.com", 1), clock.now())
        db.session.remove()
        db.engine.dispose()
    caplog.clear()
    clock.advance(seconds=5)
    _get(app)
    assert sent() == ["bo@example.com"]
    assert not any("Redis is unreachable" in r.getMessage() for r in caplog.records)  # one warning per outage


def test_static_files_and_healthz_start_no_delivery(app, clock, make_game, sent):
    game = make_game()
    fill(game, clock)
    _book(slot_at(game, DAY_AFTER), clock)
    for path in ("/healthz", "/static/site.css"):
        _get(app, path)
    assert _memo(app).task is None and sent() == []
    _get(app)
    assert len(sent()) == 1


@pytest.mark.parametrize("app_settings", [{"OUTBOX_DELIVERY_ENABLED": False}], indirect=True)
def test_with_delivery_off_responses_send_nothing(app, clock, make_game, sent):
    game = make_game()
    fill(game, clock)
    _book(slot_at(game, DAY_AFTER), clock)
    app.test_client().get(PAGE).close()
    assert "outbox_delivery" not in app.extensions and sent() == []
    assert _statuses()[0] == ("booking.confirmed", "pending")


def test_a_failing_pass_never_reaches_the_response_and_is_tried_again(app, clock, make_game,
                                                                       monkeypatch, caplog, sent):
    game = make_game()
    fill(game, clock)
    _book(slot_at(game, DAY_AFTER), clock)
    real = delivery.deliver_due
    monkeypatch.setattr(delivery, "deliver_due", lambda *a, **k: 1 / 0)
    with caplog.at_level(logging.WARNING, logger="bookingapp.outbox"):
        assert _get(app).status_code == 404
    assert any("Outbox delivery failed" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(delivery, "deliver_due", real)
    _get(app)
    assert sent() == []  # not before the recheck
    clock.advance(seconds=5)
    _get(app)
    assert len(sent()) == 1


def test_one_delivery_task_per_process_at_a_time(app, clock, make_game, monkeypatch, sent):
    import threading

    game = make_game()
    fill(game, clock)
    _book(slot_at(game, DAY_AFTER), clock)
    release, started = threading.Event(), []
    real = delivery.deliver_due

    def slow(*args, **kwargs):
        started.append(1)
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(delivery, "deliver_due", slow)
    first = lazy.start_delivery(app, _memo(app))
    assert lazy.start_delivery(app, _memo(app)) is None  # the second start finds the first running
    for _ in range(5):
        app.test_client().get(PAGE).close()
    release.set()
    first.result(timeout=30)
    assert len(started) == 1 and len(sent()) == 1


@pytest.mark.parametrize("name, value, message", [
    ("OUTBOX_RECHECK_SECONDS", "soon", "OUTBOX_RECHECK_SECONDS='soon' is not a whole number"),
    ("OUTBOX_RECHECK_SECONDS", "0", "OUTBOX_RECHECK_SECONDS=0 is outside 1..3600"),  # 0 would look at every response
    ("OUTBOX_DELIVERY_ENABLED", "maybe", "OUTBOX_DELIVERY_ENABLED='maybe' is not one of true/false"),
])
def test_a_bad_delivery_setting_stops_the_app_with_one_line(name, value, message):
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", "import config"], cwd=root, env={**os.environ, name: value},
                            capture_output=True, text=True)
    assert (result.returncode, result.stderr.strip()) == (1, f"bookingapp: bad setting: {message}")
