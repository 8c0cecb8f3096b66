"""Domain errors, and the one place that turns them (and HTTP errors) into answers.

Services raise a ``DomainError``; the blueprints register ``json_errors`` (the API) or
``page_errors`` (customer pages) here, the staff pages answer a poll with
``error_response`` when ``wants_json()``, and the CLI prints ``cli_message`` and exits 1.
"""
from __future__ import annotations

from typing import Callable, Mapping

import logging

from flask import Blueprint, Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("bookingapp")

# How long a client should wait before trying again after the database was lost.
DATABASE_RETRY_AFTER = 5


class DomainError(Exception):
    """Something the user asked for cannot be done; ``code`` and ``status`` say how to answer."""

    code = "error"
    status = 400

    def __init__(self, message: str, fields: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class ValidationError(DomainError):
    code = "invalid"
    status = 422

    def __init__(self, fields: Mapping[str, str], message: str = "Some fields are not valid."):
        super().__init__(message, fields)


class NotFound(DomainError):
    code = "not_found"
    status = 404


class GameNotFound(NotFound):
    code = "game_not_found"


class Conflict(DomainError):
    code = "conflict"
    status = 409


class SlugTaken(Conflict):
    code = "slug_taken"


class SlotNotFound(NotFound):
    code = "slot_not_found"


class BookingNotFound(NotFound):
    code = "booking_not_found"


class WebhookNotFound(NotFound):
    code = "webhook_not_found"


class SlotFull(Conflict):
    """Not enough seats are free right now (another booking may free them later)."""

    code = "slot_full"


class BookingCancelled(Conflict):
    """The booking is cancelled: it can no longer be moved or changed that way."""

    code = "booking_cancelled"


class BookingChanged(Conflict):
    """Someone else changed the booking at the same moment; nothing was done."""

    code = "booking_changed"


class SlotClosed(DomainError):
    """The slot has started or starts sooner than the game's minimum notice."""

    code = "slot_closed"
    status = 422


class BadCancelToken(DomainError):
    code = "bad_cancel_token"
    status = 403


def error_response(status: int, code: str, message: str, fields: Mapping[str, str] | None = None) -> Response:
    """The JSON error shape every JSON answer uses: ``{"error": {"code", "message", "fields"}}``."""
    response = jsonify({"error": {"code": code, "message": message, "fields": dict(fields or {})}})
    response.status_code = status
    return response


def wants_json() -> bool:
    """Whether the client prefers a JSON answer (a page's script) to HTML."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def cli_message(exc: DomainError) -> str:
    """One line for the CLI: each bad field with its reason, or the message when none is named."""
    return "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.message


def json_errors(bp: Blueprint) -> None:
    """Answer domain errors raised under ``bp`` as JSON."""

    @bp.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        return error_response(exc.status, exc.code, exc.message, exc.fields)


def page_errors(bp: Blueprint, render: Callable[[str, int], object]) -> None:
    """Answer domain errors raised under ``bp`` with a page: ``render(message, status)``."""

    @bp.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        status = exc.status if exc.status in (403, 404) else 400
        return render(exc.message, status), status


def register_http_errors(app: Flask, json_prefix: str) -> None:
    """Answer HTTP errors (404, 405, 413, 500…) under ``json_prefix`` as JSON, elsewhere as usual."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code == 429:
            return _rate_limited(json_prefix)
        if request.path.startswith(json_prefix + "/") or request.path == json_prefix:
            code = (exc.name or "error").lower().replace(" ", "_")
            response = error_response(exc.code or 500, code, exc.description or exc.name)
            if exc.code == 405 and exc.valid_methods:
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            return response
        return exc


RATE_LIMITED = "Too many tries from here in a short time. Please wait a little and try again."


def _rate_limited(json_prefix: str) -> Response:
    # Flask-Limiter adds Retry-After (and the X-RateLimit headers) to this answer.
    if request.path.startswith(json_prefix + "/") or wants_json():
        return error_response(429, "rate_limited", RATE_LIMITED)
    return Response(render_template("booking/message.html", title=RATE_LIMITED), 429)


def lost_database(exc: BaseException) -> bool:
    """Whether ``exc`` means the database connection went away (not a bad query)."""
    if isinstance(exc, (OperationalError, InterfaceError, PendingRollbackError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def register_database_errors(app: Flask, json_prefix: str, forget_session: Callable[[], None]) -> None:
    """Answer a lost database connection with a 503 and Retry-After, in the app's shape.

    ``forget_session`` drops the request's session (its connection is dead), so the next
    request starts on a fresh one; the pool's pre-ping replaces the dead connections.
    """

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PendingRollbackError)
    def _database_error(exc: Exception):
        if not lost_database(exc):
            raise exc
        log.warning("Database connection lost while serving %s: %s", request.path, str(exc).splitlines()[0])
        forget_session()
        message = "The booking system is briefly unavailable. Please try again in a few seconds."
        if request.path.startswith(json_prefix + "/") or request.path == json_prefix or wants_json():
            response = error_response(503, "unavailable", message)
        else:
            response = Response(render_template("booking/message.html", title=message), 503)
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
