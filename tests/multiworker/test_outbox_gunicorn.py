"""Lazy delivery under a real gunicorn with four workers sharing a file clock and an SMTP
server: each message sent once, a worker killed mid-send, SMTP down while customers book."""
from __future__ import annotations

import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import OutboxMessage, OutboxStatus
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.bookings import book_slot
from bookingapp.services.delivery import CLAIM_LEASE
from tests.booking_helpers import fill, slot_at
from tests.conftest import DEFAULT_NOW
from tests.multiworker.gunicorn_server import PAGE, Gunicorn

UTC = timezone.utc
SOON = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)  # inside the reminder's lead: one message per booking

pytestmark = pytest.mark.slow


@pytest.fixture
def server(app, pg_url, tmp_path, smtp_server):
    """Four workers on a file clock at the tests' now, delivering to the test's SMTP server."""
    with Gunicorn(tmp_path, pg_url, maintenance=False, mail_url=smtp_server.url) as gunicorn:
        gunicorn.set_clock(DEFAULT_NOW)
        gunicorn.start(workers=4)
        yield gunicorn


@pytest.fixture
def slot_id(make_game, clock):
    game = make_game(capacity=200)
    fill(game, clock, days=1)
    return slot_at(game, SOON).id


def _until(done, server: Gunicorn, timeout: float = 60.0, requests_each: int = 4) -> None:
    """Serve a few requests at a time (delivery starts after responses) until ``done()`` or the deadline."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"gave up waiting:\n{server.log()[-3000:]}"
        server.burst(requests_each, concurrency=requests_each)
        time.sleep(0.1)  # real time for the workers' pools, not the app's clock


def _message_ids(smtp_server) -> Counter:
    return Counter(str(message["Message-ID"]) for message in smtp_server.messages)


def _statuses() -> Counter:
    db.session.expire_all()
    return Counter(status.value for status in db.session.scalars(select(OutboxMessage.status)))


def test_four_workers_serving_1200_requests_send_200_due_messages_exactly_once(server, slot_id, clock, smtp_server):
    for n in range(200):
        book_slot(db.session, BookingRequest(slot_id, f"Guest {n}", f"guest{n}@example.com", 1), clock.now())
    codes = server.burst(1200, concurrency=40)
    assert Counter(codes) == {404: 1200}
    _until(lambda: len(smtp_server.messages) >= 200, server)
    time.sleep(1.0)  # give a stray second send the chance to arrive before counting
    server.burst(40, concurrency=8)
    assert len(smtp_server.messages) == 200
    assert set(_message_ids(smtp_server).values()) == {1}
    assert sorted(str(m["To"]) for m in smtp_server.messages) == sorted(f"guest{n}@example.com" for n in range(200))
    assert _statuses() == {"sent": 200}


def _worker_pids(server: Gunicorn) -> list[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def _pid_talking_to(port: int, pids: list[int]) -> int | None:
    """The process among ``pids`` with an open TCP connection to local ``port`` (read from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # ESTABLISHED
                inodes.add(fields[9])
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
            return pid
    return None


def test_a_worker_killed_mid_send_leaves_the_message_to_another_after_the_claim_lease(server, slot_id, clock,
                                                                                       smtp_server):
    smtp_server.stall()
    book_slot(db.session, BookingRequest(slot_id, "Ada", "ada@example.com", 1), clock.now())
    row = db.session.scalars(select(OutboxMessage)).one()
    _until(lambda: smtp_server.stalled >= 1, server)
    sender = _pid_talking_to(smtp_server.port, _worker_pids(server))
    assert sender is not None
    os.kill(sender, signal.SIGKILL)
    smtp_server.release()
    _until(lambda: sender not in _worker_pids(server) and len(_worker_pids(server)) == 4, server, timeout=20)
    server.burst(20, concurrency=4)
    time.sleep(1.5)
    server.burst(20, concurrency=4)
    assert smtp_server.messages == []  # its claim holds the row until the lease runs out
    db.session.expire_all()
    claimed = db.session.get(OutboxMessage, row.id)
    assert (claimed.status, claimed.attempts) == (OutboxStatus.PENDING, 1)
    server.set_clock(DEFAULT_NOW + CLAIM_LEASE + timedelta(seconds=1))
    _until(lambda: len(smtp_server.messages) >= 1, server, timeout=30)
    (sent,) = smtp_server.messages
    assert str(sent["Message-ID"]).startswith(f"<{row.message_id}@")
    assert _statuses() == {"sent": 1}


def test_smtp_down_while_100_bookings_are_made_over_http_then_all_arrive_once(server, slot_id, smtp_server):
    smtp_server.stop()

    def book(n: int) -> int:
        body = {"slot_id": slot_id, "name": f"Guest {n}", "email": f"guest{n}@example.com", "party_size": 1}
        return requests.post(server.url + "/api/bookings", json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert Counter(pool.map(book, range(100))) == {201: 100}

    def all_tried() -> bool:  # every confirmation's first attempt failed and was recorded
        db.session.expire_all()
        rows = db.session.scalars(select(OutboxMessage)).all()
        return len(rows) == 100 and all(r.attempts == 1 and r.last_error for r in rows)

    _until(all_tried, server)
    assert smtp_server.messages == [] and _statuses() == {"pending": 100}
    smtp_server.start()
    server.set_clock(DEFAULT_NOW + timedelta(seconds=61))  # past the first backoff
    _until(lambda: len(smtp_server.messages) >= 100, server)
    time.sleep(1.0)
    server.burst(40, concurrency=8)
    assert sorted(str(m["To"]) for m in smtp_server.messages) == sorted(f"guest{n}@example.com" for n in range(100))
    assert set(_message_ids(smtp_server).values()) == {1}
    assert _statuses() == {"sent": 100}
