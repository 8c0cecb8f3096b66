"""Parsing and validating schedules: clear errors for bad input, none for good input."""
from datetime import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookingapp.core.hours import MAX_SLOT_MINUTES, MINUTES_PER_DAY, WEEKDAYS, OpeningRange, ScheduleError, parse_range, parse_time, parse_weekly_hours, schedule_problems, validate_timezone

# --- parse_time -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, expected",
    [
        ("00:00", time(0, 0)),  # the first minute of the day
        ("09:30", time(9, 30)),  # an ordinary morning time
        ("23:59", time(23, 59)),  # the last minute of the day
    ],
)
def test_parse_time_reads_hh_mm(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "9:00",  # the hour needs two digits
        "25:00",  # no 25th hour
        "24:00",  # only a close may say 24:00
        "12:60",  # no 60th minute
        "0930",  # no colon
        "09:30:00",  # seconds are not part of the format
        " 09:30",  # no padding
        "09:30\n",  # not even a trailing newline
        "0\u0661:00",  # an Arabic-Indic digit is not an ASCII digit
        "",  # empty
        "ab:cd",  # not digits at all
        None,  # not a string
        930,  # not a string
        ["09:30"],  # not a string
    ],
)
def test_parse_time_refuses_anything_but_hh_mm(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_parse_time_reads_24_00_as_midnight_only_when_allowed():
    assert parse_time("24:00", allow_24=True) == time(0)
    with pytest.raises(ValueError):
        parse_time("24:00")


def test_parse_time_error_names_the_bad_value_briefly():
    with pytest.raises(ValueError, match="9:00"):
        parse_time("9:00")
    with pytest.raises(ValueError) as excinfo:
        parse_time("x" * 500)
    assert len(str(excinfo.value)) < 80


# --- parse_range ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "pair, expected",
    [
        # An ordinary daytime range.
        (["09:00", "17:00"], OpeningRange(time(9), time(17), False)),
        # A tuple is as good as a list.
        (("09:00", "17:00"), OpeningRange(time(9), time(17), False)),
        # Close before open: past midnight.
        (["22:00", "02:00"], OpeningRange(time(22), time(2), True)),
        # "24:00" is the next midnight.
        (["18:00", "24:00"], OpeningRange(time(18), time(0), True)),
        # Close equal to open: a full 24 hours.
        (["10:00", "10:00"], OpeningRange(time(10), time(10), True)),
        # The whole day.
        (["00:00", "24:00"], OpeningRange(time(0), time(0), True)),
    ],
)
def test_parse_range_reads_open_and_close(pair, expected):
    assert parse_range(pair) == expected


@pytest.mark.parametrize(
    "pair, expected_minutes",
    [
        (["09:00", "17:00"], (540, 1020)),  # same day
        (["22:00", "02:00"], (1320, 1560)),  # 02:00 of the next day is minute 1560
        (["18:00", "24:00"], (1080, 1440)),  # the next midnight
        (["10:00", "10:00"], (600, 2040)),  # 24 hours
    ],
)
def test_opening_range_counts_minutes_from_its_opening_midnight(pair, expected_minutes):
    rng = parse_range(pair)
    assert (rng.start_minute, rng.end_minute) == expected_minutes


@pytest.mark.parametrize(
    "pair, message",
    [
        (["24:00", "02:00"], "24:00"),  # a range cannot open at the next midnight
        (["09:00"], "pair"),  # one time only
        (["09:00", "10:00", "11:00"], "pair"),  # three times
        ("09:00-10:00", "pair"),  # a string, not a pair
        ({"open": "09:00", "close": "10:00"}, "pair"),  # a mapping, not a pair
        (None, "pair"),  # nothing
        (["9:00", "10:00"], "9:00"),  # a bad open
        (["09:00", "25:00"], "25:00"),  # a bad close
        (["09:00", None], "time"),  # a close that is not a string
    ],
)
def test_parse_range_refuses_malformed_pairs(pair, message):
    with pytest.raises(ValueError, match=message):
        parse_range(pair)


# --- parse_weekly_hours -----------------------------------------------------------------

def test_parse_weekly_hours_fills_missing_days_as_closed_and_sorts_ranges():
    hours = parse_weekly_hours({"tue": [["14:00", "16:00"], ["09:00", "11:00"]]})
    assert len(hours) == 7
    assert hours[WEEKDAYS.index("tue")] == (parse_range(["09:00", "11:00"]), parse_range(["14:00", "16:00"]))
    assert all(day == () for i, day in enumerate(hours) if i != WEEKDAYS.index("tue"))


@pytest.mark.parametrize(
    "raw",
    [
        None,  # no hours at all
        {},  # an empty mapping
        {"mon": []},  # an explicitly closed day
        {"mon": None},  # null for a day, as JSON may send
    ],
)
def test_parse_weekly_hours_treats_no_ranges_as_closed(raw):
    assert parse_weekly_hours(raw) == ((),) * 7


@pytest.mark.parametrize(
    "raw, field",
    [
        ([["09:00", "10:00"]], "weekly_hours"),  # a list, not a mapping
        ("mon 09:00-10:00", "weekly_hours"),  # a string, not a mapping
        ({"monday": [["09:00", "10:00"]]}, "weekly_hours"),  # unknown weekday name
        ({"Mon": [["09:00", "10:00"]]}, "weekly_hours"),  # weekday names are lower case
        ({1: [["09:00", "10:00"]]}, "weekly_hours"),  # not a name at all
        ({"mon": "09:00-10:00"}, "weekly_hours.mon"),  # a day's ranges must be a list
        ({"mon": ["09:00", "10:00"]}, "weekly_hours.mon"),  # a bare pair instead of a list of pairs
        ({"mon": [["9:00", "10:00"]]}, "weekly_hours.mon"),  # a bad time
        ({"mon": [["24:00", "02:00"]]}, "weekly_hours.mon"),  # opening at 24:00
        ({"mon": ""}, "weekly_hours.mon"),  # an empty string is not an empty list
        ({"mon": 0}, "weekly_hours.mon"),  # neither is zero
    ],
)
def test_parse_weekly_hours_names_the_bad_field(raw, field):
    with pytest.raises(ScheduleError) as excinfo:
        parse_weekly_hours(raw)
    assert field in excinfo.value.problems


def test_parse_weekly_hours_reports_every_bad_day_at_once():
    with pytest.raises(ScheduleError) as excinfo:
        parse_weekly_hours({"mon": [["9:00", "10:00"]], "fri": "closed", "holiday": []})
    assert set(excinfo.value.problems) == {"weekly_hours", "weekly_hours.mon", "weekly_hours.fri"}
    assert "holiday" in excinfo.value.problems["weekly_hours"]
    assert "weekly_hours.mon" in str(excinfo.value)


def test_schedule_error_is_a_value_error():
    assert issubclass(ScheduleError, ValueError)


# --- schedule_problems ------------------------------------------------------------------

def week(**days) -> tuple:
    return parse_weekly_hours(days)


@pytest.mark.parametrize(
    "hours, slot",
    [
        (week(), 30),  # no hours at all
        (week(mon=[["09:00", "12:00"], ["12:00", "15:00"]]), 30),  # touching ranges
        (week(mon=[["22:00", "02:00"]], tue=[["02:00", "05:00"]]), 30),  # tail touching the next day
        (week(sun=[["22:00", "02:00"]], mon=[["02:00", "05:00"]]), 30),  # Sunday tail touching Monday
        (week(mon=[["10:00", "10:00"]], tue=[["10:00", "10:00"]]), 30),  # back-to-back 24 h ranges
        (tuple((parse_range(["00:00", "24:00"]),) for _ in WEEKDAYS), 60),  # open around the clock
        (tuple((parse_range(["06:00", "06:00"]),) for _ in WEEKDAYS), MAX_SLOT_MINUTES),  # 24 h slots
        (week(mon=[["09:00", "09:30"]]), 30),  # a range exactly one slot long
    ],
)
def test_schedule_problems_accepts_a_sound_week(hours, slot):
    assert schedule_problems(hours, slot) == {}


@pytest.mark.parametrize(
    "hours, field, mentions",
    [
        # Two ranges of a day overlapping.
        (week(mon=[["09:00", "12:00"], ["11:00", "14:00"]]), "weekly_hours.mon", "overlap"),
        # One range inside another.
        (week(wed=[["09:00", "17:00"], ["10:00", "11:00"]]), "weekly_hours.wed", "overlap"),
        # The same range twice: same start.
        (week(thu=[["10:00", "12:00"], ["10:00", "11:00"]]), "weekly_hours.thu", "overlap"),
        # A past-midnight tail running into the next day's first range.
        (week(mon=[["22:00", "02:00"]], tue=[["01:00", "05:00"]]), "weekly_hours.tue", "mon"),
        # A 24 h range overlapping the next day's range by a minute.
        (week(fri=[["10:00", "10:00"]], sat=[["09:59", "11:00"]]), "weekly_hours.sat", "fri"),
        # Sunday's tail running into Monday: the week is a circle.
        (week(sun=[["22:00", "02:00"]], mon=[["01:00", "05:00"]]), "weekly_hours.mon", "sun"),
        # Sunday's tail running over Monday's second range too.
        (week(sun=[["12:00", "12:00"]], mon=[["00:00", "01:00"], ["02:00", "03:00"]]), "weekly_hours.mon", "sun"),
        # The Sunday range reaching furthest is not the one opening last (they overlap too).
        (week(sun=[["20:00", "04:00"], ["21:00", "22:00"]], mon=[["03:00", "05:00"]]), "weekly_hours.mon", "sun"),
        # Sunday's tail reaching into the middle of Monday's only range.
        (week(sun=[["20:00", "06:00"]], mon=[["05:00", "07:00"]]), "weekly_hours.mon", "sun"),
    ],
)
def test_schedule_problems_finds_overlapping_ranges(hours, field, mentions):
    problems = schedule_problems(hours, 30)
    assert field in problems
    assert mentions in problems[field]


def test_schedule_problems_finds_a_range_shorter_than_a_slot():
    problems = schedule_problems(week(tue=[["09:00", "09:59"]]), 60)
    assert set(problems) == {"weekly_hours.tue"}
    assert "shorter" in problems["weekly_hours.tue"]


def test_schedule_problems_reports_each_bad_day():
    hours = week(mon=[["09:00", "09:20"]], sat=[["09:00", "12:00"], ["11:00", "13:00"]])
    assert set(schedule_problems(hours, 30)) == {"weekly_hours.mon", "weekly_hours.sat"}


@pytest.mark.parametrize(
    "slot, gap, field",
    [
        (0, 0, "slot_minutes"),  # no length
        (-15, 0, "slot_minutes"),  # negative length
        (MAX_SLOT_MINUTES + 1, 0, "slot_minutes"),  # longer than a day
        (30.5, 0, "slot_minutes"),  # not whole minutes
        (True, 0, "slot_minutes"),  # a bool is not a number of minutes
        (None, 0, "slot_minutes"),  # missing
        (30, -5, "gap_minutes"),  # negative gap
        (30, None, "gap_minutes"),  # missing gap
    ],
)
def test_schedule_problems_finds_impossible_durations(slot, gap, field):
    assert field in schedule_problems(week(mon=[["09:00", "17:00"]]), slot, gap)


# Brute force: paint each range's minutes onto a circular week and look for a minute
# painted twice. Slow but obviously right, so it checks the sorted sweep above.
WEEK_MINUTES = 7 * MINUTES_PER_DAY
_quarter = st.integers(0, 95).map(lambda q: f"{q // 4:02d}:{q % 4 * 15:02d}")
_range = st.tuples(_quarter, _quarter | st.just("24:00")).map(list)
_raw_week = st.dictionaries(st.sampled_from(WEEKDAYS), st.lists(_range, max_size=3), max_size=7)


def _overlaps_by_painting(hours) -> bool:
    painted = set()
    for day_index, ranges in enumerate(hours):
        for rng in ranges:
            base = day_index * MINUTES_PER_DAY
            for minute in range(base + rng.start_minute, base + rng.end_minute, 15):
                if minute % WEEK_MINUTES in painted:
                    return True
                painted.add(minute % WEEK_MINUTES)
    return False


@settings(max_examples=200, deadline=None, database=None)
@given(_raw_week)
def test_schedule_problems_sees_an_overlap_exactly_when_minutes_are_shared(raw):
    hours = parse_weekly_hours(raw)
    problems = schedule_problems(hours, 15)
    says_overlap = any("overlap" in message for message in problems.values())
    assert says_overlap == _overlaps_by_painting(hours)


# --- validate_timezone ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Europe/London", "UTC", "Australia/Lord_Howe", "America/Argentina/Buenos_Aires"])
def test_validate_timezone_returns_the_zone(name):
    assert validate_timezone(name) == ZoneInfo(name)


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus_Mons",  # no such zone
        "",  # empty
        "europe/london",  # names are case-sensitive
        "Europe/London ",  # trailing space
        "../../etc/passwd",  # a path, not a zone
        "/usr/share/zoneinfo/UTC",  # an absolute path
        "+05:00",  # an offset is not a zone
        None,  # not a string
        5,  # not a string
        ["UTC"],  # not a string, and unhashable
    ],
)
def test_validate_timezone_refuses_unknown_names(name):
    with pytest.raises(ScheduleError) as excinfo:
        validate_timezone(name)
    assert set(excinfo.value.problems) == {"timezone"}
