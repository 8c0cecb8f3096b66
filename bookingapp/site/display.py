"""How times read on customer pages: the game's own zone, with its abbreviation."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bookingapp.site import bp


def in_zone(value: datetime, zone: str) -> datetime:
    """The same instant on ``zone``'s clock."""
    return value.astimezone(ZoneInfo(zone))


@bp.app_template_filter("when")
def when(value: datetime, zone: str | None = None) -> str:
    """ "Wed 13 Jan 2027, 10:00 GMT" in ``zone`` (or the value's own zone)."""
    local = in_zone(value, zone) if zone else value
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {local.tzname()}"


@bp.app_template_filter("clock_time")
def clock_time(value: datetime) -> str:
    """ "10:00 GMT" for a local (zone-aware) datetime."""
    return f"{value:%H:%M} {value.tzname()}"


@bp.app_template_filter("day_label")
def day_label(day: date, today: date) -> str:
    """ "Today", "Tomorrow" or "Friday 15 January"."""
    offset = (day - today).days
    name = {0: "Today", 1: "Tomorrow"}.get(offset, f"{day:%A}")
    return f"{name}, {day.day} {day:%B}" if offset in (0, 1) else f"{name} {day.day} {day:%B}"


@bp.app_template_filter("duration")
def duration(minutes: int) -> str:
    """ "90 minutes", "1 hour", "2 hours"."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"
