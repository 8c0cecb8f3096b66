"""A customer in a real browser: browse, book, read the confirmation, cancel."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.booking_helpers import slot_at

from tests.live_server import LiveServer

TEN = datetime(2027, 1, 13, 10, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.slow


@pytest.fixture
def base_url(app):
    with LiveServer(app) as server:
        yield server.url


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    yield context.new_page()
    context.close()


def test_a_customer_books_and_cancels_in_the_browser(base_url, phone, make_game):
    page = phone
    game = make_game(name="Clockwork Tower", description="Stop the clock.")
    page.goto(base_url + "/")
    page.click("text=Clockwork Tower")
    assert page.locator("legend", has_text="Today, 13 January").count() == 1
    page.click("label[for^=slot-] >> nth=0")  # 10:00 GMT, the first free time
    page.fill("#name", "Ada Lovelace")
    page.fill("#email", "ada@example.com")
    page.fill("#party_size", "9")
    page.click("button:has-text('Book')")
    assert "must be between 1 and 4" in page.inner_text(".error-summary")
    page.fill("#party_size", "3")
    page.click("button:has-text('Book')")
    assert page.inner_text("h1") == "Your booking"
    assert "Wed 13 Jan 2027, 10:00 GMT" in page.inner_text(".booking-details")
    assert slot_at(game, TEN).booked == 3
    page.click("text=Cancel this booking…")
    assert page.inner_text("h1") == "Cancel this booking?"
    assert slot_at(game, TEN).booked == 3  # asking is not cancelling
    page.click("button:has-text('Yes, cancel my booking')")
    assert page.inner_text("h1") == "Booking cancelled"
    assert slot_at(game, TEN).booked == 0
