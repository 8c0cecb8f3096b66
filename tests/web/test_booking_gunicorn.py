"""Bookings racing through several gunicorn workers: the database, not a process, decides."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import Slot
from bookingapp.slots.generator import ensure_window

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(app, pg_url, redis_prefix):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": pg_url, "REDIS_URL": app.config["REDIS_URL"], "REDIS_PREFIX": redis_prefix,
           "SECRET_KEY": "gunicorn-test", "SLOTS_MAINTENANCE_ENABLED": "false"}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/api/games", timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def test_sixty_bookings_through_several_workers_fill_four_seats_exactly(server, make_game):
    # The workers read the real clock: give the game slots around the clock from now on.
    game = make_game(timezone="UTC", weekly_hours={d: [["00:00", "24:00"]] for d in
                     ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    now = datetime.now(timezone.utc)
    ensure_window(db.session, game, now=now, default_days=3)
    slot_id = db.session.scalar(select(Slot.id).where(Slot.game_id == game.id, Slot.starts_at > now + timedelta(hours=2))
                                .order_by(Slot.starts_at).limit(1))

    def book(n: int) -> int:
        body = {"slot_id": slot_id, "name": f"Racer {n}", "email": "racer@example.com", "party_size": 1}
        return requests.post(server + "/api/bookings", json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = Counter(pool.map(book, range(60)))
    assert codes == {201: 4, 409: 56}
    db.session.expire_all()
    assert db.session.get(Slot, slot_id).booked == 4
