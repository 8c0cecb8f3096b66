"""Limits on what anonymous clients may do: book, move, cancel and look bookings up.

Flask-Limiter counts in Redis (every worker and host shares the counts) or in process
memory on the embedded default. Booking writes are counted per client address and per
email, each under one scope shared by the form and the API, so switching between them
does not reset a count; look-ups per address. Calls that carry staff credentials are not
counted (without a live token they are refused anyway). An empty setting turns its limits
off. When the counter store is unreachable the limits are skipped, not the bookings.
"""
from __future__ import annotations

import json

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from bookingapp.core.json_depth import MAX_JSON_DEPTH, nesting_depth

limiter = Limiter(get_remote_address)


def init_limits(app) -> None:
    """Attach the limiter to ``app``, counting where its cache does."""
    url, prefix = app.config.get("REDIS_URL"), app.config["REDIS_PREFIX"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", url or "memory://")
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"key_prefix": f"{prefix}:limits"} if url else {})
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


def _booking_rate() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def _lookup_rate() -> str:
    return current_app.config["BOOKING_LOOKUP_RATE_LIMIT"]


def _staff_call() -> bool:
    return "Authorization" in request.headers


def _email_key() -> str:
    """The email a booking is made for (form or JSON), else the client address."""
    email = request.form.get("email") if request.form else None
    if email is None and request.is_json:
        email = _json_email()
    if isinstance(email, str) and email.strip():
        return "email:" + email.strip().lower()[:320]
    return "address:" + get_remote_address()


def _json_email() -> object:
    text = request.get_data(as_text=True)
    if not text or nesting_depth(text) > MAX_JSON_DEPTH:
        return None  # the view refuses such a body; the address limit still counts it
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return body.get("email") if isinstance(body, dict) else None


def _unless(setting):
    return lambda: _staff_call() or not current_app.config[setting]


def limit_booking_writes(view):
    """Booking, moving and cancelling: per client address and per email (BOOKING_RATE_LIMIT)."""
    exempt = _unless("BOOKING_RATE_LIMIT")
    writes = ["POST", "DELETE"]
    view = limiter.shared_limit(_booking_rate, "booking-email", key_func=_email_key, exempt_when=exempt,
                                methods=writes)(view)
    return limiter.shared_limit(_booking_rate, "booking-address", exempt_when=exempt, methods=writes)(view)


def limit_lookups(view):
    """Reading a booking by its reference: per client address (BOOKING_LOOKUP_RATE_LIMIT)."""
    return limiter.shared_limit(_lookup_rate, "booking-lookup", exempt_when=_unless("BOOKING_LOOKUP_RATE_LIMIT"),
                                methods=["GET"])(view)
