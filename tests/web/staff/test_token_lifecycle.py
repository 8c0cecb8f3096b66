"""API tokens expire and are revoked without SQL; staff passwords are reset from the shell."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bookingapp.extensions import db
from bookingapp.services.accounts import authenticate, list_api_tokens
from tests.staff_helpers import post_form


def _token(runner, *args):
    result = runner.invoke(args=["admin", "create-token", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def _status(client, raw):
    return client.get("/api/runs", headers={"Authorization": f"Bearer {raw}"}).status_code


def test_a_token_made_to_expire_works_until_its_last_second_then_answers_401(runner, client, clock):
    raw = _token(runner, "till", "--expires-in", "7")
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert _status(client, raw) == 200
    clock.advance(timedelta(seconds=1))
    assert _status(client, raw) == 401


def test_revoke_token_stops_it_at_once_and_frees_its_name(runner, client):
    raw = _token(runner, "ci")
    assert _status(client, raw) == 200
    result = runner.invoke(args=["admin", "revoke-token", "ci"])
    assert result.exit_code == 0 and "revoked" in result.output
    assert _status(client, raw) == 401
    assert _status(client, _token(runner, "ci")) == 200


def test_revoking_an_unknown_name_exits_1_with_one_line(runner):
    result = runner.invoke(args=["admin", "revoke-token", "nobody"])
    assert result.exit_code == 1
    assert "no live token has this name" in result.output and "Traceback" not in result.output


def test_two_live_tokens_cannot_share_a_name(runner):
    _token(runner, "till")
    again = runner.invoke(args=["admin", "create-token", "till"])
    assert again.exit_code == 1 and "is taken by a live token" in again.output


@pytest.mark.parametrize("days", ["0", "3651", "soon", "-1"])
def test_bad_expiry_is_a_usage_error(runner, days):
    result = runner.invoke(args=["admin", "create-token", "x", "--expires-in", days])
    assert result.exit_code == 2 and "--expires-in" in result.output


def test_list_tokens_shows_created_last_used_expires_and_state(runner, client, clock):
    used = _token(runner, "used")
    _token(runner, "fleeting", "--expires-in", "1")
    _token(runner, "gone")
    runner.invoke(args=["admin", "revoke-token", "gone"])
    _status(client, used)
    clock.advance(timedelta(days=2))
    lines = runner.invoke(args=["admin", "list-tokens"]).output.splitlines()
    assert lines[0].split() == ["name", "created", "last", "used", "expires", "state"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["used"].endswith("live") and "2027-01-13" in rows["used"] and "never" in rows["used"]
    assert rows["fleeting"].endswith("expired") and "2027-01-14" in rows["fleeting"]
    assert rows["gone"].endswith("revoked")


def test_set_password_replaces_the_old_one(runner, clock):
    runner.invoke(args=["admin", "create-user", "ann", "--password", "first-password"])
    result = runner.invoke(args=["admin", "set-password", "ann", "--password", "second-password"])
    assert result.exit_code == 0, result.output
    assert authenticate(db.session, "ann", "first-password", now=clock.now()) is None
    assert authenticate(db.session, "ann", "second-password", now=clock.now()) is not None


@pytest.mark.parametrize("name, password, says", [
    ("nobody", "long-enough", "no such staff user"),
    ("ann", "short", "must be 8 to 200 characters"),
])
def test_set_password_refuses_unknown_users_and_short_passwords(runner, name, password, says):
    runner.invoke(args=["admin", "create-user", "ann", "--password", "first-password"])
    result = runner.invoke(args=["admin", "set-password", name, "--password", password])
    assert result.exit_code == 1 and says in result.output


def test_staff_make_a_token_on_the_page_see_it_once_and_revoke_it(staff_client, client):
    made = post_form(staff_client, "/admin/tokens", {"name": "till", "expires_in": "30"})
    assert made.status_code == 201
    raw = re.search(r'<code class="secret">([^<]+)</code>', made.get_data(as_text=True)).group(1)
    assert _status(client, raw) == 200
    listing = staff_client.get("/admin/tokens").get_data(as_text=True)
    assert raw not in listing and "till" in listing and "2027-02-12" in listing
    revoked = post_form(staff_client, "/admin/tokens", {"name": "till"}, "/admin/tokens/revoke")
    assert revoked.status_code == 302
    assert _status(client, raw) == 401
    assert "revoked" in staff_client.get("/admin/tokens").get_data(as_text=True)


@pytest.mark.parametrize("fields, says", [
    ({"name": "", "expires_in": ""}, "must be 1 to 80 characters"),
    ({"name": "x", "expires_in": "soon"}, "must be a whole number of days"),
    ({"name": "x", "expires_in": "0"}, "must be a whole number of days"),
])
def test_the_token_page_refuses_bad_fields_with_422_and_makes_nothing(staff_client, fields, says):
    response = post_form(staff_client, "/admin/tokens", fields)
    assert response.status_code == 422 and says in response.get_data(as_text=True)
    assert list_api_tokens(db.session) == []


def test_the_token_page_needs_a_login(client):
    assert client.get("/admin/tokens").status_code == 302
