"""A booking as an iCalendar event (RFC 5545), built with ``icalendar``: the one home of the event.

The download and the emails share it. The UID stays the booking's whatever happens to it;
SEQUENCE grows with each change, so calendar apps update (METHOD:REQUEST) or remove
(METHOD:CANCEL) the event they already hold.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping

from icalendar import Calendar, Event, vCalAddress, vText

from bookingapp.models import Booking

UTC = timezone.utc
PUBLISH, REQUEST, CANCEL = "PUBLISH", "REQUEST", "CANCEL"


def booking_uid(booking: Booking) -> str:
    return f"{booking.reference}@bookingapp"


def booking_calendar(
    booking: Booking, now: datetime, *, venue: Mapping[str, str], link: str,
    method: str = PUBLISH, sequence: int = 0, organizer: str = "",
) -> bytes:
    """One VEVENT for the booking's slot, times in UTC so every calendar agrees, at the venue, linking back."""
    slot, game = booking.slot, booking.slot.game
    where = ", ".join(part for part in (venue.get("name"), game.location, venue.get("address")) if part)
    players = f"{booking.party_size} player{'s' if booking.party_size != 1 else ''}"
    calendar = Calendar()
    calendar.add("prodid", "-//bookingapp//booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", slot.starts_at.astimezone(UTC))
    event.add("dtend", slot.ends_at.astimezone(UTC))
    event.add("summary", game.name)
    event.add("description", f"Booking {booking.reference} for {booking.customer_name}, {players}.")
    if where:
        event.add("location", where)
    event.add("url", link)
    event.add("sequence", sequence)
    cancelled = booking.is_cancelled or method == CANCEL
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if organizer:
        event["organizer"] = vCalAddress(f"mailto:{organizer}")
        event["organizer"].params["cn"] = vText(venue.get("name") or organizer)
    if booking.email and method != PUBLISH:
        attendee = vCalAddress(f"mailto:{booking.email}")
        attendee.params["cn"] = vText(booking.customer_name)
        event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical()
