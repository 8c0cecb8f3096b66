"""Turn a game's weekly schedule into concrete slots.

Pure: plain dates, times and zone names in, UTC ``(starts_at, ends_at)`` pairs out.
Nothing here knows about Flask, SQLAlchemy or Redis, so every rule of the slot
contract (opening ranges, past-midnight ranges, closures, DST) is tested on its own.

Rules, in the game's local time zone:
- within an opening range, slots start at ``open`` and then every
  ``slot_minutes + gap_minutes`` on the wall clock, while the slot ends (in real
  time) by ``close``;
- a range whose close is "24:00" or not after its open runs past midnight and
  belongs to the day it opens; a closure removes that whole opening day;
- a start that does not exist on the wall clock (spring-forward gap) is skipped,
  an ambiguous one (fall-back) takes its first occurrence;
- a slot lasts exactly ``slot_minutes`` of real time, and slots never overlap: a
  start that the DST jump pulls inside the previous slot (or its gap) is skipped.

Most days see no clock change: their slots are arithmetic on one UTC offset. Only a
range that a change falls in walks its wall-clock grid one start at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Mapping, NamedTuple, Sequence
from zoneinfo import ZoneInfo

from bookingapp.core.hours import OpeningRange, ScheduleError, WeeklyHours, parse_weekly_hours

UTC = timezone.utc
_MIDNIGHT = time(0)
_MIDNIGHT_FOLD1 = time(0, fold=1)
_ONE_DAY = timedelta(days=1)
_TWO_DAYS = timedelta(days=2)


class SlotTimes(NamedTuple):
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Schedule:
    """What the engine needs of a game: its zone, slot length, gap, hours and closures."""

    timezone: str
    slot_minutes: int
    weekly_hours: WeeklyHours
    gap_minutes: int = 0
    closures: frozenset[date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def schedule_from(settings: Mapping[str, Any]) -> Schedule:
    """The schedule a game's stored settings describe (JSON weekly hours, ISO closure dates)."""
    return Schedule(
        timezone=settings["timezone"],
        slot_minutes=settings["slot_minutes"],
        gap_minutes=settings.get("gap_minutes") or 0,
        weekly_hours=parse_weekly_hours(settings["weekly_hours"]),
        closures=frozenset(date.fromisoformat(d) for d in settings.get("closures") or ()),
    )


# --- local time ------------------------------------------------------------------------

def _wall_exists(wall: datetime, utc: datetime, tz: ZoneInfo) -> bool:
    return utc.astimezone(tz).replace(tzinfo=None) == wall


def existing_instant(wall: datetime, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a naive local wall time (first occurrence), or None if it never shows."""
    utc = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    return utc if _wall_exists(wall, utc, tz) else None


def first_instant_at_or_after(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first UTC instant at which the local clock reads ``wall`` or later.

    For a wall time skipped by a spring-forward jump that is the jump itself.
    """
    found = existing_instant(wall, tz)
    if found is not None:
        return found
    # Read with the offset after the jump, the wall time falls before it; with the
    # offset before the jump, after it. Bisect between the two to the second.
    lo = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    hi = int(wall.replace(tzinfo=tz, fold=0).timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


# --- slots -----------------------------------------------------------------------------

def slots_for_day(schedule: Schedule, day: date) -> list[SlotTimes]:
    """Every slot of one local opening day, in start order (past ones included)."""
    return slots_between(schedule, day, day)


def slots_between(schedule: Schedule, first: date, last: date) -> list[SlotTimes]:
    """Every slot whose opening day lies in ``first..last`` (inclusive), in start order."""
    _check_durations(schedule)
    tz = schedule.zone
    length = _minutes(schedule.slot_minutes)
    step = _minutes(schedule.slot_minutes + schedule.gap_minutes)
    slots: list[SlotTimes] = []
    day = first
    while day <= last:
        ranges = schedule.weekly_hours[day.weekday()]
        if ranges and day not in schedule.closures:
            slots.extend(_day_slots(day, ranges, length, step, tz))
        day += _ONE_DAY
    return slots


def _day_slots(
    day: date, ranges: Sequence[OpeningRange], length: timedelta, step: timedelta, tz: ZoneInfo
) -> list[SlotTimes]:
    """The slots of one open day: plain arithmetic on one offset unless the clock changes."""
    offset = _steady_offset(day, tz)
    if offset is None:
        return [slot for rng in ranges for slot in _range_slots_near_jump(day, rng, length, step, tz)]
    midnight = datetime.combine(day, _MIDNIGHT, UTC) - offset
    slots: list[SlotTimes] = []
    for rng in ranges:
        opens = midnight + _minutes(rng.start_minute)
        closes = midnight + _minutes(rng.end_minute)
        slots.extend(_steady_slots(opens, closes, length, step))
    return slots


def _check_durations(schedule: Schedule) -> None:
    # A zero step would never leave a range; a negative gap would overlap slots.
    problems: dict[str, str] = {}
    if schedule.slot_minutes < 1:
        problems["slot_minutes"] = "must be at least 1"
    if schedule.gap_minutes < 0:
        problems["gap_minutes"] = "must be 0 or more"
    if problems:
        raise ScheduleError(problems)


@lru_cache(maxsize=4096)
def _minutes(count: int) -> timedelta:
    # Building a timedelta from keywords costs more than the rest of a quiet day's work.
    return timedelta(minutes=count)


@lru_cache(maxsize=16384)
def _steady_offset(day: date, tz: ZoneInfo) -> timedelta | None:
    """The UTC offset the clock keeps from ``day`` 00:00 for two days, or None if it changes.

    Every range of ``day`` ends within those two days. Reading the start at its first
    occurrence and the end at its last shows any change, a jump at either midnight
    included (no zone in tzdata changes twice within three days).
    """
    first = datetime.combine(day, _MIDNIGHT)
    offset = tz.utcoffset(first)
    if tz.utcoffset(datetime.combine(day + _TWO_DAYS, _MIDNIGHT_FOLD1)) != offset:
        return None
    return offset


def _steady_slots(start: datetime, close: datetime, length: timedelta, step: timedelta) -> list[SlotTimes]:
    """Slots of a range the clock does not change in: real time is wall time."""
    slots = []
    last_start = close - length
    while start <= last_start:
        slots.append(SlotTimes(start, start + length))
        start += step
    return slots


def _range_slots_near_jump(
    day: date, rng: OpeningRange, length: timedelta, step: timedelta, tz: ZoneInfo
) -> list[SlotTimes]:
    """Slots of a range on a day the clock changes, before, in or after the range."""
    open_wall = datetime.combine(day, rng.opens)
    close_wall = open_wall + _minutes(rng.end_minute - rng.start_minute)
    opens = existing_instant(open_wall, tz)
    closes = first_instant_at_or_after(close_wall, tz)
    if opens is not None and closes - opens == close_wall - open_wall:
        return _steady_slots(opens, closes, length, step)  # the change is outside the range
    return _slots_across_jump(open_wall, close_wall, closes, length, step, tz)


def _slots_across_jump(
    open_wall: datetime, close_wall: datetime, close: datetime, length: timedelta, step: timedelta, tz: ZoneInfo
) -> list[SlotTimes]:
    """Slots of a range the clock changes in: walk the wall-clock grid, skip what the jump breaks."""
    slots: list[SlotTimes] = []
    wall = open_wall
    while wall < close_wall:
        start = existing_instant(wall, tz)
        # After a spring-forward jump a grid start can fall inside the previous slot or gap.
        if start is not None and (not slots or start >= slots[-1].starts_at + step):
            if start + length > close:
                break
            slots.append(SlotTimes(start, start + length))
        wall += step
    return slots
