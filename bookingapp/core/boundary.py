"""When the daily run is due: after each local midnight of the zones active games use.

A game's window starts at its local "today", so it runs a day short from its own
midnight on. With games in several zones the run is due after each of their
midnights, and the key of a run names the latest one passed, e.g.
``2027-01-13@Europe/London``. Games sharing one zone make that once a day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable
from zoneinfo import ZoneInfo

from bookingapp.core.window import local_midnight, local_today


@dataclass(frozen=True)
class Boundary:
    """The latest local midnight passed, and when the next one comes."""

    key: str
    passed_at: datetime
    next_at: datetime


def daily_boundary(zones: Iterable[str], now: datetime) -> Boundary:
    """The boundary the daily run at ``now`` serves, for games in ``zones``.

    Ties (zones whose midnights coincide) go to the first zone by name, so every
    process names the same boundary alike.
    """
    latest: tuple[datetime, str] | None = None
    next_at: datetime | None = None
    for zone in sorted(set(zones)):
        tz = ZoneInfo(zone)
        today = local_today(now, tz)
        passed = local_midnight(today, tz)
        following = local_midnight(today + timedelta(days=1), tz)
        if latest is None or passed > latest[0]:
            latest = (passed, f"{today.isoformat()}@{zone}")
        next_at = following if next_at is None else min(next_at, following)
    if latest is None or next_at is None:
        raise ValueError("daily_boundary needs at least one time zone")
    return Boundary(key=latest[1], passed_at=latest[0], next_at=next_at)
