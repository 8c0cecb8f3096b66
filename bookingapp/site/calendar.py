"""A booking as an iCalendar file (RFC 5545), so customers can add it to their calendar."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping

from bookingapp.models import Booking

UTC = timezone.utc
MAX_LINE_OCTETS = 75


def booking_ics(booking: Booking, now: datetime, *, venue: Mapping[str, str], link: str) -> str:
    """One VEVENT for the booking's slot, times in UTC so every calendar agrees, at the venue, linking back."""
    slot, game = booking.slot, booking.slot.game
    where = ", ".join(part for part in (venue.get("name"), game.location, venue.get("address")) if part)
    players = f"{booking.party_size} player{'s' if booking.party_size != 1 else ''}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//bookingapp//booking//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{booking.reference}@bookingapp",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(slot.starts_at)}",
        f"DTEND:{_utc(slot.ends_at)}",
        f"SUMMARY:{_text(game.name)}",
        f"DESCRIPTION:{_text(f'Booking {booking.reference} for {booking.customer_name}, {players}.')}",
        *([f"LOCATION:{_text(where)}"] if where else []),
        f"URL:{link}",
        f"STATUS:{'CANCELLED' if booking.is_cancelled else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    # Lines longer than 75 octets continue on the next line after a space, never
    # splitting a UTF-8 character.
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > MAX_LINE_OCTETS:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)
