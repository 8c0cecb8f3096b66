"""Fixtures for the staff pages and API: a logged-in client, a token, the pool drained.

The staff login itself (``staff_user``) is in ``tests/conftest.py``, shared with the
multi-worker tests."""
from __future__ import annotations

import pytest

from bookingapp.extensions import db
from bookingapp.models import StaffRole, StaffUser
from bookingapp.services.accounts import create_api_token

from tests.staff_helpers import PASSWORD, post_form


@pytest.fixture
def staff_client(app, staff_user):
    """A client logged in as staff through the real login form."""
    client = app.test_client()
    response = post_form(client, "/admin/login", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def api_token(app):
    return create_api_token(db.session, "tests")


@pytest.fixture
def api(app, api_token):
    """A client whose calls carry the staff token."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token}"}

    class Api:
        def __init__(self):
            self.headers = headers

        def post(self, url, body):
            return client.post(url, json=body, headers=headers)

        def patch(self, url, body):
            return client.patch(url, json=body, headers=headers)

        def get(self, url):
            return client.get(url, headers=headers)

    return Api()


@pytest.fixture
def drain_pool(app):
    """Wait for the background pool's work (generation jobs) to finish."""
    from bookingapp.maintenance.pool import background_pool

    def drain():
        background_pool(app)
        _, pool = app.extensions.pop("slots_pool")
        pool.shutdown(wait=True)

    yield drain
    if "slots_pool" in app.extensions:
        drain()


@pytest.fixture
def desk_client(app, password_hash):
    """A test client logged in as a desk user (bookings and the day, no games, users or tokens)."""
    db.session.add(StaffUser(username="dana", password_hash=password_hash, role=StaffRole.DESK))
    db.session.commit()
    client = app.test_client()
    assert post_form(client, "/admin/login", {"username": "dana", "password": PASSWORD}).status_code == 302
    return client
