"""Throttle staff password guessing: failed logins counted per username and per client address.

Each key holds the clock times (epoch seconds) of its recent failures in the shared cache
(Redis in production, so every worker sees the same counts). The app clock decides what is
recent; the cache's own expiry is only housekeeping, so an injected clock is obeyed even
though Redis and SimpleCache expire keys in real time. A cache outage never blocks a login:
the throttle is skipped (fail open) and the outage logged.

The check comes before the (slow) password check and the count after it, and a count is a
read-modify-write: logins in flight at the same moment can slip past a limit by at most
their number (the workers' concurrency), which keeps guessing at a crawl all the same.
"""
from __future__ import annotations

import hashlib
import logging
import math
from datetime import datetime

from flask import current_app, g

from bookingapp.extensions import cache

log = logging.getLogger(__name__)

# Kept a little past the window so a key never vanishes while the clock still counts it.
_HOUSEKEEPING_MARGIN = 60


def lockout_seconds(username: str, address: str | None, *, now: datetime) -> int:
    """Seconds until this username and address may try to log in again; 0 when they may now."""
    waits = [_wait(key, limit, now.timestamp()) for key, limit in _keys(username, address)]
    return max(waits, default=0)


def record_failed_login(username: str, address: str | None, *, now: datetime) -> None:
    """Count a failed login against the username and the address; log once when either locks."""
    stamp = now.timestamp()
    window = current_app.config["LOGIN_FAILURE_WINDOW"]
    for key, limit in _keys(username, address):
        failures = _recent(_load(key), stamp, window)
        failures.append(stamp)
        if not _store(key, failures[-limit:], window):
            continue
        if len(failures) == limit:
            log.warning(
                "Staff login locked for %d s after %d failed attempts: %s",
                window, limit, _describe(key, username, address),
            )


def clear_failed_logins(username: str) -> None:
    """Forget the username's failures (after a successful login); never raises."""
    if g.get("login_throttle_down"):
        return
    try:
        cache.delete(_user_key(username))
    except Exception as exc:  # the login has succeeded: a cache outage must not undo it
        log.warning("Could not clear failed logins of a staff user (cache unreachable): %s", exc)


def _keys(username: str, address: str | None) -> list[tuple[str, int]]:
    config = current_app.config
    keys = [(_user_key(username), config["LOGIN_MAX_FAILURES"])]
    if address:
        keys.append((_address_key(address), config["LOGIN_MAX_FAILURES_PER_ADDRESS"]))
    return keys


def _user_key(username: str) -> str:
    # Hashed: a guessed name may be long or hold characters no cache key should carry.
    return "login-failures:user:" + hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _address_key(address: str) -> str:
    return "login-failures:addr:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def _wait(key: str, limit: int, stamp: float) -> int:
    window = current_app.config["LOGIN_FAILURE_WINDOW"]
    failures = _recent(_load(key), stamp, window)
    if len(failures) < limit:
        return 0
    # Locked until the oldest of the last ``limit`` failures leaves the window.
    return max(1, math.ceil(failures[-limit] + window - stamp))


def _recent(failures: list[float], stamp: float, window: int) -> list[float]:
    return [t for t in failures if stamp - window < t <= stamp]


def _load(key: str) -> list[float]:
    if g.get("login_throttle_down"):
        return []
    try:
        value = cache.get(key)
    except Exception as exc:  # fail open: a login must work while the cache is away
        _went_down("Login throttle skipped (cache unreachable): %s", exc)
        return []
    if not isinstance(value, (list, tuple)):
        return []
    return [float(t) for t in value if isinstance(t, (int, float))]


def _store(key: str, failures: list[float], window: int) -> bool:
    if g.get("login_throttle_down"):
        return False
    try:
        cache.set(key, failures, timeout=window + _HOUSEKEEPING_MARGIN)
    except Exception as exc:  # fail open, as in _load
        _went_down("Login failure not counted (cache unreachable): %s", exc)
        return False
    return True


def _went_down(message: str, exc: Exception) -> None:
    # One timeout per request is enough: the rest of this login skips the cache.
    g.login_throttle_down = True
    log.warning(message, exc)


def _describe(key: str, username: str, address: str | None) -> str:
    return f"username {username[:80]!r}" if key == _user_key(username) else f"address {address}"


def wait_in_words(seconds: int) -> str:
    """The wait to tell a locked-out user, in whole minutes rounded up: "1 minute", "15 minutes"."""
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
