"""The bookings CSV: one row per booking, local times with offsets, formulas made inert, streamed."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from bookingapp.core.csvcells import inert
from bookingapp.extensions import db
from bookingapp.services import bookings as service
from bookingapp.services.booking_input import BookingRequest

from tests.booking_helpers import fill, slot_at

UTC = timezone.utc
TEN = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)


def _book(slot, clock, name="Ada", email="ada@example.com"):
    return service.book_slot(db.session, BookingRequest(slot.id, name, email, 1), clock.now()).booking


def _rows(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_formula_cells_are_inert():
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert inert(dangerous) == "'" + dangerous
    assert inert("Ada") == "Ada" and inert(None) == ""


def test_staff_page_export_has_one_row_per_booking_with_local_times(staff_client, clock, make_game):
    game = make_game(timezone="America/New_York", slug="nyc")
    fill(game, clock)
    ten_local = datetime(2027, 1, 13, 15, 0, tzinfo=UTC)  # 10:00 in New York
    made = _book(slot_at(game, ten_local), clock)
    hyperlink = _book(slot_at(game, ten_local), clock, name='=HYPERLINK("http://evil.example","x")')
    _book(slot_at(game, ten_local + timedelta(days=1)), clock)  # the next day: not in the range
    response = staff_client.get("/admin/bookings.csv?from=2027-01-13&to=2027-01-13&game=nyc")
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    rows = _rows(response)
    assert [r["reference"] for r in rows] == [made.reference, hyperlink.reference]
    assert rows[0]["starts_at"] == "2027-01-13T10:00:00-05:00" and rows[0]["ends_at"] == "2027-01-13T11:00:00-05:00"
    assert rows[0]["status"] == "confirmed" and rows[0]["source"] == "online" and rows[0]["attendance"] == "expected"
    assert rows[1]["name"].startswith("'=HYPERLINK")


def test_export_refuses_a_bad_or_backwards_range(staff_client):
    assert staff_client.get("/admin/bookings.csv?from=2027-01-13&to=2027-01-12").status_code == 422
    assert staff_client.get("/admin/bookings.csv?from=yesterday").status_code == 422
    assert staff_client.get("/admin/bookings.csv?from=2027-01-01&to=2028-06-01").status_code == 422
    assert staff_client.get("/admin/bookings.csv?game=nope").status_code == 404


def test_api_export_needs_a_token_and_filters_by_game(api, client, clock, make_game):
    game, other = make_game(), make_game()
    fill(game, clock), fill(other, clock)
    mine, _ = _book(slot_at(game, TEN), clock), _book(slot_at(other, TEN), clock)
    assert client.get("/api/bookings.csv").status_code == 401
    rows = _rows(api.get(f"/api/bookings.csv?from=2027-01-13&game_id={game.id}"))
    assert [r["reference"] for r in rows] == [mine.reference]
    assert api.get("/api/bookings.csv?game_id=zzz").status_code == 422
