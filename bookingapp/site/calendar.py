"""A booking as an iCalendar file (RFC 5545), so customers can add it to their calendar."""
from __future__ import annotations

from datetime import datetime
from typing import Mapping

from bookingapp.models import Booking
from bookingapp.services.ics import booking_calendar


def booking_ics(booking: Booking, now: datetime, *, venue: Mapping[str, str], link: str) -> str:
    """One VEVENT for the booking's slot (``services.ics`` builds it, for the emails too)."""
    return booking_calendar(booking, now, venue=venue, link=link).decode()
