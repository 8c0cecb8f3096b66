"""`flask admin create-user|create-token` and the demo staff login."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import ApiToken, StaffUser
from bookingapp.services.accounts import authenticate


def test_create_user_with_a_password_flag_makes_a_working_login(runner, clock):
    result = runner.invoke(args=["admin", "create-user", "bob", "--password", "s3cret-enough"])
    assert result.exit_code == 0, result.output
    assert "Created staff user 'bob'." in result.output
    user = db.session.scalar(select(StaffUser))
    assert user.password_hash != "s3cret-enough"
    assert authenticate(db.session, "bob", "s3cret-enough", now=clock.now()) is not None


def test_create_user_prompts_for_the_password_twice(runner):
    result = runner.invoke(args=["admin", "create-user", "carol"], input="long-password\nlong-password\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(StaffUser.username)) == "carol"


def test_create_user_refuses_a_short_password_and_a_taken_name(runner):
    short = runner.invoke(args=["admin", "create-user", "dan", "--password", "short"])
    assert short.exit_code == 1 and "password: must be 8 to 200 characters" in short.output
    runner.invoke(args=["admin", "create-user", "dan", "--password", "long-enough"])
    again = runner.invoke(args=["admin", "create-user", "dan", "--password", "long-enough"])
    assert again.exit_code == 1 and "username: is taken" in again.output
    assert "Traceback" not in again.output


def test_create_user_refuses_a_bad_username(runner):
    result = runner.invoke(args=["admin", "create-user", "no spaces please", "--password", "long-enough"])
    assert result.exit_code == 1 and "username:" in result.output


def test_create_token_prints_it_once_and_stores_its_hash(runner, client):
    result = runner.invoke(args=["admin", "create-token", "ci-bot"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    stored = db.session.scalar(select(ApiToken))
    assert stored.name == "ci-bot" and stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert client.get("/api/runs", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_create_token_refuses_an_empty_name(runner):
    result = runner.invoke(args=["admin", "create-token", "  "])
    assert result.exit_code == 1 and "name:" in result.output


def test_demo_seed_prints_a_staff_login_once(runner, clock):
    first = runner.invoke(args=["demo", "seed"])
    line = next(l for l in first.output.splitlines() if l.startswith("Staff login:"))
    password = line.rsplit(" / ", 1)[1]
    assert authenticate(db.session, "staff", password, now=clock.now()) is not None
    second = runner.invoke(args=["demo", "seed"])
    assert "Staff login 'staff': already there" in second.output and password not in second.output
