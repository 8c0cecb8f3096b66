"""Bookings racing through several gunicorn workers: the database, not a process, decides."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import Slot
from bookingapp.services.generation import ensure_window
from tests.multiworker.gunicorn_server import Gunicorn

WORKERS = 3

pytestmark = pytest.mark.slow


@pytest.fixture
def server(app, pg_url, tmp_path):
    """Several workers on the real clock, the daily hook off: only the bookings matter here."""
    with Gunicorn(tmp_path, pg_url, file_clock=False, maintenance=False) as gunicorn:
        gunicorn.start(workers=WORKERS)
        yield gunicorn.url


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
