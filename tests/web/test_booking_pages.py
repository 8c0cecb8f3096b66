"""Customer pages with CSRF on: browse, book, see the confirmation, cancel."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from tests.booking_helpers import fill, slot_at
from bookingapp.extensions import db
from bookingapp.models import Booking

UTC = timezone.utc
TEN = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)  # 10:00 in London, 30 minutes after the clock's now


def _csrf(page) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def _post_booking(client, game, slot_id, **overrides):
    token = _csrf(client.get(f"/games/{game.slug}"))
    data = {"csrf_token": token, "slot_id": slot_id, "name": "Grace Hopper", "email": "grace@example.com",
            "party_size": "2", **overrides}
    return client.post(f"/games/{game.slug}", data=data)


def _bookings() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture
def game(app, clock, make_game):
    made = make_game(name="Haunted Mine", description="Find the lost gold.")
    fill(made, clock)
    return made


def test_home_lists_games_with_length_players_and_next_free_slot_in_local_time(client, clock, make_game):
    ny = make_game(name="Manhattan Heist", timezone="America/New_York", slot_minutes=90, capacity=6)
    fill(ny, clock)
    page = _text(client.get("/"))
    assert "Manhattan Heist" in page and "1 hour" not in page
    assert "90 minutes" in page and "up to 6 per session" in page
    assert "Wed 13 Jan 2027, 10:00 EST" in page


def test_home_says_when_a_game_has_nothing_free(client, make_game):
    make_game(name="Empty")
    assert "nothing free right now" in _text(client.get("/"))


def test_game_page_fills_a_missing_window_before_showing_it(client, make_game):
    game = make_game(name="Fresh")
    page = _text(client.get(f"/games/{game.slug}"))
    assert page.count('name="slot_id"') == 12  # today's slots only, a day at a time
    assert "Today, 13 January" in page and 'min="2027-01-13" max="2027-01-19"' in page
    last = _text(client.get(f"/games/{game.slug}?date=2027-01-19"))
    assert last.count('name="slot_id"') == 12 and "Tuesday 19 January" in last


def test_the_game_page_shows_one_day_with_links_to_its_neighbours(client, game):
    page = client.get(f"/games/{game.slug}?date=2027-01-15").get_data(as_text=True)
    assert f'href="/games/{game.slug}?date=2027-01-14" rel="prev"' in page
    assert f'href="/games/{game.slug}?date=2027-01-16" rel="next"' in page
    first = client.get(f"/games/{game.slug}").get_data(as_text=True)
    assert 'rel="prev"' not in first and "No earlier days" in first
    assert 'rel="next"' not in client.get(f"/games/{game.slug}?date=2027-01-19").get_data(as_text=True)


@pytest.mark.parametrize("raw, status, message", [
    ("garbage", 400, "That is not a date"),
    ("2027-13-01", 400, "That is not a date"),
    ("2027-01-13%00", 400, "That is not a date"),
    ("99999-01-01", 400, "That is not a date"),
    ("2027-01-12", 404, "from 2027-01-13 to 2027-01-19"),  # yesterday
    ("2027-01-20", 404, "from 2027-01-13 to 2027-01-19"),  # past the window
])
def test_a_date_the_page_cannot_show_is_explained_with_a_4xx(client, game, raw, status, message):
    response = client.get(f"/games/{game.slug}?date={raw}")
    assert response.status_code == status
    assert message in _text(response)


def test_the_chosen_time_is_summarised_beside_the_book_button_without_javascript(client, game):
    response = _post_booking(client, game, slot_at(game, TEN).id, name="")
    assert response.status_code == 422
    text = _text(response)
    assert 'id="choice" aria-live="polite"' in text
    assert "Your time: <strong>Wed 13 Jan 2027, 10:00 GMT</strong>" in text
    assert "No time chosen yet." in _text(client.get(f"/games/{game.slug}"))


def test_a_366_day_window_still_renders_one_small_day(client, clock, make_game):
    game = make_game(days_ahead=366)
    fill(game, clock, days=366)
    response = client.get(f"/games/{game.slug}?date=2027-12-31")
    assert response.status_code == 200
    assert len(response.get_data()) < 100_000
    assert 'max="2028-01-13"' in response.get_data(as_text=True)


@pytest.mark.parametrize("slug", ["no-such-game", "x" * 500, "nul%00byte", "Game-1"])
def test_unknown_game_pages_are_404(client, slug):
    assert client.get(f"/games/{slug}").status_code == 404


def test_a_deactivated_games_page_is_404(client, game):
    game.is_active = False
    db.session.commit()
    assert client.get(f"/games/{game.slug}").status_code == 404


def test_full_past_and_too_soon_slots_are_not_offered(client, clock, make_game):
    game = make_game(min_notice_minutes=60, capacity=2)
    fill(game, clock)
    assert _post_booking(client, game, slot_at(game, TEN.replace(hour=12)).id).status_code == 302
    clock.advance(minutes=60)  # 10:30: 10:00 has started, 11:00 is inside the hour's notice
    html = client.get(f"/games/{game.slug}").get_data(as_text=True)
    offered = re.findall(r'<label for="slot-\d+">(\d\d:\d\d) GMT', html)
    assert offered[:2] == ["13:00", "14:00"]
    # The full 12:00 is shown, marked full, and cannot be chosen.
    full = slot_at(game, TEN.replace(hour=12)).id
    assert f'id="slot-{full}" value="{full}" disabled' in html
    assert f'<label for="slot-{full}" class="full">12:00 GMT <span class="seats">full</span>' in html


def test_booking_redirects_to_a_confirmation_in_the_venues_time(client, clock, make_game):
    game = make_game(name="Broadway VR", timezone="America/New_York")
    fill(game, clock)
    slot = slot_at(game, datetime(2027, 1, 13, 15, 0, tzinfo=UTC))
    response = _post_booking(client, game, slot.id, party_size="3")
    assert response.status_code == 302
    reference, token = re.search(r"/bookings/(\w{8})\?token=([\w-]+)$", response.headers["Location"]).groups()
    page = client.get(response.headers["Location"])
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    text = _text(page)
    assert reference in text and "You're booked" in text.replace("&#39;", "'")
    assert "Wed 13 Jan 2027, 10:00 EST" in text
    assert "<dt>Players</dt><dd>3</dd>" in text and "Cancel this booking" in text
    assert slot_at(game, slot.starts_at).booked == 3


def test_a_post_without_the_csrf_token_books_nothing(client, game):
    response = client.post(f"/games/{game.slug}", data={
        "slot_id": slot_at(game, TEN).id, "name": "Eve", "email": "eve@example.com", "party_size": "1"})
    assert response.status_code == 400
    assert "This form has expired" in _text(response)
    assert _bookings() == 0


@pytest.mark.parametrize("overrides, message", [
    ({"name": ""}, "Tell us your name."),
    ({"name": "x" * 500}, "Field cannot be longer than 120 characters."),
    ({"email": "not-an-email"}, "Email: is not a valid email address"),
    ({"party_size": "0"}, "At least one player."),
    ({"party_size": "two"}, "Enter the number of players as a whole number."),
    ({"party_size": "5"}, "Players: must be between 1 and 4 for this game."),
    ({"slot_id": ""}, "Choose a time."),
    ({"slot_id": "abc"}, "Choose a time from the list."),
    ({"slot_id": "999999999"}, "There is no such slot open for booking."),
])
def test_bad_booking_input_is_explained_inline_and_books_nothing(client, game, overrides, message):
    response = _post_booking(client, game, **{"slot_id": slot_at(game, TEN).id, **overrides})
    assert response.status_code == 422
    assert message in _text(response).replace("&#39;", "'")
    assert 'role="alert"' in response.get_data(as_text=True)
    assert _bookings() == 0


def test_a_slot_of_another_game_cannot_be_booked_from_this_page(client, clock, game, make_game):
    other = make_game()
    fill(other, clock)
    response = _post_booking(client, game, slot_at(other, TEN).id)
    assert response.status_code == 422 and _bookings() == 0


def test_a_slot_inside_min_notice_is_refused_even_when_posted_directly(client, clock, make_game):
    game = make_game(min_notice_minutes=45)
    fill(game, clock)
    response = _post_booking(client, game, slot_at(game, TEN).id)
    assert response.status_code == 422
    assert "starts too soon" in _text(response)
    assert _bookings() == 0


def test_a_slot_that_filled_up_says_so_and_offers_the_next_free_times(client, game):
    _post_booking(client, game, slot_at(game, TEN).id, party_size="3")
    response = _post_booking(client, game, slot_at(game, TEN).id, party_size="2")
    assert response.status_code == 422
    text = _text(response)
    assert "only 1 seat left" in text
    assert "Next free times for your party" in text
    assert re.findall(r'id="alt-\d+" value="\d+" data-summary="[^"]+"> <label for="alt-\d+">Wed 13 Jan 2027, (\d\d:\d\d) GMT', text) == [
        "11:00", "12:00", "13:00"]
    assert 'value="Grace Hopper"' in text  # what the customer typed is kept


def test_private_games_book_the_whole_slot_for_one_group(client, clock, make_game):
    game = make_game(booking_mode="private", capacity=6, min_party=2)
    fill(game, clock)
    assert "2 to 6 players" in _text(client.get(f"/games/{game.slug}"))
    assert _post_booking(client, game, slot_at(game, TEN).id, party_size="2").status_code == 302
    response = _post_booking(client, game, slot_at(game, TEN).id, party_size="2")
    assert response.status_code == 422 and "This slot is full" in _text(response)
    taken = slot_at(game, TEN).id
    assert f'id="slot-{taken}" value="{taken}" disabled' in response.get_data(as_text=True)


def _booked(client, game, party="2"):
    location = _post_booking(client, game, slot_at(game, TEN).id, party_size=party).headers["Location"]
    return location, re.search(r"/bookings/(\w{8})\?token=([\w-]+)$", location).groups()


def test_the_confirmation_needs_the_token_from_its_link(client, game):
    _, (reference, _token) = _booked(client, game)
    assert client.get(f"/bookings/{reference}").status_code == 403
    assert client.get(f"/bookings/{reference}?token=guess").status_code == 403
    assert client.get("/bookings/AAAAAAAA?token=x").status_code == 404


def test_cancelling_from_the_confirmation_frees_the_seats_and_twice_is_harmless(client, game):
    location, (reference, token) = _booked(client, game, party="3")
    csrf = _csrf(client.get(location))
    for _ in range(2):
        response = client.post(f"/bookings/{reference}/cancel", data={"csrf_token": csrf, "token": token})
        assert response.status_code == 302 and response.headers["Location"] == location
    page = _text(client.get(location))
    assert "Booking cancelled" in page and "Cancel this booking" not in page
    assert slot_at(game, TEN).booked == 0


def test_cancelling_needs_the_csrf_token_and_the_booking_token(client, game):
    location, (reference, token) = _booked(client, game)
    assert client.post(f"/bookings/{reference}/cancel", data={"token": token}).status_code == 400
    csrf = _csrf(client.get(location))
    assert client.post(f"/bookings/{reference}/cancel", data={"csrf_token": csrf, "token": "no"}).status_code == 403
    assert client.post(f"/bookings/{reference}/cancel", data={"csrf_token": csrf}).status_code == 403
    assert slot_at(game, TEN).booked == 2


def test_a_started_session_offers_no_cancel_button_and_refuses_to_cancel(client, clock, game):
    location, (reference, token) = _booked(client, game)
    csrf = _csrf(client.get(location))
    clock.advance(hours=1)
    assert "Cancel this booking" not in _text(client.get(location))
    client.post(f"/bookings/{reference}/cancel", data={"csrf_token": csrf, "token": token})
    assert "already started" in _text(client.get(location))
    assert slot_at(game, TEN).booked == 2


def test_the_booking_downloads_as_an_ics_event_in_utc(client, game):
    _, (reference, token) = _booked(client, game)
    response = client.get(f"/bookings/{reference}/calendar.ics?token={token}")
    assert response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    assert "DTSTART:20270113T100000Z\r\nDTEND:20270113T110000Z\r\n" in body
    assert f"UID:{reference}@bookingapp" in body and "SUMMARY:Haunted Mine" in body
    assert client.get(f"/bookings/{reference}/calendar.ics").status_code == 403


def test_the_embedded_default_books_and_cancels_through_the_pages(any_app, clock, make_game):
    client = any_app.test_client()
    game = make_game()
    fill(game, clock)
    location, (reference, token) = _booked(client, game, party="4")
    full = _post_booking(client, game, slot_at(game, TEN).id, party_size="1")
    assert full.status_code == 422 and "no seats are left" in _text(full)
    csrf = _csrf(client.get(location))
    client.post(f"/bookings/{reference}/cancel", data={"csrf_token": csrf, "token": token})
    assert slot_at(game, TEN).booked == 0
