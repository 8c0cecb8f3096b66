"""The slot rules (see bookingapp/core/engine.py) on days without a clock change: exact UTC slots."""
import signal
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bookingapp.core.engine import Schedule, slots_between, slots_for_day
from bookingapp.core.hours import WEEKDAYS, ScheduleError, parse_weekly_hours, weekly_hours_to_json
from bookingapp.core.window import dates_between, local_today, window_dates

MONDAY = date(2027, 6, 14)
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)


def utc(text: str) -> datetime:
    """'2027-06-14 09:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def make_schedule(hours: dict, slot_minutes: int, *, zone="UTC", gap_minutes=0, closures=()) -> Schedule:
    return Schedule(zone, slot_minutes, parse_weekly_hours(hours), gap_minutes, frozenset(closures))


def starts(slots) -> list[datetime]:
    return [s.starts_at for s in slots]


def test_monday_is_the_weekday_the_examples_assume():
    assert MONDAY.weekday() == 0


@pytest.mark.parametrize(
    "ranges, slot, gap, expected",
    [
        # Two ranges with a lunch break between them: the break gets no slot.
        ([["09:00", "12:00"], ["14:00", "16:00"]], 60, 0,
         ["09:00", "10:00", "11:00", "14:00", "15:00"]),
        # Ranges given out of order still come out in start order.
        ([["14:00", "16:00"], ["09:00", "11:00"]], 60, 0, ["09:00", "10:00", "14:00", "15:00"]),
        # Touching ranges: the second starts exactly where the first closes.
        ([["09:00", "10:00"], ["10:00", "11:00"]], 30, 0, ["09:00", "09:30", "10:00", "10:30"]),
        # The grid restarts at each range's open, not on a day-wide grid.
        ([["09:00", "10:00"], ["10:10", "11:10"]], 30, 0, ["09:00", "09:30", "10:10", "10:40"]),
        # A slot must end by close: 10:30 would end at 11:00, after 10:59.
        ([["09:00", "10:59"]], 30, 0, ["09:00", "09:30", "10:00"]),
        # A slot ending exactly at close is kept.
        ([["09:00", "11:00"]], 30, 0, ["09:00", "09:30", "10:00", "10:30"]),
        # A range exactly one slot long holds one slot.
        ([["09:00", "09:45"]], 45, 0, ["09:00"]),
        # Gap: starts every 50 + 10 minutes; each slot still lasts 50.
        ([["09:00", "12:00"]], 50, 10, ["09:00", "10:00", "11:00"]),
        # Gap: 10:20 + 30 would end 10:50, after the 10:40 close.
        ([["09:00", "10:40"]], 30, 10, ["09:00", "09:40"]),
        # The gap after the last slot may run past close: 10:00-10:30, gap to 11:00.
        ([["09:00", "10:30"]], 30, 30, ["09:00", "10:00"]),
        # A slot length that does not divide the hour: 25 minutes, 5 minutes gap.
        ([["09:00", "10:30"]], 25, 5, ["09:00", "09:30", "10:00"]),
    ],
)
def test_a_day_has_exactly_the_slots_its_ranges_allow(ranges, slot, gap, expected):
    schedule = make_schedule({"mon": ranges}, slot, gap_minutes=gap)
    slots = slots_for_day(schedule, MONDAY)
    assert starts(slots) == [utc(f"2027-06-14 {hhmm}") for hhmm in expected]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=slot) for s in slots)


@pytest.mark.parametrize(
    "zone, expected_first",
    [
        # India is +05:30 all year: 09:00 local is 03:30Z.
        ("Asia/Kolkata", "2027-06-14 03:30"),
        # Nepal is +05:45: 09:00 local is 03:15Z.
        ("Asia/Kathmandu", "2027-06-14 03:15"),
        # New York in June is EDT, -04:00: 09:00 local is 13:00Z.
        ("America/New_York", "2027-06-14 13:00"),
        # Kiritimati is +14: Monday 09:00 local is still Sunday in UTC.
        ("Pacific/Kiritimati", "2027-06-13 19:00"),
    ],
)
def test_slots_are_read_on_the_games_wall_clock(zone, expected_first):
    schedule = make_schedule({"mon": [["09:00", "10:00"]]}, 30, zone=zone)
    first = utc(expected_first)
    assert starts(slots_for_day(schedule, MONDAY)) == [first, first + timedelta(minutes=30)]


@pytest.mark.parametrize(
    "ranges, slot, expected",
    [
        # "24:00" closes at the next midnight: the last slot ends at Tuesday 00:00.
        ([["20:00", "24:00"]], 120, ["2027-06-14 20:00", "2027-06-14 22:00"]),
        # Close before open runs past midnight into Tuesday, still Monday's slots.
        ([["22:00", "02:00"]], 60,
         ["2027-06-14 22:00", "2027-06-14 23:00", "2027-06-15 00:00", "2027-06-15 01:00"]),
        # Close equal to open is a full 24 hours.
        ([["10:00", "10:00"]], 360,
         ["2027-06-14 10:00", "2027-06-14 16:00", "2027-06-14 22:00", "2027-06-15 04:00"]),
        # 00:00-24:00 is the whole day, nothing of Tuesday.
        ([["00:00", "24:00"]], 480, ["2027-06-14 00:00", "2027-06-14 08:00", "2027-06-14 16:00"]),
        # A "00:00" close reads like "24:00".
        ([["20:00", "00:00"]], 120, ["2027-06-14 20:00", "2027-06-14 22:00"]),
    ],
)
def test_past_midnight_range_belongs_to_the_day_it_opens(ranges, slot, expected):
    schedule = make_schedule({"mon": ranges}, slot)
    assert starts(slots_for_day(schedule, MONDAY)) == [utc(t) for t in expected]
    # Tuesday has no hours of its own, so the tail shows up on Monday only.
    assert slots_for_day(schedule, TUESDAY) == []


def test_a_slot_lasts_slot_minutes_and_may_not_cross_close_after_midnight():
    # 22:00-01:00 with 50-minute slots: 22:00, 22:50, 23:40 (ends 00:30); 00:30 would end 01:20.
    schedule = make_schedule({"mon": [["22:00", "01:00"]]}, 50)
    assert [(s.starts_at, s.ends_at) for s in slots_for_day(schedule, MONDAY)] == [
        (utc("2027-06-14 22:00"), utc("2027-06-14 22:50")),
        (utc("2027-06-14 22:50"), utc("2027-06-14 23:40")),
        (utc("2027-06-14 23:40"), utc("2027-06-15 00:30")),
    ]


NIGHTLY = {"mon": [["22:00", "02:00"]], "tue": [["22:00", "02:00"]], "wed": [["22:00", "02:00"]]}


def test_closure_removes_the_whole_opening_day_including_its_tail():
    schedule = make_schedule(NIGHTLY, 60, closures={TUESDAY})
    assert starts(slots_between(schedule, MONDAY, WEDNESDAY)) == [
        # Monday's range, whose tail runs into the closed Tuesday: untouched.
        utc("2027-06-14 22:00"), utc("2027-06-14 23:00"), utc("2027-06-15 00:00"), utc("2027-06-15 01:00"),
        # Tuesday 22:00 through its tail on Wednesday 01:00: gone.
        # Wednesday's own range.
        utc("2027-06-16 22:00"), utc("2027-06-16 23:00"), utc("2027-06-17 00:00"), utc("2027-06-17 01:00"),
    ]


def test_closed_day_has_no_slots_and_its_neighbours_keep_theirs():
    open_week = make_schedule(NIGHTLY, 60)
    closed = make_schedule(NIGHTLY, 60, closures={TUESDAY})
    assert slots_for_day(open_week, TUESDAY) != []
    assert slots_for_day(closed, TUESDAY) == []
    assert slots_for_day(closed, MONDAY) == slots_for_day(open_week, MONDAY)
    assert slots_for_day(closed, WEDNESDAY) == slots_for_day(open_week, WEDNESDAY)


def test_closure_on_a_day_without_hours_changes_nothing():
    schedule = make_schedule({"mon": [["09:00", "10:00"]]}, 30, closures={TUESDAY})
    assert starts(slots_between(schedule, MONDAY, WEDNESDAY)) == [utc("2027-06-14 09:00"), utc("2027-06-14 09:30")]


def test_slots_between_spans_days_in_order():
    hours = {
        "fri": [["18:00", "01:00"]],
        "sat": [["10:00", "12:00"], ["20:00", "22:00"]],
        "sun": [["11:00", "12:00"]],
        "mon": [["09:00", "10:00"]],
    }
    schedule = make_schedule(hours, 60)
    friday = date(2027, 6, 18)
    monday = date(2027, 6, 21)
    slots = slots_between(schedule, friday, monday)
    assert starts(slots) == [
        utc("2027-06-18 18:00"), utc("2027-06-18 19:00"), utc("2027-06-18 20:00"),  # Friday ...
        utc("2027-06-18 21:00"), utc("2027-06-18 22:00"), utc("2027-06-18 23:00"),
        utc("2027-06-19 00:00"),  # ... until its 01:00 close on Saturday
        utc("2027-06-19 10:00"), utc("2027-06-19 11:00"), utc("2027-06-19 20:00"), utc("2027-06-19 21:00"),
        utc("2027-06-20 11:00"),  # Sunday
        utc("2027-06-21 09:00"),  # Monday
    ]
    day_by_day = [s for offset in range(4) for s in slots_for_day(schedule, friday + timedelta(days=offset))]
    assert slots == day_by_day


def test_slots_between_an_empty_span_is_empty():
    schedule = make_schedule({name: [["09:00", "10:00"]] for name in WEEKDAYS}, 30)
    assert slots_between(schedule, TUESDAY, MONDAY) == []


def test_a_week_without_hours_has_no_slots():
    schedule = make_schedule({}, 30)
    assert slots_between(schedule, MONDAY, MONDAY + timedelta(days=6)) == []


def test_slot_values_expose_start_and_end_by_name_and_position():
    schedule = make_schedule({"mon": [["09:00", "09:30"]]}, 30)
    (slot,) = slots_for_day(schedule, MONDAY)
    starts_at, ends_at = slot
    assert (starts_at, ends_at) == (slot.starts_at, slot.ends_at)
    assert starts_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "slot, gap, field",
    [
        (0, 0, "slot_minutes"),  # a zero step would never leave the range
        (-30, 0, "slot_minutes"),  # a negative length makes no slot
        (30, -10, "gap_minutes"),  # a negative gap would overlap slots
    ],
)
def test_impossible_durations_raise_instead_of_looping(slot, gap, field):
    schedule = make_schedule({"mon": [["09:00", "10:00"]]}, 30)
    broken = Schedule(schedule.timezone, slot, schedule.weekly_hours, gap)
    with pytest.raises(ScheduleError) as excinfo, _fail_after_one_second():
        slots_between(broken, MONDAY, TUESDAY)
    assert set(excinfo.value.problems) == {field}


@contextmanager
def _fail_after_one_second():
    # A regression here loops, appending forever: fail fast instead of eating the memory.
    def give_up(signum, frame):
        raise AssertionError("slot generation did not stop")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- local dates ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "zone, expected",
    [
        # +14: already Thursday 00:30.
        ("Pacific/Kiritimati", date(2027, 6, 17)),
        # -11: still Tuesday 23:30.
        ("Pacific/Pago_Pago", date(2027, 6, 15)),
        # UTC: Wednesday 10:30.
        ("UTC", date(2027, 6, 16)),
    ],
)
def test_local_today_depends_on_the_zone(zone, expected):
    now = utc("2027-06-16 10:30")
    assert local_today(now, zone) == expected
    assert local_today(now, ZoneInfo(zone)) == expected


def test_the_same_instant_is_two_dates_apart_across_the_date_line():
    now = utc("2027-06-16 10:30")
    assert (local_today(now, "Pacific/Kiritimati") - local_today(now, "Pacific/Pago_Pago")).days == 2


def test_local_today_reads_an_instant_with_any_offset():
    # 23:30 in New York (EDT) is 03:30Z the next day, and the next day in London.
    now = datetime(2027, 6, 16, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert local_today(now, "America/New_York") == date(2027, 6, 16)
    assert local_today(now, "Europe/London") == date(2027, 6, 17)


def test_local_today_refuses_a_naive_time():
    with pytest.raises(ValueError):
        local_today(datetime(2027, 6, 16, 10, 30), "UTC")


@pytest.mark.parametrize(
    "days, expected_last",
    [
        (7, date(2027, 6, 20)),  # today plus six more days
        (1, date(2027, 6, 14)),  # just today
        (366, date(2028, 6, 13)),  # a year, across a leap day
    ],
)
def test_window_dates_cover_days_dates_from_today(days, expected_last):
    assert window_dates(MONDAY, days) == (MONDAY, expected_last)


def test_dates_between_lists_every_date_of_a_window_in_order_both_ends_included():
    assert dates_between(MONDAY, MONDAY) == [MONDAY]
    assert dates_between(MONDAY, WEDNESDAY) == [MONDAY, TUESDAY, WEDNESDAY]
    assert dates_between(date(2028, 2, 28), date(2028, 3, 1)) == [date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 1)]
    assert dates_between(TUESDAY, MONDAY) == []


# --- JSON form ------------------------------------------------------------------------

def test_weekly_hours_json_lists_every_weekday_and_shows_midnight_as_24():
    hours = parse_weekly_hours({"mon": [["20:00", "00:00"], ["09:00", "12:00"]], "sun": [["22:00", "02:00"]]})
    assert weekly_hours_to_json(hours) == {
        "mon": [["09:00", "12:00"], ["20:00", "24:00"]],
        "tue": [], "wed": [], "thu": [], "fri": [], "sat": [],
        "sun": [["22:00", "02:00"]],
    }


def test_weekly_hours_survive_a_json_round_trip():
    hours = parse_weekly_hours({"mon": [["00:00", "24:00"]], "tue": [["10:00", "10:00"]], "wed": [["09:30", "17:45"]]})
    assert parse_weekly_hours(weekly_hours_to_json(hours)) == hours
