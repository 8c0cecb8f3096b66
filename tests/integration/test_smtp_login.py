"""MAIL_URL's user and password reach the SMTP server URL-decoded; a wrong password is retried, not lost."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bookingapp.extensions import db
from bookingapp.services import bookings as service
from bookingapp.services import delivery
from bookingapp.services.booking_input import BookingRequest

from tests.booking_helpers import fill, slot_at
from tests.conftest import free_port
from tests.smtp_server import SmtpServer

SOON = datetime(2027, 1, 13, 12, 0, tzinfo=timezone.utc)
# The test server asks for a login over a plain connection (there is no certificate here).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
USER, PASSWORD = "desk@venue.example", "p@ss:w/rd %"


@pytest.fixture
def login_server():
    server = SmtpServer(free_port(), credentials=(USER, PASSWORD))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_settings(login_server, request):
    password = getattr(request, "param", "p%40ss%3Aw%2Frd%20%25")  # PASSWORD, URL-encoded
    return {"MAIL_URL": f"smtp://desk%40venue.example:{password}@127.0.0.1:{login_server.port}"}


def _book(game, clock):
    service.book_slot(db.session, BookingRequest(slot_at(game, SOON).id, "Ada", "ada@example.com", 1), clock.now())


def test_the_decoded_login_is_accepted(app, clock, make_game, login_server):
    game = make_game()
    fill(game, clock, days=1)
    _book(game, clock)
    assert delivery.deliver_due(clock.now()).sent == 1 and len(login_server.messages) == 1


@pytest.mark.parametrize("app_settings", ["wrong"], indirect=True)
def test_a_wrong_password_is_retried_with_the_servers_answer(app, clock, make_game, login_server):
    game = make_game()
    fill(game, clock, days=1)
    _book(game, clock)
    assert delivery.deliver_due(clock.now()) == delivery.DeliveryReport(retried=1)
    [failure] = delivery.recent_failures()
    assert failure.response_status == 535 and "535" in failure.last_error and "wrong" not in failure.last_error
