"""Anonymous booking writes and look-ups are limited; staff tokens are not."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from bookingapp.extensions import db
from bookingapp.models import Booking
from bookingapp.services.accounts import create_api_token
from tests.booking_helpers import fill, slot_at
from tests.staff_helpers import csrf_from

UTC = timezone.utc


@pytest.fixture
def app_settings():
    return {"BOOKING_RATE_LIMIT": "3 per minute", "BOOKING_LOOKUP_RATE_LIMIT": "2 per minute"}


@pytest.fixture
def slot_id(app, clock, make_game):
    game = make_game(capacity=100)
    fill(game, clock)
    return slot_at(game, datetime(2027, 1, 13, 15, 0, tzinfo=UTC)).id


def _book(client, slot_id, email="ada@example.com", headers=None, address="10.0.0.1"):
    body = {"slot_id": slot_id, "name": "Ada", "email": email, "party_size": 1}
    return client.post("/api/bookings", json=body, headers=headers or {}, environ_base={"REMOTE_ADDR": address})


def _bookings() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def test_the_fourth_booking_a_minute_from_one_address_is_429_rate_limited_and_books_nothing(client, slot_id):
    codes = [_book(client, slot_id, email=f"p{n}@example.com").status_code for n in range(3)]
    limited = _book(client, slot_id, email="p4@example.com")
    assert codes == [201, 201, 201] and limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert _bookings() == 3


def test_one_email_is_limited_across_addresses(client, slot_id):
    codes = [_book(client, slot_id, address=f"10.0.0.{n}").status_code for n in range(1, 5)]
    assert codes == [201, 201, 201, 429]


def test_the_form_shares_the_email_count_and_says_so_in_words(client, slot_id, make_game):
    for n in range(3):
        assert _book(client, slot_id, address=f"10.0.1.{n}").status_code == 201
    from bookingapp.models import Game

    game = db.session.scalar(select(Game))
    page = client.get(f"/games/{game.slug}")
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "slot_id": slot_id, "name": "Ada",
            "email": "ADA@example.com", "party_size": "1"}
    response = client.post(f"/games/{game.slug}", data=data)
    assert response.status_code == 429 and "Too many tries" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers and _bookings() == 3


def test_staff_tokens_are_never_limited(client, slot_id):
    headers = {"Authorization": f"Bearer {create_api_token(db.session, 'till')}"}
    codes = {_book(client, slot_id, headers=headers).status_code for _ in range(6)}
    assert codes == {201}


def test_look_ups_are_limited_per_address(client, slot_id):
    made = _book(client, slot_id).get_json()
    headers = {"X-Cancel-Token": made["cancel_token"]}
    codes = [client.get(f"/api/bookings/{made['reference']}", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_cancels_count_as_booking_writes(client, slot_id):
    made = [_book(client, slot_id, email=f"c{n}@example.com").get_json() for n in range(3)]
    cancel = client.delete(f"/api/bookings/{made[0]['reference']}", headers={"X-Cancel-Token": made[0]["cancel_token"]},
                           environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert cancel.status_code == 429
