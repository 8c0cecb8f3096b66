"""The public JSON API's contract: shapes, status codes, error codes, bad input."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from tests.booking_helpers import fill, slot_at
from bookingapp.extensions import db

UTC = timezone.utc
TEN = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)
GAME_FIELDS = {
    "id", "slug", "name", "description", "timezone", "slot_minutes", "gap_minutes", "capacity",
    "days_ahead", "min_notice_minutes", "cancel_cutoff_minutes", "booking_mode", "min_party", "weekly_hours", "closures", "is_active",
    "price", "currency", "price_per", "location", "instructions", "reminder_hours",
}


@pytest.fixture
def game(app, clock, make_game):
    made = make_game(name="Laser Maze", timezone="America/New_York", closures=["2027-12-25"])
    fill(made, clock)
    return made


@pytest.fixture
def ten_slot(game):
    return slot_at(game, datetime(2027, 1, 13, 15, 0, tzinfo=UTC))  # 10:00 in New York


def _book(client, slot_id, **overrides):
    body = {"slot_id": slot_id, "name": "Ada", "email": "ada@example.com", "party_size": 2, **overrides}
    return client.post("/api/bookings", json=body)


def _error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error["fields"]


def test_games_lists_active_games_with_every_setting(client, game, make_game):
    make_game(name="Retired", is_active=False)
    games = client.get("/api/games").get_json()["games"]
    assert [g["name"] for g in games] == ["Laser Maze"]
    assert set(games[0]) == GAME_FIELDS
    assert games[0]["id"] == str(game.id)
    assert games[0]["booking_mode"] == "shared"
    assert games[0]["weekly_hours"]["mon"] == [["10:00", "22:00"]]
    assert games[0]["closures"] == ["2027-12-25"]


def test_a_booking_keeps_the_price_it_was_made_at_and_its_language(client, clock, make_game):
    game = make_game(price=2550, currency="EUR", price_per="player")
    fill(game, clock)
    listed = client.get("/api/games").get_json()["games"][0]
    assert (listed["price"], listed["currency"], listed["price_per"]) == (2550, "EUR", "player")
    made = client.post("/api/bookings", json={"slot_id": slot_at(game, datetime(2027, 1, 13, 10, 0, tzinfo=UTC)).id,
                                              "name": "Ada", "email": "ada@example.com", "party_size": 3},
                       headers={"Accept-Language": "de-DE,de;q=0.9"}).get_json()
    assert (made["amount"], made["currency"], made["locale"]) == (7650, "EUR", "de")
    game.price = 9999  # a later price change leaves the booking's amount alone
    db.session.commit()
    again = client.get(f"/api/bookings/{made['reference']}", headers={"X-Cancel-Token": made["cancel_token"]})
    assert again.get_json()["amount"] == 7650


def test_slots_default_to_today_through_the_end_of_the_window(client, game):
    body = client.get(f"/api/games/{game.id}/slots").get_json()
    assert (body["from"], body["to"], body["timezone"]) == ("2027-01-13", "2027-01-19", "America/New_York")
    assert len(body["slots"]) == 7 * 12
    first = body["slots"][0]
    assert set(first) == {"id", "starts_at", "ends_at", "capacity", "available"}
    assert (first["starts_at"], first["ends_at"]) == ("2027-01-13T10:00:00-05:00", "2027-01-13T11:00:00-05:00")
    assert [s["starts_at"] for s in body["slots"]] == sorted(s["starts_at"] for s in body["slots"])


def test_slots_of_a_range_include_full_ones_with_nothing_available(client, game, ten_slot):
    assert _book(client, ten_slot.id, party_size=4).status_code == 201
    body = client.get(f"/api/games/{game.id}/slots?from=2027-01-13&to=2027-01-13").get_json()
    assert len(body["slots"]) == 12
    assert (body["slots"][0]["id"], body["slots"][0]["available"]) == (ten_slot.id, 0)


def test_slots_reading_never_generates(client, game):
    body = client.get(f"/api/games/{game.id}/slots?from=2027-03-01&to=2027-03-02").get_json()
    assert body["slots"] == []


@pytest.mark.parametrize("query, field", [
    ("from=2027-1-13", "from"),                   # not zero-padded
    ("from=20270113", "from"),                    # basic format, accepted by fromisoformat
    ("to=2027-02-30", "to"),                      # no such day
    ("from=yesterday", "from"),
    ("from=9999-12-31", "from"),                  # the range arithmetic would overflow
    ("from=0001-01-01", "from"),                  # no UTC instant for local midnight east of Greenwich
    ("to=9999-12-31", "to"),
    ("from=2027-01-20&to=2027-01-13", "to"),      # from after to
    ("from=2027-01-13&to=2028-01-14", "to"),      # 367 days
    ("to=" + "9" * 5000, "to"),                   # huge
])
def test_bad_slot_ranges_answer_422_naming_the_parameter(client, game, query, field):
    fields = _error(client.get(f"/api/games/{game.id}/slots?{query}"), 422, "invalid")
    assert field in fields


def test_far_dates_east_of_greenwich_answer_422_not_500(client, clock, make_game):
    tokyo = make_game(timezone="Asia/Tokyo")
    _error(client.get(f"/api/games/{tokyo.id}/slots?from=0001-01-01&to=0001-01-02"), 422, "invalid")


def test_a_full_year_is_the_longest_range(client, game):
    assert client.get(f"/api/games/{game.id}/slots?from=2027-01-13&to=2028-01-13").status_code == 200


@pytest.mark.parametrize("game_id", ["not-a-uuid", str(uuid.uuid4()), "1" * 300])
def test_unknown_or_malformed_game_ids_are_404(client, game_id):
    _error(client.get(f"/api/games/{game_id}/slots"), 404, "game_not_found")


def test_a_deactivated_games_slots_are_404(client, make_game):
    retired = make_game(is_active=False)
    _error(client.get(f"/api/games/{retired.id}/slots"), 404, "game_not_found")


def test_booking_answers_201_with_reference_token_slot_and_status(client, ten_slot):
    response = _book(client, ten_slot.id, name="  Ada   Lovelace ", email="Ada@Example.com")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "confirmed" and body["party_size"] == 2
    assert body["name"] == "Ada Lovelace" and body["email"] == "Ada@example.com"
    assert len(body["reference"]) == 8 and len(body["cancel_token"]) >= 32
    assert body["slot"]["id"] == ten_slot.id
    assert body["slot"]["starts_at"] == "2027-01-13T10:00:00-05:00"
    assert response.headers["Location"].endswith(f"/api/bookings/{body['reference']}")


def test_booking_more_seats_than_are_left_is_409_slot_full(client, ten_slot):
    _book(client, ten_slot.id, party_size=3)
    fields = _error(_book(client, ten_slot.id, party_size=2), 409, "slot_full")
    assert fields == {"party_size": "only 1 seat left"}


def test_booking_an_unknown_slot_is_404(client, game):
    _error(_book(client, 10**12), 404, "slot_not_found")


def test_booking_a_started_slot_or_inside_min_notice_is_422_slot_closed(client, clock, make_game):
    noticed = make_game(min_notice_minutes=60)
    fill(noticed, clock)
    _error(_book(client, slot_at(noticed, TEN).id), 422, "slot_closed")
    clock.advance(hours=1)
    _error(_book(client, slot_at(noticed, TEN).id), 422, "slot_closed")


def test_private_games_refuse_parties_below_min_party(client, clock, make_game):
    private = make_game(booking_mode="private", capacity=6, min_party=2)
    fill(private, clock)
    fields = _error(_book(client, slot_at(private, TEN).id, party_size=1), 422, "invalid")
    assert fields == {"party_size": "must be between 2 and 6 for this game"}


@pytest.mark.parametrize("overrides, field", [
    ({"party_size": 0}, "party_size"),
    ({"party_size": -3}, "party_size"),
    ({"party_size": True}, "party_size"),
    ({"party_size": "2"}, "party_size"),
    ({"party_size": 2.5}, "party_size"),
    ({"party_size": 5}, "party_size"),            # above the slot's capacity of 4
    ({"party_size": 10**30}, "party_size"),
    ({"slot_id": "1"}, "slot_id"),
    ({"slot_id": None}, "slot_id"),
    ({"slot_id": -1}, "slot_id"),
    ({"slot_id": 2**70}, "slot_id"),
    ({"name": ""}, "name"),
    ({"name": ["Ada"]}, "name"),
    ({"name": "A" * 100_000}, "name"),
    ({"email": "nobody"}, "email"),
    ({"email": "a" * 300 + "@example.com"}, "email"),
    ({"email": 42}, "email"),
    ({"colour": "blue"}, "_"),
])
def test_bad_booking_fields_answer_422_naming_the_field_and_take_no_seat(client, ten_slot, overrides, field):
    fields = _error(_book(client, **{"slot_id": ten_slot.id, **overrides}), 422, "invalid")
    assert field in fields
    assert slot_at(ten_slot.game, ten_slot.starts_at).booked == 0


def test_missing_booking_fields_are_all_named(client):
    fields = _error(client.post("/api/bookings", json={}), 422, "invalid")
    assert set(fields) == {"slot_id", "name", "email", "party_size"}


@pytest.mark.parametrize("data, content_type", [
    ("slot_id=1", "application/x-www-form-urlencoded"),
    ("{not json", "application/json"),
    ("[1, 2]", "application/json"),
    ('"text"', "application/json"),
])
def test_non_json_or_non_object_bodies_answer_422(client, data, content_type):
    _error(client.post("/api/bookings", data=data, content_type=content_type), 422, "invalid")


def test_getting_a_booking_needs_its_cancel_token(client, ten_slot):
    made = _book(client, ten_slot.id).get_json()
    url = f"/api/bookings/{made['reference']}"
    _error(client.get(url), 403, "bad_cancel_token")
    _error(client.get(url, headers={"X-Cancel-Token": "guess"}), 403, "bad_cancel_token")
    body = client.get(url, headers={"X-Cancel-Token": made["cancel_token"]}).get_json()
    assert "cancel_token" not in body
    assert {k: body[k] for k in ("reference", "status", "party_size")} == {
        "reference": made["reference"], "status": "confirmed", "party_size": 2}


@pytest.mark.parametrize("reference", ["AAAAAAAA", "nope", "Z" * 500])
def test_unknown_references_are_404(client, reference):
    _error(client.get(f"/api/bookings/{reference}", headers={"X-Cancel-Token": "x"}), 404, "booking_not_found")
    _error(client.delete(f"/api/bookings/{reference}", headers={"X-Cancel-Token": "x"}), 404, "booking_not_found")


def test_cancelling_frees_seats_and_cancelling_again_is_200_and_frees_nothing(client, ten_slot):
    made = _book(client, ten_slot.id, party_size=3).get_json()
    _book(client, ten_slot.id, party_size=1)
    url, headers = f"/api/bookings/{made['reference']}", {"X-Cancel-Token": made["cancel_token"]}
    _error(client.delete(url, headers={"X-Cancel-Token": "wrong"}), 403, "bad_cancel_token")
    first = client.delete(url, headers=headers)
    again = client.delete(url, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.get_json()["status"] == again.get_json()["status"] == "cancelled"
    assert first.get_json()["cancelled_at"] == "2027-01-13T09:30:00+00:00"
    assert slot_at(ten_slot.game, ten_slot.starts_at).booked == 1


def test_wrong_methods_and_unknown_paths_answer_json(client, game):
    response = client.put("/api/bookings")
    _error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    _error(client.get("/api/nothing-here"), 404, "not_found")


def test_a_body_over_the_size_limit_is_413_and_books_nothing(client, ten_slot):
    body = '{"slot_id": %d, "name": "%s"}' % (ten_slot.id, "x" * (2 * 1024 * 1024))
    _error(client.post("/api/bookings", data=body, content_type="application/json"), 413, "request_entity_too_large")
    assert slot_at(ten_slot.game, ten_slot.starts_at).booked == 0


def test_games_are_paged_by_cursor_and_every_one_comes_once_while_games_are_added(client, make_game):
    for n in range(7):
        make_game(name=f"Game {n:02d}")
    seen, cursor, pages = [], None, 0
    while True:
        query = "/api/games?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(query).get_json()
        seen += [g["name"] for g in body["games"]]
        pages += 1
        if pages == 1:
            make_game(name="Game 00a")  # sorts into the page already read: never shown twice
            make_game(name="Game 99")  # sorts after: shown on a later page
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Game {n:02d}" for n in range(7)] + ["Game 99"]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=ten", "limit"),
    ("cursor=not-a-cursor", "cursor"), ("cursor=W10", "cursor"),
])
def test_bad_paging_arguments_answer_422_naming_them(client, query, field):
    assert field in _error(client.get(f"/api/games?{query}"), 422, "invalid")


def test_the_first_page_holds_100_games_by_default(client, make_game):
    for n in range(101):
        make_game(name=f"G{n:03d}")
    body = client.get("/api/games").get_json()
    assert len(body["games"]) == 100 and body["next_cursor"]
