"""A customer in a real browser: browse, book, read the confirmation, cancel."""
from __future__ import annotations

import os
import threading
from datetime import datetime, timezone

import pytest
from werkzeug.serving import make_server

from booking_helpers import slot_at

CHROMIUM = "/usr/bin/chromium"
TEN = datetime(2027, 1, 13, 10, 0, tzinfo=timezone.utc)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def base_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser.new_page(viewport={"width": 390, "height": 844})
        browser.close()


def test_a_customer_books_and_cancels_in_the_browser(base_url, page, make_game):
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
    page.click("button:has-text('Cancel this booking')")
    assert page.inner_text("h1") == "Booking cancelled"
    assert slot_at(game, TEN).booked == 0
