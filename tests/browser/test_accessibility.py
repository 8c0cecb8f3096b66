"""Every customer and staff page passes axe-core's WCAG 2.1 AA rules with no serious or
critical violation, on a desktop and on a 390 px phone; the booking flow works from the
keyboard alone."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bookingapp.extensions import db
from bookingapp.services import bookings as service
from bookingapp.services.booking_input import BookingRequest
from tests.booking_helpers import fill, slot_at
from tests.browser.axe import serious_violations
from tests.live_server import LiveServer
from tests.staff_helpers import PASSWORD

pytestmark = pytest.mark.slow

TEN = datetime(2027, 1, 13, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def app_settings():
    return {"VENUE_NAME": "Clockwork Escapes", "VENUE_ADDRESS": "1 Gear Street, London", "VENUE_PHONE": "+44 20 7946 0000"}


@pytest.fixture
def server(app):
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def venue(app, clock, make_game):
    """A game with a price and instructions, two confirmed bookings and a cancelled one."""
    game = make_game(name="Clockwork Tower", description="Stop the clock.", price=2500, currency="GBP",
                     price_per="player", location="Room 2", instructions="Arrive 10 minutes early.",
                     cancel_cutoff_minutes=60)
    fill(game, clock)
    made = [service.book_slot(db.session, BookingRequest(slot_at(game, TEN.replace(hour=h)).id, "Ada", "a@example.com", 2),
                              clock.now()) for h in (14, 15, 16)]
    service.cancel_booking(db.session, made[1].booking.reference, made[1].cancel_token, clock.now())
    links = [f"/bookings/{m.booking.reference}?token={m.cancel_token}" for m in made]
    return game, made[0], links


def _customer_pages(game, made, links):
    reference, token = made.booking.reference, made.cancel_token
    return [
        "/", "/?q=clock", f"/games/{game.slug}", f"/games/{game.slug}?date=2027-01-19", links[0],
        f"/bookings/{reference}/cancel?token={token}", links[1], "/games/no-such-game", f"/games/{game.slug}?date=junk",
    ]


def _check(page, url, axe_source):
    response = page.goto(url)
    assert response.status < 500, url
    return [f"{url}: {problem}" for problem in serious_violations(page, axe_source)]


@pytest.mark.parametrize("viewport", ["checked_page", "checked_phone"])
def test_customer_pages_pass_axe(request, viewport, server, venue, axe_source):
    page = request.getfixturevalue(viewport)
    problems = [p for url in _customer_pages(*venue) for p in _check(page, server.url + url, axe_source)]
    page.goto(server.url + f"/games/{venue[0].slug}")
    page.click("button:has-text('Book')")  # nothing filled in: the error summary and the fields' errors
    problems += [f"refused booking: {p}" for p in serious_violations(page, axe_source)]
    page.goto(server.url + "/language/de?next=/")
    problems += _check(page, server.url + f"/games/{venue[0].slug}", axe_source)
    assert problems == []


def _log_in(page, server):
    page.goto(server.url + "/admin/login")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")


@pytest.mark.parametrize("viewport", ["checked_page", "checked_phone"])
def test_staff_pages_pass_axe(request, viewport, server, venue, staff_user, axe_source):
    page = request.getfixturevalue(viewport)
    game, made, _ = venue
    reference, slot_id = made.booking.reference, made.booking.slot_id
    page.goto(server.url + "/admin/login")
    problems = [f"login: {p}" for p in serious_violations(page, axe_source)]
    _log_in(page, server)
    urls = [
        "/admin/", "/admin/games/new", f"/admin/games/{game.id}/edit", f"/admin/games/{game.id}/progress",
        f"/admin/games/{game.id}/deactivate", "/admin/runs", "/admin/bookings?date=2027-01-13",
        "/admin/bookings/search?q=ada", f"/admin/bookings/{reference}", f"/admin/bookings/{reference}/cancel",
        f"/admin/slots/{slot_id}", "/admin/tokens", "/admin/users", "/admin/webhooks", "/admin/audit", "/admin/outbox",
    ]
    problems += [p for url in urls for p in _check(page, server.url + url, axe_source)]
    page.goto(server.url + f"/admin/games/{game.id}/edit")
    page.fill("#hours_mon", "12:00-16:00")
    page.click("button:has-text('Preview changes')")
    problems += [f"preview: {p}" for p in serious_violations(page, axe_source)]
    page.fill("#capacity", "0")
    page.click("button:has-text('Preview changes')")
    problems += [f"refused edit: {p}" for p in serious_violations(page, axe_source)]
    assert problems == []


def test_the_booking_flow_works_from_the_keyboard_alone(server, venue, page):
    game = venue[0]
    page.goto(server.url + "/")
    _tab_to(page, lambda el: el["text"] == "Clockwork Tower")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/games/{game.slug}")
    _tab_to(page, lambda el: el["type"] == "radio")  # the first free time, 10:00
    page.keyboard.press("ArrowRight")  # radios move with the arrows: 11:00
    assert "Wed 13 Jan 2027, 11:00 GMT" in page.inner_text("#choice")
    _tab_to(page, lambda el: el["id"] == "name")
    page.keyboard.type("Ada Lovelace")
    page.keyboard.press("Tab")
    page.keyboard.type("ada@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    _tab_to(page, lambda el: el["text"] == "Book")
    page.keyboard.press("Enter")
    page.wait_for_url("**/bookings/*")
    assert page.inner_text("h1") == "Your booking"
    assert "Wed 13 Jan 2027, 11:00 GMT" in page.inner_text(".booking-details")
    assert slot_at(game, TEN.replace(hour=11)).booked == 2


_FOCUSED = """() => { const el = document.activeElement;
  return {id: el.id, type: el.type || '', text: (el.innerText || el.value || '').trim()}; }"""


def _tab_to(page, wanted, limit: int = 60) -> None:
    """Press Tab until the focused element is the one wanted; fail after ``limit`` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if wanted(page.evaluate(_FOCUSED)):
            return
    raise AssertionError(f"never reached the element wanted; focus ended on {page.evaluate(_FOCUSED)}")
