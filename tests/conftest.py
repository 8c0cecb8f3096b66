"""Test harness: a throw-away PostgreSQL database and SQLite file per test session, both
built by the migrations; a Redis key prefix of our own; per-test cleanup; factories.

The app, its database drivers and Redis are imported inside the fixtures, not here, so
the unit layer (``tests/unit``) runs without them.

Settings come from the environment (defaults are this machine's standard services):
TEST_PG_ADMIN_URL (a database to connect to while creating ours), TEST_REDIS_URL.
"""
from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bookingapp.core.clock import ManualClock
from bookingapp.core.hours import WEEKDAYS

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
# A Wednesday morning in January: far from any DST change, in every zone the tests use.
DEFAULT_NOW = datetime(2027, 1, 13, 9, 30, tzinfo=timezone.utc)


def free_port() -> int:
    """A local TCP port nothing listens on: for a server to bind, or a Redis that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _migrated(url: str) -> None:
    from flask_migrate import upgrade

    from bookingapp import create_app
    from bookingapp.extensions import db

    app = create_app(settings_for(url, "migrate"))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()


def settings_for(url: str, prefix: str, **overrides) -> dict:
    """The test settings on this database and Redis key prefix (the live server uses them too)."""
    from config import TestConfig

    return {
        **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
        "SQLALCHEMY_DATABASE_URI": url,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": prefix,
        **overrides,
    }


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """The German .mo built from its .po when missing or older (``make compile-messages`` does the same)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parent.parent / "bookingapp" / "translations").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with mo.open("wb") as target:
                write_mo(target, catalog)


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL database of this test session's own, dropped at the end."""
    import psycopg

    name = f"bookingapp_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    _migrated(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'bookingapp.sqlite3'}"
    _migrated(url)
    return url


@pytest.fixture(scope="session")
def redis_prefix():
    """A Redis key prefix of this test session's own; its keys are removed at the end."""
    prefix = f"bookingapp-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    _delete_keys(prefix)


def _delete_keys(prefix: str) -> None:
    import redis as redis_lib

    client = redis_lib.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def clock():
    """The app's clock, set to DEFAULT_NOW; tests advance it instead of sleeping."""
    return ManualClock(DEFAULT_NOW)


def _make_app(url: str, prefix: str, clock: ManualClock, overrides: dict):
    from bookingapp import create_app
    from bookingapp.extensions import db

    app = create_app(settings_for(url, prefix, **overrides), clock=clock)
    with app.app_context():
        yield app
        _, pool = app.extensions.pop("slots_pool", (None, None))
        if pool is not None:  # background work a test started (a new game's window) ends first
            pool.shutdown(wait=True)
        db.session.remove()
        empty_tables()
        db.engine.dispose()
    _delete_keys(prefix)


def empty_tables() -> None:
    """Delete every row (and restart ids on PostgreSQL) on the current app's database."""
    from sqlalchemy import text

    from bookingapp.extensions import db

    tables = [table.name for table in reversed(db.metadata.sorted_tables)]  # children first
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def app_settings():
    """Overrides for the app's settings; a test module may redefine this fixture."""
    return {}


@pytest.fixture
def app(pg_url, redis_prefix, clock, app_settings):
    """The app on PostgreSQL and Redis, inside an app context; tables emptied afterwards."""
    yield from _make_app(pg_url, redis_prefix, clock, app_settings)


@pytest.fixture(params=["postgresql", "sqlite"])
def any_app(request, redis_prefix, clock, app_settings):
    """The app on each supported database in turn."""
    url = request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url")
    yield from _make_app(url, redis_prefix, clock, app_settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free port, collecting what it receives; stopped afterwards.

    Point the app at it from a test module's own ``app_settings`` fixture:
    ``return {"MAIL_URL": smtp_server.url}``.
    """
    from tests.smtp_server import SmtpServer

    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_game():
    """Create a game through the service layer; keyword arguments override the defaults."""
    from bookingapp.extensions import db
    from bookingapp.services.games import create_game

    counter = iter(range(1, 10_000))

    def make(**overrides):
        n = next(counter)
        data = {
            "name": f"Game {n}",
            "timezone": "Europe/London",
            "slot_minutes": 60,
            "capacity": 4,
            "weekly_hours": {day: [["10:00", "22:00"]] for day in WEEKDAYS},
            **overrides,
        }
        return create_game(db.session, data)

    return make


@pytest.fixture(scope="session")
def password_hash():
    """Hashed once: a Werkzeug hash is deliberately slow, and every staff test needs a login."""
    from werkzeug.security import generate_password_hash

    from tests.staff_helpers import PASSWORD

    return generate_password_hash(PASSWORD)


@pytest.fixture
def staff_user(app, password_hash):
    """A staff login ``alice`` (password ``tests.staff_helpers.PASSWORD``)."""
    from bookingapp.extensions import db
    from bookingapp.models import StaffUser

    user = StaffUser(username="alice", password_hash=password_hash)
    db.session.add(user)
    db.session.commit()
    return user
