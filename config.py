"""Settings, read from the environment with development defaults."""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class ConfigError(SystemExit):
    """A setting in the environment has a value the app cannot use.

    A SystemExit, so a bad setting stops the app with one clear line, not a traceback.
    """

    def __init__(self, message: str):
        super().__init__(f"bookingapp: bad setting: {message}")


def env_int(name: str, default: int, *, low: int, high: int) -> int:
    """Read an integer setting, refusing anything outside ``low..high``."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is outside {low}..{high}")
    return value


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no setting (1/0, true/false, yes/no, on/off)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not one of true/false")


def database_url(raw: str | None) -> str:
    """Normalise DATABASE_URL so PostgreSQL always goes through psycopg 3."""
    if not raw:
        return f"sqlite:///{INSTANCE_DIR / 'bookingapp.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Read a setting that must be one of ``choices``."""
    raw = (os.environ.get(name) or "").strip() or default
    if raw not in choices:
        raise ConfigError(f"{name}={raw!r} is not one of {'/'.join(choices)}")
    return raw


def env_rate_limit(name: str, default: str) -> str:
    """Read a Flask-Limiter limit ("10 per minute;50 per hour"); empty turns it off."""
    raw = os.environ.get(name)
    value = default if raw is None else raw.strip()
    if value:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a rate limit such as '10 per minute;50 per hour'") from None
    return value


def check_mail_url(raw: str | None, name: str = "MAIL_URL") -> str | None:
    """MAIL_URL as given when it names an SMTP server; None when unset (messages become .eml files)."""
    if raw is None or not raw.strip():
        return None
    from bookingapp.core.mailurl import parse_mail_url

    try:
        parse_mail_url(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={exc}") from None
    return raw.strip()


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-secret-change-me")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "bookingapp")
    SLOTS_DAYS_TO_MAINTAIN = env_int("SLOTS_DAYS_TO_MAINTAIN", 7, low=1, high=366)
    SLOTS_CHECK_INTERVAL = env_int("SLOTS_CHECK_INTERVAL", 3600, low=0, high=7 * 86400)
    SLOTS_MAINTENANCE_ENABLED = env_bool("SLOTS_MAINTENANCE_ENABLED", True)
    # The daily run's lease: renewed between batches, so a dead worker blocks the day
    # for at most this long; a failed run is retried after SLOTS_RETRY_AFTER; a worker
    # that sees another holder looks again after SLOTS_RECHECK_SECONDS.
    SLOTS_LOCK_TTL = env_int("SLOTS_LOCK_TTL", 60, low=1, high=3600)
    SLOTS_RETRY_AFTER = env_int("SLOTS_RETRY_AFTER", 120, low=1, high=86400)
    SLOTS_RECHECK_SECONDS = env_int("SLOTS_RECHECK_SECONDS", 5, low=1, high=3600)
    # The daily run is cut into units of this many games, which every worker takes in turn.
    SLOTS_UNIT_GAMES = env_int("SLOTS_UNIT_GAMES", 1000, low=1, high=1_000_000)
    SLOTS_CLOCK_FILE = os.environ.get("SLOTS_CLOCK_FILE") or None  # tests only: a shared fake clock
    # Staff login throttling: after this many failures within the window (seconds) a
    # username, or a client address, is refused until the oldest failure leaves the window.
    LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, low=1, high=1000)
    LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20, low=1, high=10000)
    LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 900, low=1, high=7 * 86400)
    # Anonymous booking writes (book, move, cancel) per client address and per email, and
    # look-ups of a booking per address; Flask-Limiter syntax, "" turns them off.
    BOOKING_RATE_LIMIT = env_rate_limit("BOOKING_RATE_LIMIT", "10 per minute;50 per hour")
    BOOKING_LOOKUP_RATE_LIMIT = env_rate_limit("BOOKING_LOOKUP_RATE_LIMIT", "60 per minute")
    BOOKING_DEFAULT_TIMEZONE = os.environ.get("BOOKING_DEFAULT_TIMEZONE", "UTC")
    # The venue customers see in the header and footer, on confirmations and in calendar files.
    VENUE_NAME = os.environ.get("VENUE_NAME", "bookingapp")
    VENUE_ADDRESS = os.environ.get("VENUE_ADDRESS", "")
    VENUE_EMAIL = os.environ.get("VENUE_EMAIL", "")
    VENUE_PHONE = os.environ.get("VENUE_PHONE", "")
    # Messages about bookings: a reminder this many hours before the start (0: none);
    # SMTP from MAIL_URL (unset: .eml files under instance/mail/), sent as MAIL_FROM.
    BOOKING_REMINDER_HOURS = env_int("BOOKING_REMINDER_HOURS", 24, low=0, high=24 * 30)
    MAIL_URL = check_mail_url(os.environ.get("MAIL_URL"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "bookings@localhost")
    # The site's address for links in messages (they are built outside any request).
    SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:5000")
    # Due messages are sent after responses, in the background; each worker looks at the
    # shared next due time (messages other workers wrote) every OUTBOX_RECHECK_SECONDS.
    OUTBOX_DELIVERY_ENABLED = env_bool("OUTBOX_DELIVERY_ENABLED", True)
    OUTBOX_RECHECK_SECONDS = env_int("OUTBOX_RECHECK_SECONDS", 5, low=1, high=3600)
    # Webhook URLs that resolve to loopback, private or link-local addresses are refused unless true.
    WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 1024 * 1024
    # https (behind a TLS-terminating proxy, as in production) adds HSTS and marks the
    # session and remember-me cookies Secure.
    PREFERRED_URL_SCHEME = env_choice("PREFERRED_URL_SCHEME", "http", ("http", "https"))


class TestConfig(Config):
    """The test suite's settings; its database and Redis come from the environment too."""

    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bookingapp_test")
    )
    REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    REDIS_PREFIX = os.environ.get("TEST_REDIS_PREFIX", "bookingapp-test")
    SLOTS_MAINTENANCE_ENABLED = False
    OUTBOX_DELIVERY_ENABLED = False  # the delivery tests turn it on, with their own SMTP server
    WTF_CSRF_ENABLED = True
    # Tests book many times from one address; the limits' own tests turn them on.
    BOOKING_RATE_LIMIT = ""
    BOOKING_LOOKUP_RATE_LIMIT = ""
    # The tests' webhook receivers listen on 127.0.0.1; the refusal's own tests turn this off.
    WEBHOOK_ALLOW_PRIVATE = True
