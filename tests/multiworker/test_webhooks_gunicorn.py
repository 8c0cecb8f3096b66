"""Webhooks from four gunicorn workers with lazy delivery: every booking's event reaches the receiver exactly once."""
from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import func, select

from bookingapp.extensions import db
from bookingapp.models import OutboxMessage, OutboxStatus, Slot
from bookingapp.services import webhooks
from bookingapp.services.audit import Actor
from tests.booking_helpers import fill
from tests.multiworker.gunicorn_server import PAGE, Gunicorn
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.slow
BOOKINGS = 40


def _sent() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.endpoint_id.is_not(None), OutboxMessage.status == OutboxStatus.SENT))


def test_forty_bookings_through_four_workers_post_forty_signed_events_once(app, pg_url, tmp_path, make_game, clock,
                                                                         smtp_server):
    game = make_game(capacity=BOOKINGS)
    fill(game, clock)
    slot_id = db.session.scalar(select(Slot.id).where(Slot.game_id == game.id, Slot.starts_at > datetime(
        2027, 1, 14, tzinfo=timezone.utc)).order_by(Slot.starts_at).limit(1))
    with Receiver() as receiver, Gunicorn(tmp_path, pg_url, maintenance=False, mail_url=smtp_server.url) as server:
        new = webhooks.register_endpoint(db.session, receiver.url, ["booking.confirmed"], actor=Actor("alice", "user"),
                                         now=clock.now())
        server.env["WEBHOOK_ALLOW_PRIVATE"] = "true"  # the receiver listens on 127.0.0.1
        server.set_clock(clock.now())
        server.start(workers=4)

        def book(n: int) -> int:
            body = {"slot_id": slot_id, "name": f"Guest {n}", "email": f"guest{n}@example.com", "party_size": 1}
            return requests.post(server.url + "/api/bookings", json=body, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert Counter(pool.map(book, range(BOOKINGS))) == {201: BOOKINGS}
        deadline = time.monotonic() + 60
        while _sent() < BOOKINGS and time.monotonic() < deadline:
            requests.get(server.url + PAGE, timeout=10)  # responses are what hand due messages to the pool
            time.sleep(0.2)
        assert _sent() == BOOKINGS, server.log()[-3000:]
        got = list(receiver.requests)
    deliveries = Counter(r.headers["X-Bookingapp-Delivery"] for r in got)
    assert len(got) == BOOKINGS and set(deliveries.values()) == {1}
    assert all(r.signed_by(new.secret) for r in got)
    assert sorted(r.json["data"]["name"] for r in got) == sorted(f"Guest {n}" for n in range(BOOKINGS))
