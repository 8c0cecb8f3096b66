"""Check what a customer sends before any row is touched."""
from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from bookingapp.errors import ValidationError
from bookingapp.models import BookingMode

MAX_NAME = 120
MAX_EMAIL = 254
MAX_SLOT_ID = 2**63 - 1
MAX_PARTY = 500  # the largest capacity a game may have


def clean_booking_request(slot_id: object, name: object, email: object, party_size: object) -> tuple[int, str, str, int]:
    """Return ``(slot_id, name, email, party_size)`` cleaned, or raise ValidationError naming every bad field."""
    problems: dict[str, str] = {}
    clean_id = _whole_number(slot_id, 1, MAX_SLOT_ID)
    if clean_id is None:
        problems["slot_id"] = "must be the id of a slot (a positive whole number)"
    clean_name = _name(name, problems)
    clean_email = _email(email, problems)
    party = _whole_number(party_size, 1, MAX_PARTY)
    if party is None:
        problems["party_size"] = f"must be a whole number from 1 to {MAX_PARTY}"
    if problems:
        raise ValidationError(problems)
    return clean_id, clean_name, clean_email, party


def check_party_fits(party_size: int, capacity: int, mode: BookingMode, min_party: int) -> None:
    """Refuse a party size no slot of this game could ever take."""
    low = min_party if mode is BookingMode.PRIVATE else 1
    if not low <= party_size <= capacity:
        if low == capacity:
            message = f"must be exactly {capacity} for this game"
        else:
            message = f"must be between {low} and {capacity} for this game"
        raise ValidationError({"party_size": message}, "This party size cannot be booked for this game.")


def _whole_number(value: object, low: int, high: int) -> int | None:
    # bool is an int in Python, but `true` is never a party size.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def _name(value: object, problems: dict[str, str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems["name"] = "is required"
        return ""
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        problems["name"] = f"must be at most {MAX_NAME} characters"
    elif any(unicodedata.category(ch).startswith("C") for ch in name):
        problems["name"] = "must not contain control characters"
    return name


def _email(value: object, problems: dict[str, str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems["email"] = "is required"
        return ""
    if len(value) > MAX_EMAIL:
        problems["email"] = f"must be at most {MAX_EMAIL} characters"
        return ""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        problems["email"] = f"is not a valid email address ({exc})"
        return ""
