"""Property tests: random valid weeks in tricky zones, around their clock changes.

The checks below read local time only through UTC -> local conversion (unambiguous),
never through the engine's own helpers or ``fold``, so they do not share its mistakes.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bookingapp.core.engine import Schedule, slots_between, slots_for_day
from bookingapp.core.hours import MINUTES_PER_DAY, WEEKDAYS, OpeningRange, parse_weekly_hours, schedule_problems

UTC = timezone.utc
WEEK = 7 * MINUTES_PER_DAY
ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute shift
    "America/St_Johns",  # -03:30 / -02:30
    "Asia/Kathmandu",  # +05:45, no DST
    "Pacific/Chatham",  # +12:45 / +13:45, jumps at 02:45
    "America/Santiago",  # changes at midnight (24:00 -> 23:00, 00:00 -> 01:00)
    "Africa/Casablanca",  # Ramadan: back to +00 and forward again
    "Europe/Dublin",  # "negative DST" in tzdata
    "UTC",
    "Asia/Tehran",  # +03:30, DST abolished
    "America/Havana",  # changes at midnight
]
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, database=None)


# --- clock changes, found by scanning UTC -> local only -------------------------------

class Change(NamedTuple):
    day: date  # the local date the clock reads just before the change
    minute: int  # the local minute of that day at which it changes (1440 = midnight after)


def _clock_changes(zone: str) -> list[Change]:
    """The clock changes of 2026-2028, to the minute."""
    tz = ZoneInfo(zone)
    changes = []
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    while instant.year < 2029:
        later = instant + timedelta(hours=6)  # changes are months apart
        if later.astimezone(tz).utcoffset() != instant.astimezone(tz).utcoffset():
            while (later - instant) > timedelta(minutes=1):
                middle = instant + (later - instant) // 2
                same = middle.astimezone(tz).utcoffset() == instant.astimezone(tz).utcoffset()
                instant, later = (middle, later) if same else (instant, middle)
            last_old = _local(instant, tz)  # within the old clock's last minute
            changes.append(Change(last_old.date(), last_old.hour * 60 + last_old.minute + 1))
        instant = later
    return changes


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


CHANGES = {zone: _clock_changes(zone) for zone in ZONES}


def test_the_zone_list_really_has_clock_changes_to_test():
    changing = {zone for zone, changes in CHANGES.items() if changes}
    assert changing == set(ZONES) - {"UTC", "Asia/Kathmandu", "Asia/Tehran"}
    assert Change(date(2027, 3, 14), 120) in CHANGES["America/New_York"]  # 02:00 -> 03:00
    assert Change(date(2027, 4, 4), 120) in CHANGES["Australia/Lord_Howe"]  # 02:00 -> 01:30
    assert Change(date(2027, 9, 26), 165) in CHANGES["Pacific/Chatham"]  # 02:45 -> 03:45
    assert Change(date(2027, 4, 3), 1440) in CHANGES["America/Santiago"]  # 24:00 -> 23:00
    assert Change(date(2027, 3, 13), 1440) in CHANGES["America/Havana"]  # 24:00 -> 01:00


# --- an independent reading of local time ---------------------------------------------

def _nearby_offsets(wall: datetime, tz: ZoneInfo) -> set[timedelta]:
    # No zone changes its clock twice within a few days, so these are all the candidates.
    probe = wall.replace(tzinfo=UTC)
    return {(probe + timedelta(hours=h)).astimezone(tz).utcoffset() for h in (-36, 36)}


@lru_cache(maxsize=None)
def first_occurrence(wall: datetime, tz: ZoneInfo) -> datetime | None:
    """The earliest instant whose local reading is ``wall``, or None."""
    hits = [
        (wall - offset).replace(tzinfo=UTC)
        for offset in _nearby_offsets(wall, tz)
        if _local((wall - offset).replace(tzinfo=UTC), tz) == wall
    ]
    return min(hits, default=None)


@lru_cache(maxsize=None)
def first_reading_at_or_after(wall: datetime, tz: ZoneInfo) -> datetime:
    """The earliest minute at which the local clock reads ``wall`` or later."""
    offsets = _nearby_offsets(wall, tz)
    # Before wall - max(offset) every reading is earlier than wall; clocks change on minutes.
    instant = (wall - max(offsets)).replace(tzinfo=UTC)
    while _local(instant, tz) < wall:
        instant += timedelta(minutes=1)
    return instant


def range_walls(day: date, rng: OpeningRange) -> tuple[datetime, datetime]:
    opens = datetime.combine(day, rng.opens)
    return opens, opens + timedelta(minutes=rng.end_minute - rng.start_minute)


def reference_slots(schedule: Schedule, day: date) -> list[tuple[datetime, datetime]]:
    """The slot rules read literally: every grid start that exists, fits and does not collide."""
    if day in schedule.closures:
        return []
    tz = ZoneInfo(schedule.timezone)
    length = timedelta(minutes=schedule.slot_minutes)
    step = timedelta(minutes=schedule.slot_minutes + schedule.gap_minutes)
    slots = []
    for rng in schedule.weekly_hours[day.weekday()]:
        opens, closes = range_walls(day, rng)
        close = first_reading_at_or_after(closes, tz)
        free_from = None  # the previous slot's end plus its gap
        wall = opens
        while wall < closes:
            start = first_occurrence(wall, tz)
            fits = start is not None and start + length <= close
            if fits and (free_from is None or start >= free_from):
                slots.append((start, start + length))
                free_from = start + step
            wall += step
    return slots


# --- strategies -----------------------------------------------------------------------

def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# Built once: Hypothesis validates each new strategy object, which is most of the cost.
# Quarter hours most of the time, to land on clock changes; any minute sometimes.
_minutes = st.one_of(st.integers(0, 96).map(lambda q: q * 15), st.integers(0, MINUTES_PER_DAY))
_quarters = st.sampled_from([15, 30, 45, 60, 90, 120])
_pauses = st.one_of(st.sampled_from([0, 60, 120]), _minutes, _minutes.map(lambda m: m * 2))
_lead_time = st.one_of(st.integers(0, 48).map(lambda q: q * 15), st.integers(0, 720))
_first_open = st.one_of(st.just(0), st.integers(0, 8).map(lambda q: q * 15), st.integers(0, 120))
_overshoot = st.sampled_from([0, 15, 30])
_breaks = st.one_of(st.just(0), _minutes)
_zones = st.sampled_from(ZONES + [zone for zone in ZONES if CHANGES[zone]])
_slot_minutes = st.one_of(_quarters, _quarters, st.integers(5, 300))
_gap_minutes = st.one_of(st.just(0), _quarters, st.integers(0, 120))
_any_date = st.dates(date(2026, 1, 1), date(2028, 12, 31))


def _add_range(raw: dict, day: int, open_minute: int, length: int, say_24: bool) -> None:
    close = _hhmm((open_minute + length) % MINUTES_PER_DAY)
    if open_minute + length == MINUTES_PER_DAY and say_24:
        close = "24:00"
    raw.setdefault(WEEKDAYS[day % 7], []).append([_hhmm(open_minute), close])


@st.composite
def free_weeks(draw, slot_minutes: int) -> dict[str, list[list[str]]]:
    """Non-overlapping weekly hours, laid end to end around the week from a random start."""
    raw: dict[str, list[list[str]]] = {}
    cursor = draw(st.integers(0, MINUTES_PER_DAY))
    first_start = None
    for _ in range(draw(st.integers(1, 12))):
        start = cursor + draw(_pauses)
        length = draw(st.integers(slot_minutes, MINUTES_PER_DAY))
        first_start = start if first_start is None else first_start
        # Stay inside the week, and let the last range's tail stop before the first starts.
        if start >= WEEK or start + length > first_start + WEEK:
            break
        day, open_minute = divmod(start, MINUTES_PER_DAY)
        _add_range(raw, day, open_minute, length, draw(st.booleans()))
        cursor = start + length
    return raw


@st.composite
def daily_weeks(draw, slot_minutes: int, aim: int) -> dict[str, list[list[str]]]:
    """The same hours every day, inside one 24-hour window so days cannot collide.

    The window opens up to 12 hours before the minute ``aim`` and its first range
    starts within two hours, so ranges usually run across that minute.
    """
    # Quarter hours mostly, so that grids land on the change itself.
    window = aim - draw(_lead_time)
    position = draw(_first_open)
    raw: dict[str, list[list[str]]] = {}
    say_24 = draw(st.booleans())
    # Sometimes the first range closes at the change, or just inside a spring-forward gap.
    to_aim = aim - window - position + draw(_overshoot)
    while position + slot_minutes <= MINUTES_PER_DAY and len(raw.get("mon", ())) < 3:
        length = draw(st.integers(slot_minutes, MINUTES_PER_DAY - position))
        if not raw and slot_minutes <= to_aim <= MINUTES_PER_DAY - position and draw(st.booleans()):
            length = to_aim
        for day in range(7):
            _add_range(raw, day, (window + position) % MINUTES_PER_DAY, length, say_24)
        position += length + draw(_breaks)
    return raw


@st.composite
def schedules(draw) -> tuple[Schedule, date, date]:
    """A valid schedule, and a span of 1 to 4 local dates, mostly around a clock change."""
    # Mostly zones that change their clocks, on quarter-hour grids, around a change.
    zone = draw(_zones)
    slot = draw(_slot_minutes)
    gap = draw(_gap_minutes)
    if CHANGES[zone] and draw(st.integers(0, 9)):
        change = draw(st.sampled_from(CHANGES[zone]))
        first = change.day - timedelta(days=draw(st.integers(0, 2)))
    else:
        change = Change(draw(_any_date), draw(st.integers(0, MINUTES_PER_DAY - 1)))
        first = change.day
    weeks = free_weeks(slot) if draw(st.integers(0, 2)) == 0 else daily_weeks(slot, change.minute)
    hours = parse_weekly_hours(draw(weeks))
    assert schedule_problems(hours, slot, gap) == {}
    last = max(first + timedelta(days=draw(st.integers(0, 3))), change.day)
    closures = draw(st.frozensets(st.dates(first - timedelta(days=1), last), max_size=2))
    return Schedule(zone, slot, hours, gap, closures), first, last


def each_day(first: date, last: date):
    while first <= last:
        yield first
        first += timedelta(days=1)


def owning_range(schedule: Schedule, day: date, start: datetime) -> OpeningRange:
    """The range of ``day`` whose wall-clock span holds the slot's local start."""
    tz = ZoneInfo(schedule.timezone)
    wall = _local(start, tz)
    owners = []
    for rng in schedule.weekly_hours[day.weekday()]:
        opens, closes = range_walls(day, rng)
        if opens <= wall < closes:
            owners.append(rng)
    assert len(owners) == 1, f"{start} is in {len(owners)} ranges of {day}"
    return owners[0]


# --- properties -------------------------------------------------------------------------

@PROPERTY_SETTINGS
@given(schedules())
def test_slots_are_exactly_a_literal_reading_of_the_rules(case):
    schedule, first, last = case
    expected = [slot for day in each_day(first, last) for slot in reference_slots(schedule, day)]
    assert [tuple(s) for s in slots_between(schedule, first, last)] == expected


@PROPERTY_SETTINGS
@given(schedules())
def test_every_slot_lasts_exactly_slot_minutes_of_real_time(case):
    schedule, first, last = case
    length = timedelta(minutes=schedule.slot_minutes)
    for slot in slots_between(schedule, first, last):
        assert slot.ends_at - slot.starts_at == length
        assert slot.starts_at.utcoffset() == timedelta(0)


@PROPERTY_SETTINGS
@given(schedules())
def test_starts_strictly_increase_and_slots_never_overlap(case):
    schedule, first, last = case
    gap = timedelta(minutes=schedule.gap_minutes)
    previous, previous_key = None, None
    for day in each_day(first, last):
        for slot in slots_for_day(schedule, day):
            key = (day, owning_range(schedule, day, slot.starts_at))
            if previous is not None:
                assert slot.starts_at > previous.starts_at
                assert slot.starts_at >= previous.ends_at
                if key == previous_key:
                    assert slot.starts_at >= previous.ends_at + gap
            previous, previous_key = slot, key


@PROPERTY_SETTINGS
@given(schedules())
def test_every_start_is_the_first_occurrence_of_a_wall_time_on_its_range_grid(case):
    schedule, first, last = case
    tz = ZoneInfo(schedule.timezone)
    step = timedelta(minutes=schedule.slot_minutes + schedule.gap_minutes)
    for day in each_day(first, last):
        for slot in slots_for_day(schedule, day):
            wall = _local(slot.starts_at, tz)
            opens, _ = range_walls(day, owning_range(schedule, day, slot.starts_at))
            assert (wall - opens) % step == timedelta(0)
            assert first_occurrence(wall, tz) == slot.starts_at


@PROPERTY_SETTINGS
@given(schedules())
def test_every_slot_ends_by_the_first_instant_the_clock_reads_its_range_close(case):
    schedule, first, last = case
    tz = ZoneInfo(schedule.timezone)
    for day in each_day(first, last):
        for slot in slots_for_day(schedule, day):
            _, closes = range_walls(day, owning_range(schedule, day, slot.starts_at))
            assert slot.ends_at <= first_reading_at_or_after(closes, tz)


@PROPERTY_SETTINGS
@given(schedules(), st.integers(0, 3))
def test_generating_day_by_day_or_in_pieces_gives_the_same_slots(case, cut):
    schedule, first, last = case
    whole = slots_between(schedule, first, last)
    assert whole == [slot for day in each_day(first, last) for slot in slots_for_day(schedule, day)]
    middle = min(first + timedelta(days=cut), last)
    pieces = slots_between(schedule, first, middle) + slots_between(schedule, middle + timedelta(days=1), last)
    assert whole == pieces


@PROPERTY_SETTINGS
@given(schedules())
def test_closures_remove_exactly_the_slots_of_their_opening_days(case):
    schedule, first, last = case
    tz = ZoneInfo(schedule.timezone)
    open_every_day = Schedule(schedule.timezone, schedule.slot_minutes, schedule.weekly_hours, schedule.gap_minutes)
    for day in each_day(first, last):
        if day in schedule.closures:
            assert slots_for_day(schedule, day) == []
        else:
            assert slots_for_day(schedule, day) == slots_for_day(open_every_day, day)
    kept = set(slots_between(schedule, first, last))
    for day in each_day(first, last):
        for slot in slots_for_day(open_every_day, day):
            assert (slot in kept) == (day not in schedule.closures), (day, _local(slot.starts_at, tz))
