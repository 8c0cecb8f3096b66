"""The window rule and local dates: which local days a game shows, and when they begin.

A game's window is its local today through today + days - 1, where days is the game's
``days_ahead`` or the site's ``SLOTS_DAYS_TO_MAINTAIN``. A local date begins at local
midnight, or where DST skips midnight, at the first instant after it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookingapp.core.engine import first_instant_at_or_after


EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(9000, 12, 31)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(raw: str) -> date:
    """A date written like 2027-01-31 within EARLIEST_DATE..LATEST_DATE, or ValueError saying what is wrong."""
    try:
        if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
            raise ValueError
        parsed = date.fromisoformat(raw)
    except ValueError:
        raise ValueError("must be a date like 2027-01-31") from None
    # Far from today a local midnight may not even have a UTC instant (year 1 in Tokyo).
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return parsed


@dataclass(frozen=True)
class DayRange:
    """Local dates ``first`` through ``last``, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        return dates_between(self.first, self.last)


def local_today(now: datetime, zone: str | ZoneInfo) -> date:
    """The local date at the aware instant ``now`` in ``zone``."""
    if now.utcoffset() is None:
        # A naive time would be read in the server's zone, which is nobody's "today".
        raise ValueError("now must be timezone-aware")
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return now.astimezone(tz).date()


def window_dates(today: date, days: int) -> tuple[date, date]:
    """First and last local date of a window of ``days`` days starting ``today``."""
    return today, today + timedelta(days=days - 1)


def window(now: datetime, zone: str | ZoneInfo, days: int) -> DayRange:
    """The window of ``days`` local days that starts on the local today at ``now`` in ``zone``."""
    return DayRange(*window_dates(local_today(now, zone), days))


def dates_between(first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last``, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant ``day`` begins in ``tz`` (later than 00:00 where DST skips midnight)."""
    return first_instant_at_or_after(datetime.combine(day, time(0)), tz)


def local_days_bounds(zone: str, first: date, last: date) -> tuple[datetime, datetime]:
    """The instants at which local date ``first`` begins and the day after ``last`` begins."""
    tz = ZoneInfo(zone)
    return local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
