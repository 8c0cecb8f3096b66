"""A real server (werkzeug, threaded, on a free port) on the test PostgreSQL database and Redis,
and Debian's headless Chromium driven by Playwright."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from bookingapp import create_app
from bookingapp.extensions import db
from bookingapp.models import StaffUser
from bookingapp.slots.clock import ManualClock
from config import TestConfig
from live_server import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TABLES = ("bookings", "slots", "games", "maintenance_runs", "maintenance_claims", "staff_users", "api_tokens")


@pytest.fixture(scope="module")
def live_server(pg_url, redis_prefix):
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    # A fixed "now" far from any DST change keeps the slot counts exact whatever the real date.
    clock = ManualClock(datetime(2027, 1, 13, 9, 30, tzinfo=timezone.utc))
    app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": pg_url, "REDIS_PREFIX": redis_prefix}, clock=clock)
    with LiveServer(app) as server:
        yield server
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def staff_login(live_server):
    """A staff user on the live server: (username, password)."""
    username, password = f"staff-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    with live_server.app.app_context():
        db.session.add(StaffUser(username=username, password_hash=generate_password_hash(password)))
        db.session.commit()
        db.session.remove()
    return username, password


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
