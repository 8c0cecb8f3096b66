"""Check what a customer sends before any row is touched."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from email_validator import EmailNotValidError, validate_email

from bookingapp.errors import ValidationError
from bookingapp.models import BookingMode, BookingSource

MAX_NAME = 120
MAX_EMAIL = 254
MAX_PHONE = 40
MAX_NOTE = 2000
MAX_SLOT_ID = 2**63 - 1
MAX_PARTY = 500  # the largest capacity a game may have


@dataclass(frozen=True)
class BookingRequest:
    """What someone asks to book, as sent (forms, JSON); ``clean_booking_request`` checks it.

    Staff bookings (``source=STAFF``) may leave the email out and carry a phone and a note.
    """

    slot_id: object
    name: object
    email: object
    party_size: object
    phone: object = ""
    note: object = ""
    source: BookingSource = BookingSource.ONLINE
    locale: str = "en"  # the language later messages about the booking use

    @property
    def by_staff(self) -> bool:
        return self.source is BookingSource.STAFF


def clean_booking_request(request: BookingRequest) -> BookingRequest:
    """The request with every field cleaned, or a ValidationError naming every bad field."""
    problems: dict[str, str] = {}
    clean_id = _whole_number(request.slot_id, 1, MAX_SLOT_ID)
    if clean_id is None:
        problems["slot_id"] = "must be the id of a slot (a positive whole number)"
    clean_name = _name(request.name, problems)
    email_missing = request.email is None or (isinstance(request.email, str) and not request.email.strip())
    clean_email = "" if request.by_staff and email_missing else _email(request.email, problems)
    party = _whole_number(request.party_size, 1, MAX_PARTY)
    if party is None:
        problems["party_size"] = f"must be a whole number from 1 to {MAX_PARTY}"
    phone, note = clean_phone(request.phone, problems), clean_note(request.note, problems)
    if problems:
        raise ValidationError(problems)
    return replace(request, slot_id=clean_id, name=clean_name, email=clean_email, party_size=party, phone=phone, note=note)


def clean_phone(value: object, problems: dict[str, str]) -> str:
    """A phone number as typed, trimmed: digits, spaces and + ( ) - . / only."""
    if value is None:
        return ""
    if not isinstance(value, str):
        problems["phone"] = "must be text"
        return ""
    phone = " ".join(value.split())
    if len(phone) > MAX_PHONE:
        problems["phone"] = f"must be at most {MAX_PHONE} characters"
    elif phone and (not any(ch.isdigit() for ch in phone) or any(not (ch.isdigit() or ch in " +()-./") for ch in phone)):
        problems["phone"] = "use digits, spaces and + ( ) - . / only"
    return phone


def clean_note(value: object, problems: dict[str, str]) -> str:
    """A staff note: free text up to MAX_NOTE characters, no control characters but new lines."""
    if value is None:
        return ""
    if not isinstance(value, str):
        problems["note"] = "must be text"
        return ""
    note = value.replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE:
        problems["note"] = f"must be at most {MAX_NOTE} characters"
    elif any(unicodedata.category(ch).startswith("C") and ch not in "\n\t" for ch in note):
        problems["note"] = "must not contain control characters"
    return note


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
