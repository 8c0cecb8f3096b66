"""A real server (werkzeug, threaded, on a free port) on the test PostgreSQL database and Redis,
and Debian's headless Chromium driven by Playwright."""
from __future__ import annotations

import secrets

import pytest
from werkzeug.security import generate_password_hash

from bookingapp import create_app
from bookingapp.core.clock import ManualClock
from bookingapp.extensions import db
from bookingapp.models import StaffUser
from tests.live_server import LiveServer
from tests.conftest import DEFAULT_NOW, empty_tables, settings_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def live_server(pg_url, redis_prefix):
    """The app on the test database, served on a free port; its clock fixed at DEFAULT_NOW."""
    # A fixed "now" far from any DST change keeps the slot counts exact whatever the real date.
    app = create_app(settings_for(pg_url, redis_prefix), clock=ManualClock(DEFAULT_NOW))
    with LiveServer(app) as server:
        yield server
    with app.app_context():
        empty_tables()
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


def _fresh_page(browser, **context_options):
    # A context per test: no cookies or storage carried over from another test.
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def page(browser):
    yield from _fresh_page(browser)


@pytest.fixture
def page_without_js(browser):
    yield from _fresh_page(browser, java_script_enabled=False)


@pytest.fixture(scope="session")
def axe_source():
    from tests.browser.axe import install_axe

    return install_axe()


@pytest.fixture
def checked_page(browser):
    """A page whose CSP lets the test inject axe-core (the site's own CSP allows no inline script)."""
    yield from _fresh_page(browser, bypass_csp=True)


@pytest.fixture
def checked_phone(browser):
    yield from _fresh_page(browser, bypass_csp=True, viewport={"width": 390, "height": 844})
