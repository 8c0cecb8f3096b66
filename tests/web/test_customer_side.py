"""What a venue puts its name on: prices, venue details, the cancel question, languages, search and pages."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from bookingapp.extensions import db
from bookingapp.models import Booking
from tests.booking_helpers import fill, slot_at

UTC = timezone.utc
TEN = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)
VENUE = {"VENUE_NAME": "Clockwork Escapes", "VENUE_ADDRESS": "1 Gear Street, London",
         "VENUE_EMAIL": "hello@clockwork.example", "VENUE_PHONE": "+44 20 7946 0000"}


@pytest.fixture
def app_settings():
    return VENUE


@pytest.fixture
def game(app, clock, make_game):
    made = make_game(name="Haunted Mine", price=2500, currency="GBP", price_per="player", cancel_cutoff_minutes=120,
                     location="Room 2, first floor", instructions="Arrive 10 minutes early.")
    fill(made, clock)
    return made


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True)).replace("&#39;", "'")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _book(client, game, party="2", headers=None, at=TEN):
    page = client.get(f"/games/{game.slug}", headers=headers or {})
    data = {"csrf_token": _csrf(page.get_data(as_text=True)), "slot_id": slot_at(game, at).id,
            "name": "Grace Hopper", "email": "grace@example.com", "party_size": party}
    response = client.post(f"/games/{game.slug}", data=data, headers=headers or {})
    assert response.status_code == 302, _text(response)
    return response.headers["Location"]


def test_prices_show_on_the_home_page_the_game_page_and_the_confirmation(client, game):
    assert "£25.00 per player" in _text(client.get("/"))
    page = _text(client.get(f"/games/{game.slug}"))
    assert "£25.00 per player" in page and "Pay at the venue." in page
    assert "Free cancellation online until 2 hours before the start." in page
    confirmation = _text(client.get(_book(client, game, party="3")))
    assert "£75.00 · pay at the venue" in confirmation
    assert db.session.query(Booking).one().amount == 7500


def test_the_venue_and_the_games_location_and_instructions_show_where_customers_look(client, game):
    page = _text(client.get(f"/games/{game.slug}"))
    assert '<a class="venue-name" href="/">Clockwork Escapes</a>' in page
    assert "1 Gear Street, London" in page and "hello@clockwork.example" in page
    assert "Room 2, first floor" in page and "Arrive 10 minutes early." in page
    confirmation = _text(client.get(_book(client, game)))
    assert "Clockwork Escapes, Room 2, first floor, 1 Gear Street, London" in confirmation
    assert "Arrive 10 minutes early." in confirmation
    assert "until Wed 13 Jan 2027, 08:00 GMT (2 hours before the start)" not in confirmation  # 10:00 less 2 h is past
    assert "Cancel this booking" not in confirmation  # inside the cut-off already


def test_the_ics_has_the_venue_as_location_and_a_link_back(client, game):
    location = _book(client, game)
    reference, token = re.search(r"/bookings/(\w{8})\?token=([\w-]+)$", location).groups()
    body = client.get(f"/bookings/{reference}/calendar.ics?token={token}").get_data(as_text=True)
    unfolded = body.replace("\r\n ", "")
    assert "LOCATION:Clockwork Escapes\\, Room 2\\, first floor\\, 1 Gear Street\\, London\r\n" in unfolded
    assert f"URL:http://localhost/bookings/{reference}?token={token}\r\n" in unfolded


def test_cancelling_asks_first_shows_the_cut_off_and_only_the_answer_cancels(client, clock, make_game):
    game = make_game(cancel_cutoff_minutes=30)
    fill(game, clock)
    noon = TEN.replace(hour=12)
    location = _book(client, game, at=noon)
    reference, token = re.search(r"/bookings/(\w{8})\?token=([\w-]+)$", location).groups()
    booking_page = _text(client.get(location))
    assert "until Wed 13 Jan 2027, 11:30 GMT (30 minutes before the start)" in booking_page
    question = client.get(f"/bookings/{reference}/cancel?token={token}")
    assert question.status_code == 200 and question.headers["Cache-Control"] == "no-store"
    text = _text(question)
    assert "Cancel this booking?" in text and "30 minutes before the start" in text
    assert slot_at(game, noon).booked == 2
    client.post(f"/bookings/{reference}/cancel", data={"csrf_token": _csrf(question.get_data(as_text=True)), "token": token})
    assert slot_at(game, noon).booked == 0
    assert client.get(f"/bookings/{reference}/cancel?token=wrong").status_code == 403


def test_pages_follow_accept_language_and_the_switcher_remembers_german(client, game):
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    page = _text(client.get(f"/games/{game.slug}", headers=german))
    assert '<html lang="de">' in page and "Heute, 13. Januar" in page and "25,00 £ pro Person" in page
    assert '<html lang="en">' in _text(client.get("/"))
    switched = client.get("/language/de?next=/games/" + game.slug)
    assert switched.status_code == 302 and switched.headers["Location"] == f"/games/{game.slug}"
    assert "lang=de" in switched.headers["Set-Cookie"]
    assert '<html lang="de">' in _text(client.get("/", headers={"Accept-Language": "en"}))
    location = _book(client, game)
    assert db.session.query(Booking).one().locale == "de"
    assert "Ihre Buchung" in _text(client.get(location))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_the_language_switcher_never_sends_anyone_off_site(client, target):
    assert client.get("/language/de", query_string={"next": target}).headers["Location"] == "/"


def test_german_form_errors_are_german(client, game):
    german = {"Accept-Language": "de"}
    page = client.get(f"/games/{game.slug}", headers=german).get_data(as_text=True)
    response = client.post(f"/games/{game.slug}", headers=german, data={
        "csrf_token": _csrf(page), "slot_id": slot_at(game, TEN).id, "name": "", "email": "x", "party_size": "9"})
    text = _text(response)
    assert response.status_code == 422
    assert "Bitte geben Sie Ihren Namen an." in text
    long_name = client.post(f"/games/{game.slug}", headers=german, data={
        "csrf_token": _csrf(page), "slot_id": slot_at(game, TEN).id, "name": "x" * 500, "email": "a@example.com",
        "party_size": "9"})
    assert "Feld kann nicht länger als 120 Zeichen sein." in _text(long_name)  # WTForms' own German
    too_many = client.post(f"/games/{game.slug}", headers=german, data={
        "csrf_token": _csrf(page), "slot_id": slot_at(game, TEN).id, "name": "Ada", "email": "not-an-email",
        "party_size": "9"})
    assert "E-Mail: ist keine gültige E-Mail-Adresse." in _text(too_many)
    garbage = client.get(f"/games/{game.slug}?date=soon", headers=german)
    assert garbage.status_code == 400 and "Das ist kein Datum" in _text(garbage)


def test_the_home_page_searches_by_name_and_pages_fifty_at_a_time(client, make_game):
    for n in range(120):
        make_game(name=f"Room {n:03d}", weekly_hours={})
    make_game(name="100% Fun_Room", weekly_hours={})
    first = _text(client.get("/"))
    assert "121 games." in first and "Page 1 of 3" in first and first.count('class="game"') == 50
    third = _text(client.get("/?page=3"))
    assert third.count('class="game"') == 21 and "Room 119" in third
    assert _text(client.get("/?page=99")).count('class="game"') == 21  # past the end: the last page
    found = _text(client.get("/?q=room 01"))
    assert "10 games match “room 01”." in found and "Room 010" in found and "Room 020" not in found
    assert "1 game matches “100%”." in _text(client.get("/?q=100%25"))
    assert "No game's name holds" in _text(client.get("/?q=_x"))
    assert client.get("/?q=" + "x" * 5000 + "&page=-3").status_code == 200


def test_no_field_points_aria_describedby_at_nothing(client, game):
    html = client.get(f"/games/{game.slug}").get_data(as_text=True)
    described = re.findall(r'aria-describedby="([^"]*)"', html)
    assert described and "None" not in described
    assert all(f'id="{name}"' in html for value in described for name in value.split())
