"""Domain errors. Each entry point translates them: pages flash, the API answers JSON,
the CLI prints one line and exits 1."""
from __future__ import annotations

from typing import Mapping


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


class SlotFull(Conflict):
    """Not enough seats are free right now (another booking may free them later)."""

    code = "slot_full"


class SlotClosed(DomainError):
    """The slot has started or starts sooner than the game's minimum notice."""

    code = "slot_closed"
    status = 422


class BadCancelToken(DomainError):
    code = "bad_cancel_token"
    status = 403
