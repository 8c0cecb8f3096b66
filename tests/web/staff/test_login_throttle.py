"""Failed staff logins are throttled per username and per client address, on the app clock."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bookingapp import create_app
from bookingapp.extensions import db
from bookingapp.models import StaffUser

from tests.conftest import free_port, settings_for
from tests.staff_helpers import PASSWORD, post_form

LOCKED = "Too many failed logins; try again in"
ROOT = Path(__file__).resolve().parents[3]


def log_in(client, username="alice", password=PASSWORD, address="127.0.0.1"):
    return post_form(
        client, "/admin/login", {"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def fail(client, times, username="alice", address="127.0.0.1"):
    """Post ``times`` wrong passwords; each must be an ordinary refusal (401)."""
    for _ in range(times):
        assert log_in(client, username, "wrong password", address).status_code == 401


def test_the_sixth_wrong_attempt_is_refused_with_429_a_message_and_retry_after(client, staff_user):
    fail(client, 5)
    response = log_in(client, password="wrong password")
    assert response.status_code == 429
    assert f"{LOCKED} 15 minutes." in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "900"


def test_the_right_password_is_refused_during_a_lockout(client, staff_user):
    fail(client, 5)
    assert log_in(client).status_code == 429
    assert client.get("/admin/").status_code == 302
    assert db.session.get(StaffUser, staff_user.id).last_login_at is None


def test_the_wait_shrinks_as_the_app_clock_moves(client, staff_user, clock):
    fail(client, 5)
    clock.advance(minutes=14, seconds=1)
    response = log_in(client)
    assert response.headers["Retry-After"] == "59"
    assert f"{LOCKED} 1 minute." in response.get_data(as_text=True)


def test_login_works_again_once_the_window_has_passed_on_the_app_clock(client, staff_user, clock):
    fail(client, 5)
    clock.advance(minutes=15)
    assert log_in(client).status_code == 302


def test_failures_spread_wider_than_the_window_never_lock(client, staff_user, clock):
    for _ in range(8):
        fail(client, 1)
        clock.advance(minutes=4)
    assert log_in(client).status_code == 302


def test_a_successful_login_resets_the_username_count(client, staff_user):
    fail(client, 4)
    assert log_in(client).status_code == 302
    fail(client, 4)
    assert log_in(client).status_code == 302


def test_another_username_from_the_same_address_is_not_locked_by_the_first(client, staff_user, password_hash):
    db.session.add(StaffUser(username="bob", password_hash=password_hash))
    db.session.commit()
    fail(client, 5, username="alice")
    assert log_in(client, username="alice").status_code == 429
    assert log_in(client, username="bob").status_code == 302


def test_an_address_is_locked_after_twenty_failures_across_usernames(client, staff_user):
    for n in range(20):
        fail(client, 1, username=f"guess{n}")
    response = log_in(client)
    assert response.status_code == 429 and response.headers["Retry-After"] == "900"
    assert log_in(client, address="10.0.0.7").status_code == 302


def test_a_forwarded_for_header_does_not_escape_the_address_count(client, staff_user):
    for n in range(20):
        response = post_form(
            client, "/admin/login", {"username": f"guess{n}", "password": "x"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )
        assert response.status_code == 401
    assert log_in(client).status_code == 429


def test_a_lockout_logs_one_warning(client, staff_user, caplog):
    with caplog.at_level(logging.WARNING, logger="bookingapp.admin.throttle"):
        fail(client, 5)
        for _ in range(3):
            log_in(client)
    locks = [r for r in caplog.records if "locked" in r.getMessage()]
    assert len(locks) == 1 and "'alice'" in locks[0].getMessage()


@pytest.mark.parametrize("app_settings", [{"LOGIN_MAX_FAILURES": 2, "LOGIN_FAILURE_WINDOW": 60}])
def test_the_limits_come_from_the_settings(client, staff_user):
    fail(client, 2)
    response = log_in(client)
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"


def test_counts_are_shared_by_two_apps_on_one_redis_prefix(app, staff_user, pg_url, redis_prefix, clock):
    other = create_app(settings_for(pg_url, redis_prefix), clock=clock)  # like a second gunicorn worker
    try:
        # One client per app: the tests' outer app context shares Flask-WTF's CSRF token in g.
        first, second = app.test_client(), other.test_client()
        fail(first, 3)
        fail(second, 2)
        assert log_in(first).status_code == 429
        assert log_in(second).status_code == 429
    finally:
        with other.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("app_settings", [{"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}])
def test_an_unreachable_cache_never_blocks_a_login(client, staff_user, caplog):
    with caplog.at_level(logging.WARNING, logger="bookingapp.admin.throttle"):
        for _ in range(6):
            assert log_in(client, password="wrong password").status_code == 401
        assert log_in(client).status_code == 302
    assert "cache unreachable" in caplog.text


@pytest.mark.parametrize("app_settings", [{"REDIS_URL": None}])
def test_the_embedded_default_throttles_in_its_process_cache(any_app, password_hash):
    db.session.add(StaffUser(username="alice", password_hash=password_hash))
    db.session.commit()
    client = any_app.test_client()
    fail(client, 5)
    assert log_in(client).status_code == 429


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("LOGIN_MAX_FAILURES", "abc", "LOGIN_MAX_FAILURES='abc' is not a whole number"),
        ("LOGIN_MAX_FAILURES", "0", "LOGIN_MAX_FAILURES=0 is outside 1..1000"),  # 0 would lock everyone out
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "-3", "LOGIN_MAX_FAILURES_PER_ADDRESS=-3 is outside 1..10000"),
        ("LOGIN_FAILURE_WINDOW", "15m", "LOGIN_FAILURE_WINDOW='15m' is not a whole number"),
    ],
)
def test_a_bad_throttle_setting_stops_the_app_with_one_line(name, value, message):
    env = {**os.environ, name: value}
    result = subprocess.run([sys.executable, "-c", "import config"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == f"bookingapp: bad setting: {message}"
