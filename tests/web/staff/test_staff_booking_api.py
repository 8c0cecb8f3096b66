"""The staff API for bookings, slots and the audit log."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from bookingapp.extensions import db
from bookingapp.models import AuditEvent
from bookingapp.services import bookings as service
from bookingapp.services.booking_input import BookingRequest

from tests.booking_helpers import fill, slot_at

UTC = timezone.utc
TEN = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)
BOOKING_FIELDS = {
    "reference", "status", "party_size", "name", "email", "phone", "note", "source", "attendance", "slot",
    "created_at", "cancelled_at",
}


def _book(slot, clock, name="Ada", party=1):
    return service.book_slot(db.session, BookingRequest(slot.id, name, "ada@example.com", party), clock.now())


def _audit_rows():
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_a_staff_booking_needs_no_email_and_keeps_phone_and_note(api, clock, make_game):
    game = make_game(min_notice_minutes=120)
    fill(game, clock)
    response = api.post("/api/bookings", {
        "slot_id": slot_at(game, TEN).id, "name": "Phone Caller", "party_size": 2, "phone": "+44 1632 960000", "note": "VIP",
    })
    assert response.status_code == 201
    body = response.get_json()
    assert BOOKING_FIELDS <= set(body)
    assert (body["email"], body["phone"], body["note"], body["source"], body["attendance"]) == (
        None, "+44 1632 960000", "VIP", "staff", "expected")
    assert {"id", "starts_at", "ends_at", "game_id"} <= set(body["slot"])
    assert _audit_rows() == 1


def test_a_bad_token_on_a_staff_booking_is_401_and_books_nothing(app, clock, make_game):
    game = make_game()
    fill(game, clock)
    response = app.test_client().post("/api/bookings", json={"slot_id": slot_at(game, TEN).id, "name": "X", "party_size": 1},
                                      headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and slot_at(game, TEN).booked == 0


def test_customers_still_book_and_see_their_booking_with_the_new_fields(client, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = client.post("/api/bookings", json={"slot_id": slot_at(game, TEN).id, "name": "Ada", "email": "a@example.com", "party_size": 1})
    assert made.status_code == 201 and made.get_json()["source"] == "online"
    ref = made.get_json()["reference"]
    assert client.get(f"/api/bookings/{ref}").status_code == 403
    shown = client.get(f"/api/bookings/{ref}", headers={"X-Cancel-Token": made.get_json()["cancel_token"]})
    assert BOOKING_FIELDS <= set(shown.get_json())


def test_staff_read_and_cancel_without_the_cancel_token(api, app, clock, make_game):
    game = make_game()
    fill(game, clock)
    ref = _book(slot_at(game, TEN), clock).booking.reference
    assert api.get(f"/api/bookings/{ref}").get_json()["reference"] == ref
    cancelled = app.test_client().delete(f"/api/bookings/{ref}", headers=api.headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert slot_at(game, TEN).booked == 0 and _audit_rows() == 1


def test_list_filters_by_date_game_text_and_status_and_pages_by_cursor(api, clock, make_game):
    game, other = make_game(capacity=10), make_game(timezone="Pacific/Honolulu")
    fill(game, clock), fill(other, clock)
    refs = [_book(slot_at(game, TEN), clock, name=f"Guest {n}").booking.reference for n in range(5)]
    tomorrow = _book(slot_at(game, TEN + timedelta(days=1)), clock, name="Later").booking.reference
    first = api.get(f"/api/bookings?date=2027-01-13&game_id={game.id}&limit=3").get_json()
    assert [b["reference"] for b in first["bookings"]] == refs[::-1][:3] and first["next_cursor"]
    rest = api.get(f"/api/bookings?date=2027-01-13&game_id={game.id}&limit=3&cursor={first['next_cursor']}").get_json()
    assert [b["reference"] for b in rest["bookings"]] == refs[::-1][3:] and rest["next_cursor"] is None
    assert [b["reference"] for b in api.get("/api/bookings?q=later").get_json()["bookings"]] == [tomorrow]
    assert api.get("/api/bookings?status=cancelled").get_json()["bookings"] == []
    for bad in ("date=2027-02-30", "status=maybe", "limit=0", "cursor=abc", "game_id=nope"):
        response = api.get(f"/api/bookings?{bad}")
        assert response.status_code == 422, bad


def test_list_needs_a_token(client):
    assert client.get("/api/bookings").status_code == 401


def test_move_answers_the_booking_409_when_full_and_422_when_closed(api, clock, make_game):
    game = make_game(capacity=2)
    fill(game, clock)
    ref = _book(slot_at(game, TEN + timedelta(hours=1)), clock).booking.reference
    full = slot_at(game, TEN + timedelta(hours=2))
    _book(full, clock, party=2)
    moved = api.post(f"/api/bookings/{ref}/move", {"slot_id": slot_at(game, TEN).id})
    assert moved.status_code == 200 and moved.get_json()["slot"]["id"] == slot_at(game, TEN).id
    refused = api.post(f"/api/bookings/{ref}/move", {"slot_id": full.id})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "slot_full"
    clock.advance(timedelta(hours=2))
    closed = api.post(f"/api/bookings/{ref}/move", {"slot_id": slot_at(game, TEN + timedelta(hours=1)).id})
    assert closed.status_code == 422 and closed.get_json()["error"]["code"] == "slot_closed"
    assert api.post(f"/api/bookings/{ref}/move", {"slot_id": "x"}).status_code == 422


def test_a_customer_moves_with_the_cancel_token(app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock)
    client, target = app.test_client(), slot_at(game, TEN + timedelta(hours=1))
    url = f"/api/bookings/{made.booking.reference}/move"
    assert client.post(url, json={"slot_id": target.id}).status_code == 403
    moved = client.post(url, json={"slot_id": target.id}, headers={"X-Cancel-Token": made.cancel_token})
    assert moved.status_code == 200 and moved.get_json()["slot"]["id"] == target.id


def test_attendance_block_capacity_and_audit_endpoints(api, app, clock, make_game):
    game = make_game()
    fill(game, clock)
    slot = slot_at(game, TEN)
    ref = _book(slot, clock).booking.reference
    assert api.post(f"/api/bookings/{ref}/attendance", {"status": "arrived"}).get_json()["attendance"] == "arrived"
    assert api.post(f"/api/bookings/{ref}/attendance", {"status": "late"}).status_code == 422
    blocked = api.post(f"/api/slots/{slot.id}/block", {"reason": "Flood"}).get_json()
    assert (blocked["blocked"], blocked["block_reason"]) == (True, "Flood")
    unblocked = app.test_client().delete(f"/api/slots/{slot.id}/block", headers=api.headers).get_json()
    assert unblocked["blocked"] is False
    assert api.patch(f"/api/slots/{slot.id}", {"capacity": 8}).get_json()["capacity"] == 8
    below = api.patch(f"/api/slots/{slot.id}", {"capacity": 0})
    assert below.status_code == 422
    assert api.post("/api/slots/999999/block", {}).status_code == 404
    events = api.get("/api/audit?limit=2").get_json()
    assert [e["action"] for e in events["events"]] == ["slot.capacity", "slot.unblock"] and events["next_cursor"]
    older = api.get(f"/api/audit?cursor={events['next_cursor']}").get_json()
    assert [e["action"] for e in older["events"]] == ["slot.block", "booking.attendance"]
    assert all(e["actor"] == "tests" and e["actor_kind"] == "token" for e in older["events"])
