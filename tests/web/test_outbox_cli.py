"""`flask outbox send|status` as operators type them, the .eml files of the embedded default, and MAIL_URL checks."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from bookingapp.extensions import db
from bookingapp.services import bookings as service
from bookingapp.services.booking_input import BookingRequest

from tests.booking_helpers import fill, slot_at
from tests.conftest import free_port, settings_for

UTC = timezone.utc
ROOT = Path(__file__).resolve().parent.parent.parent
SOON = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)  # inside the reminder's lead: a confirmation only


def _book(game, clock, email="ada@example.com"):
    return service.book_slot(db.session, BookingRequest(slot_at(game, SOON).id, "Ada", email, 1), clock.now())


class TestWithSmtp:
    @pytest.fixture
    def app_settings(self, smtp_server):
        return {"MAIL_URL": smtp_server.url}

    def test_send_delivers_what_is_due_and_prints_the_counts(self, runner, clock, make_game, smtp_server):
        game = make_game()
        fill(game, clock)
        for n in range(3):
            _book(game, clock, email=f"guest{n}@example.com")
        result = runner.invoke(args=["outbox", "send"])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "Sent 3, to retry 0, failed 0"
        assert len(smtp_server.messages) == 3
        assert runner.invoke(args=["outbox", "send"]).output.strip() == "Sent 0, to retry 0, failed 0"

    def test_send_stops_at_its_limit(self, runner, clock, make_game, smtp_server):
        game = make_game()
        fill(game, clock)
        for n in range(3):
            _book(game, clock, email=f"guest{n}@example.com")
        assert runner.invoke(args=["outbox", "send", "--limit", "2"]).output.strip() == "Sent 2, to retry 0, failed 0"
        assert len(smtp_server.messages) == 2

    @pytest.mark.parametrize("limit", ["0", "lots", "-1"])
    def test_a_bad_limit_is_refused_with_a_message(self, runner, limit):
        result = runner.invoke(args=["outbox", "send", "--limit", limit])
        assert result.exit_code == 2 and "Invalid value for '--limit'" in result.output

    def test_status_shows_counts_the_oldest_due_age_and_the_last_failures(self, runner, clock, make_game, smtp_server):
        game = make_game()
        fill(game, clock)
        _book(game, clock)
        smtp_server.refuse(451)
        runner.invoke(args=["outbox", "send"])
        clock.advance(timedelta(seconds=75))
        output = runner.invoke(args=["outbox", "status"]).output
        assert "pending 1, sent 0, failed 0, dropped 0" in output
        assert "Oldest due message: waiting 15 s" in output
        assert "booking.confirmed to ada@example.com: 1 attempt(s), retry at 2027-01-13T09:31:00+00:00: SMTP 451" in output
        smtp_server.accept()
        runner.invoke(args=["outbox", "send"])
        output = runner.invoke(args=["outbox", "status"]).output
        assert "pending 0, sent 1" in output and "Nothing due" in output and "Last failures: none" in output


def test_without_mail_url_each_message_is_an_eml_file_under_instance_mail(app, clock, make_game, tmp_path,
                                                                           monkeypatch, runner):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    game = make_game()
    fill(game, clock)
    made = _book(game, clock)
    assert runner.invoke(args=["outbox", "send"]).output.strip() == "Sent 1, to retry 0, failed 0"
    [path] = (tmp_path / "mail").iterdir()
    assert path.name.startswith(f"20270113-093000-confirmed-{made.booking.reference}-") and path.suffix == ".eml"
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "ada@example.com" and made.cancel_token in message.get_body(("plain",)).get_content()


def test_send_says_so_when_the_database_is_unreachable(redis_prefix, clock):
    from bookingapp import create_app

    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = create_app(settings_for(url, redis_prefix), clock=clock)
    for command in (["outbox", "send"], ["outbox", "status"]):
        result = app.test_cli_runner().invoke(args=command)
        assert result.exit_code == 1
        assert result.output.startswith("Error: the database is unreachable: ") and result.output.count("\n") == 1


@pytest.mark.parametrize(
    "value, message",
    [
        ("ftp://u:secret@mail.example", "'ftp://u:***@mail.example' is not smtp://user:pass@host:587 or smtps://"),
        ("smtp://", "'smtp://' names no host"),
        ("smtp://mail.example:99999", "'smtp://mail.example:99999' has a bad port"),
        ("smtp://u:secret@mail.example:port", "'smtp://u:***@mail.example:port' has a bad port"),  # never the password
    ],
)
def test_a_bad_mail_url_stops_the_app_and_the_cli_with_one_line(value, message, redis_prefix, pg_url):
    from bookingapp import create_app

    with pytest.raises(SystemExit) as stopped:
        create_app(settings_for(pg_url, redis_prefix, MAIL_URL=value))
    assert str(stopped.value).startswith(f"bookingapp: bad setting: MAIL_URL={message}")
    env = {**os.environ, "MAIL_URL": value}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "status"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"bookingapp: bad setting: MAIL_URL={message}")
    assert "secret" not in result.stderr
