"""Worked DST examples: exact UTC slots, computed by hand, on the 2027 clock changes.

Offsets used below (checked against tzdata in the first tests of this module):
- America/New_York: EST -05:00, EDT -04:00; 2027-03-14 02:00 -> 03:00 (07:00Z),
  2027-11-07 02:00 -> 01:00 (06:00Z).
- Europe/London: GMT +00:00, BST +01:00; 2027-03-28 01:00 -> 02:00 (01:00Z),
  2027-10-31 02:00 -> 01:00 (01:00Z).
- Australia/Lord_Howe: +10:30 standard, +11:00 summer (a 30-minute shift);
  2027-04-04 02:00 -> 01:30 (2027-04-03 15:00Z), 2027-10-03 02:00 -> 02:30 (2027-10-02 15:30Z).
- America/Havana: CST -05:00, CDT -04:00, changing at midnight;
  2027-03-14 00:00 -> 01:00 (05:00Z), 2027-11-07 01:00 -> 00:00 (05:00Z).
- America/Santiago: -04:00 standard, -03:00 summer; 2027-04-03 24:00 -> 23:00 (04-04 03:00Z).
"""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bookingapp.core.engine import Schedule, existing_instant, first_instant_at_or_after, slots_between, slots_for_day
from bookingapp.core.hours import WEEKDAYS, parse_weekly_hours


def utc(text: str) -> datetime:
    """'2027-03-14 07:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def every_day(zone: str, slot_minutes: int, *ranges: list[str], gap_minutes: int = 0) -> Schedule:
    hours = parse_weekly_hours({name: [list(r) for r in ranges] for name in WEEKDAYS})
    return Schedule(zone, slot_minutes, hours, gap_minutes)


def pairs(slots) -> list[tuple[datetime, datetime]]:
    return [(s.starts_at, s.ends_at) for s in slots]


# --- the clock changes themselves, so the hand computations below rest on facts -------

@pytest.mark.parametrize(
    "zone, before, after",
    [
        # New York springs forward: 01:59:59 EST is followed by 03:00:00 EDT at 07:00Z.
        ("America/New_York", "2027-03-14 01:59:59-05:00", "2027-03-14 03:00:00-04:00"),
        # New York falls back: 01:59:59 EDT is followed by 01:00:00 EST at 06:00Z.
        ("America/New_York", "2027-11-07 01:59:59-04:00", "2027-11-07 01:00:00-05:00"),
        # London springs forward at 01:00 GMT, straight to 02:00 BST.
        ("Europe/London", "2027-03-28 00:59:59+00:00", "2027-03-28 02:00:00+01:00"),
        # London falls back at 02:00 BST to 01:00 GMT.
        ("Europe/London", "2027-10-31 01:59:59+01:00", "2027-10-31 01:00:00+00:00"),
        # Lord Howe falls back by half an hour on the first Sunday of April.
        ("Australia/Lord_Howe", "2027-04-04 01:59:59+11:00", "2027-04-04 01:30:00+10:30"),
        # ... and springs forward by half an hour on the first Sunday of October.
        ("Australia/Lord_Howe", "2027-10-03 01:59:59+10:30", "2027-10-03 02:30:00+11:00"),
        # Havana skips its midnight hour.
        ("America/Havana", "2027-03-13 23:59:59-05:00", "2027-03-14 01:00:00-04:00"),
    ],
)
def test_the_2027_clock_changes_are_where_the_examples_assume(zone, before, after):
    tz = ZoneInfo(zone)
    first, second = datetime.fromisoformat(before), datetime.fromisoformat(after)
    assert second - first == timedelta(seconds=1)
    assert first.astimezone(tz).isoformat() == first.isoformat()
    assert second.astimezone(tz).isoformat() == second.isoformat()


# --- worked examples ----------------------------------------------------------------

CASES = [
    pytest.param(
        # 00:00 and 01:00 are EST (05Z, 06Z); 02:00 does not exist and is skipped;
        # 03:00 and 04:00 are EDT (07Z, 08Z); the last one ends at 05:00 EDT = 09Z = close.
        "America/New_York", 60, 0, ["00:00", "05:00"], date(2027, 3, 14),
        [("2027-03-14 05:00", "2027-03-14 06:00"), ("2027-03-14 06:00", "2027-03-14 07:00"),
         ("2027-03-14 07:00", "2027-03-14 08:00"), ("2027-03-14 08:00", "2027-03-14 09:00")],
        id="new-york-spring-start-in-the-gap-is-skipped",
    ),
    pytest.param(
        # Grid 00:00, 01:30, 03:00, 04:30. 01:30 EST is 06:30Z and runs to 08:00Z; 03:00 EDT
        # is 07:00Z, inside that slot, so it is skipped; 04:30 EDT = 08:30Z fits; close 10Z.
        "America/New_York", 90, 0, ["00:00", "06:00"], date(2027, 3, 14),
        [("2027-03-14 05:00", "2027-03-14 06:30"), ("2027-03-14 06:30", "2027-03-14 08:00"),
         ("2027-03-14 08:30", "2027-03-14 10:00")],
        id="new-york-spring-90-minute-grid-start-inside-previous-slot-is-skipped",
    ),
    pytest.param(
        # The close 02:30 never shows: the range ends at the jump, 07:00Z. The 01:30 EST
        # slot ends exactly there; 02:00 is in the gap.
        "America/New_York", 30, 0, ["00:00", "02:30"], date(2027, 3, 14),
        [("2027-03-14 05:00", "2027-03-14 05:30"), ("2027-03-14 05:30", "2027-03-14 06:00"),
         ("2027-03-14 06:00", "2027-03-14 06:30"), ("2027-03-14 06:30", "2027-03-14 07:00")],
        id="new-york-spring-close-in-the-gap-ends-at-the-jump",
    ),
    pytest.param(
        # Same close: a 60-minute slot at 01:30 EST (06:30Z) would end at 07:30Z, after the
        # jump at 07:00Z that stands for 02:30, so only the 00:30 slot remains.
        "America/New_York", 60, 0, ["00:30", "02:30"], date(2027, 3, 14),
        [("2027-03-14 05:30", "2027-03-14 06:30")],
        id="new-york-spring-slot-running-past-the-jump-close-is-dropped",
    ),
    pytest.param(
        # Saturday 22:00 EST (Sunday 03Z) to Sunday 04:00 EDT (08Z): five real hours, the
        # wall clock's 02:00 is missing; all slots belong to Saturday.
        "America/New_York", 60, 0, ["22:00", "04:00"], date(2027, 3, 13),
        [("2027-03-14 03:00", "2027-03-14 04:00"), ("2027-03-14 04:00", "2027-03-14 05:00"),
         ("2027-03-14 05:00", "2027-03-14 06:00"), ("2027-03-14 06:00", "2027-03-14 07:00"),
         ("2027-03-14 07:00", "2027-03-14 08:00")],
        id="new-york-past-midnight-range-across-spring-night",
    ),
    pytest.param(
        # 01:00 is ambiguous: the first occurrence (EDT, 05Z) is taken, never the EST one
        # (06Z). 02:00 EST is 07Z; close 03:00 EST = 08Z.
        "America/New_York", 60, 0, ["00:00", "03:00"], date(2027, 11, 7),
        [("2027-11-07 04:00", "2027-11-07 05:00"), ("2027-11-07 05:00", "2027-11-07 06:00"),
         ("2027-11-07 07:00", "2027-11-07 08:00")],
        id="new-york-fall-ambiguous-start-takes-first-occurrence",
    ),
    pytest.param(
        # 01:00 and 01:30 are both EDT (05Z, 05:30Z); the repeated EST half hours get no
        # slots; the grid stops at the 02:00 close (07Z).
        "America/New_York", 30, 0, ["01:00", "02:00"], date(2027, 11, 7),
        [("2027-11-07 05:00", "2027-11-07 05:30"), ("2027-11-07 05:30", "2027-11-07 06:00")],
        id="new-york-fall-repeated-hour-is-not-booked-twice",
    ),
    pytest.param(
        # Saturday 22:00 EDT = Sunday 02Z; 01:00 is its EDT occurrence (05Z); close 02:00
        # EST = 07Z, and the wall grid reaches 02:00 there, so no slot in the repeated hour.
        "America/New_York", 60, 0, ["22:00", "02:00"], date(2027, 11, 6),
        [("2027-11-07 02:00", "2027-11-07 03:00"), ("2027-11-07 03:00", "2027-11-07 04:00"),
         ("2027-11-07 04:00", "2027-11-07 05:00"), ("2027-11-07 05:00", "2027-11-07 06:00")],
        id="new-york-past-midnight-range-across-fall-night",
    ),
    pytest.param(
        # 00:00 GMT, 00:30 GMT (00:30Z-01:00Z), 01:00 and 01:30 do not exist, 02:00 BST is
        # 01:00Z, 02:30 BST is 01:30Z and ends at the 03:00 BST close (02:00Z).
        "Europe/London", 30, 0, ["00:00", "03:00"], date(2027, 3, 28),
        [("2027-03-28 00:00", "2027-03-28 00:30"), ("2027-03-28 00:30", "2027-03-28 01:00"),
         ("2027-03-28 01:00", "2027-03-28 01:30"), ("2027-03-28 01:30", "2027-03-28 02:00")],
        id="london-spring-jump-at-one-skips-the-one-oclock-hour",
    ),
    pytest.param(
        # Saturday 23:00 GMT to Sunday 01:30, which never shows: the range ends at the
        # 01:00Z jump, so the 00:30 slot is the last.
        "Europe/London", 30, 0, ["23:00", "01:30"], date(2027, 3, 27),
        [("2027-03-27 23:00", "2027-03-27 23:30"), ("2027-03-27 23:30", "2027-03-28 00:00"),
         ("2027-03-28 00:00", "2027-03-28 00:30"), ("2027-03-28 00:30", "2027-03-28 01:00")],
        id="london-past-midnight-range-closing-in-the-gap",
    ),
    pytest.param(
        # 00:00 BST = Saturday 23Z; 01:00 first occurrence is BST (00Z); 02:00 GMT = 02Z;
        # close 03:00 GMT = 03Z.
        "Europe/London", 60, 0, ["00:00", "03:00"], date(2027, 10, 31),
        [("2027-10-30 23:00", "2027-10-31 00:00"), ("2027-10-31 00:00", "2027-10-31 01:00"),
         ("2027-10-31 02:00", "2027-10-31 03:00")],
        id="london-fall-ambiguous-one-oclock-takes-bst",
    ),
    pytest.param(
        # Lord Howe falls back 02:00 -> 01:30. 01:00 and 01:30 are +11 (14Z, 14:30Z);
        # 02:00 and 02:30 are +10:30 (15:30Z, 16Z); close 03:00 +10:30 = 16:30Z.
        "Australia/Lord_Howe", 30, 0, ["01:00", "03:00"], date(2027, 4, 4),
        [("2027-04-03 14:00", "2027-04-03 14:30"), ("2027-04-03 14:30", "2027-04-03 15:00"),
         ("2027-04-03 15:30", "2027-04-03 16:00"), ("2027-04-03 16:00", "2027-04-03 16:30")],
        id="lord-howe-fall-half-hour-repeat-takes-first-occurrence",
    ),
    pytest.param(
        # Lord Howe springs 02:00 -> 02:30. 01:00 and 01:30 are +10:30 (14:30Z, 15Z); 02:00
        # does not exist; 02:30 +11 is 15:30Z; close 03:00 +11 = 16Z.
        "Australia/Lord_Howe", 30, 0, ["01:00", "03:00"], date(2027, 10, 3),
        [("2027-10-02 14:30", "2027-10-02 15:00"), ("2027-10-02 15:00", "2027-10-02 15:30"),
         ("2027-10-02 15:30", "2027-10-02 16:00")],
        id="lord-howe-spring-half-hour-gap-start-is-skipped",
    ),
    pytest.param(
        # 45-minute grid 01:00, 01:45, 02:30, 03:15. 01:45 +10:30 runs 15:15Z-16Z; 02:30 +11
        # is 15:30Z, inside it, so skipped; 03:15 +11 = 16:15Z ends at the 04:00 close, 17Z.
        "Australia/Lord_Howe", 45, 0, ["01:00", "04:00"], date(2027, 10, 3),
        [("2027-10-02 14:30", "2027-10-02 15:15"), ("2027-10-02 15:15", "2027-10-02 16:00"),
         ("2027-10-02 16:15", "2027-10-02 17:00")],
        id="lord-howe-spring-half-hour-jump-would-overlap",
    ),
    pytest.param(
        # 45-minute slots, 15-minute gap: hourly grid. 00:00 and 01:00 are +10:30 (13:30Z,
        # 14:30Z); 02:00 is in the gap; 03:00 +11 = 16Z; 04:00 is the close (17Z).
        "Australia/Lord_Howe", 45, 15, ["00:00", "04:00"], date(2027, 10, 3),
        [("2027-10-02 13:30", "2027-10-02 14:15"), ("2027-10-02 14:30", "2027-10-02 15:15"),
         ("2027-10-02 16:00", "2027-10-02 16:45")],
        id="lord-howe-spring-gap-minutes-and-a-missing-start",
    ),
    pytest.param(
        # 30-minute slots, 30-minute gap: 01:30 +10:30 runs 15Z-15:30Z; 02:30 +11 is 15:30Z,
        # after that slot but inside its gap, so skipped; 03:30 +11 = 16:30Z ends at close.
        "Australia/Lord_Howe", 30, 30, ["01:30", "04:00"], date(2027, 10, 3),
        [("2027-10-02 15:00", "2027-10-02 15:30"), ("2027-10-02 16:30", "2027-10-02 17:00")],
        id="lord-howe-spring-jump-into-the-gap-buffer-is-skipped",
    ),
    pytest.param(
        # Havana's midnight does not exist on 2027-03-14: 00:00 and 00:30 are skipped,
        # 01:00 CDT is 05Z, close 02:00 CDT = 06Z.
        "America/Havana", 30, 0, ["00:00", "02:00"], date(2027, 3, 14),
        [("2027-03-14 05:00", "2027-03-14 05:30"), ("2027-03-14 05:30", "2027-03-14 06:00")],
        id="havana-spring-missing-midnight-start-is-skipped",
    ),
    pytest.param(
        # A range to 24:00 on the eve: 24:00 is the missing midnight, so it ends at the 05Z
        # jump; 22:00 and 23:00 CST are 03Z and 04Z.
        "America/Havana", 60, 0, ["22:00", "24:00"], date(2027, 3, 13),
        [("2027-03-14 03:00", "2027-03-14 04:00"), ("2027-03-14 04:00", "2027-03-14 05:00")],
        id="havana-range-to-a-missing-midnight-ends-at-the-jump",
    ),
    pytest.param(
        # Havana repeats 00:00-01:00 on 2027-11-07: the 24:00 close is the first midnight,
        # 04Z, so 23:00 CDT (03Z) is the last slot of Saturday.
        "America/Havana", 60, 0, ["20:00", "24:00"], date(2027, 11, 6),
        [("2027-11-07 00:00", "2027-11-07 01:00"), ("2027-11-07 01:00", "2027-11-07 02:00"),
         ("2027-11-07 02:00", "2027-11-07 03:00"), ("2027-11-07 03:00", "2027-11-07 04:00")],
        id="havana-range-to-a-repeated-midnight-ends-at-its-first-occurrence",
    ),
    pytest.param(
        # Santiago repeats 23:00-24:00 on 2027-04-03: 23:00 and 23:30 are -03 (02Z, 02:30Z);
        # 24:00 comes once, at 04Z, and the wall grid stops there.
        "America/Santiago", 30, 0, ["22:00", "24:00"], date(2027, 4, 3),
        [("2027-04-04 01:00", "2027-04-04 01:30"), ("2027-04-04 01:30", "2027-04-04 02:00"),
         ("2027-04-04 02:00", "2027-04-04 02:30"), ("2027-04-04 02:30", "2027-04-04 03:00")],
        id="santiago-fall-back-at-midnight-repeats-no-slot",
    ),
]


@pytest.mark.parametrize("zone, slot, gap, hours, day, expected", CASES)
def test_dst_day_has_exactly_the_hand_computed_slots(zone, slot, gap, hours, day, expected):
    schedule = every_day(zone, slot, hours, gap_minutes=gap)
    assert pairs(slots_for_day(schedule, day)) == [(utc(a), utc(b)) for a, b in expected]


def test_fall_back_night_has_no_duplicate_slot():
    # Open all night long around New York's fall back, 30-minute slots: every wall time
    # from 00:00 to 02:30 once, the repeated 01:00-02:00 EST hour never.
    schedule = every_day("America/New_York", 30, ["00:00", "03:00"])
    starts = [s.starts_at for s in slots_for_day(schedule, date(2027, 11, 7))]
    assert starts == [
        utc("2027-11-07 04:00"), utc("2027-11-07 04:30"),  # 00:00, 00:30 EDT
        utc("2027-11-07 05:00"), utc("2027-11-07 05:30"),  # 01:00, 01:30 EDT (first occurrence)
        utc("2027-11-07 07:00"), utc("2027-11-07 07:30"),  # 02:00, 02:30 EST
    ]


def test_spring_forward_week_keeps_its_neighbours_untouched():
    # The days around the jump keep the usual shape: EST before, EDT after.
    schedule = every_day("America/New_York", 60, ["09:00", "11:00"])
    assert pairs(slots_between(schedule, date(2027, 3, 13), date(2027, 3, 15))) == [
        (utc("2027-03-13 14:00"), utc("2027-03-13 15:00")),  # Saturday 09:00 EST
        (utc("2027-03-13 15:00"), utc("2027-03-13 16:00")),
        (utc("2027-03-14 13:00"), utc("2027-03-14 14:00")),  # Sunday 09:00 EDT
        (utc("2027-03-14 14:00"), utc("2027-03-14 15:00")),
        (utc("2027-03-15 13:00"), utc("2027-03-15 14:00")),  # Monday 09:00 EDT
        (utc("2027-03-15 14:00"), utc("2027-03-15 15:00")),
    ]


def test_past_midnight_tail_on_the_jump_night_belongs_to_the_opening_day_only():
    # Every night 22:00-02:00 in London; the Sunday of the jump gets no slot from Saturday
    # beyond the 01:00Z jump, and Sunday's own range starts at 22:00 BST (21Z).
    schedule = every_day("Europe/London", 60, ["22:00", "02:00"])
    saturday = pairs(slots_for_day(schedule, date(2027, 3, 27)))
    sunday = pairs(slots_for_day(schedule, date(2027, 3, 28)))
    # Saturday: 22:00, 23:00, 00:00 GMT; 01:00 never shows and the range ends at 01:00Z.
    assert saturday == [
        (utc("2027-03-27 22:00"), utc("2027-03-27 23:00")),
        (utc("2027-03-27 23:00"), utc("2027-03-28 00:00")),
        (utc("2027-03-28 00:00"), utc("2027-03-28 01:00")),
    ]
    # Sunday: 22:00, 23:00, 00:00, 01:00 BST.
    assert sunday == [
        (utc("2027-03-28 21:00"), utc("2027-03-28 22:00")),
        (utc("2027-03-28 22:00"), utc("2027-03-28 23:00")),
        (utc("2027-03-28 23:00"), utc("2027-03-29 00:00")),
        (utc("2027-03-29 00:00"), utc("2027-03-29 01:00")),
    ]


# --- the two local-time helpers -----------------------------------------------------

@pytest.mark.parametrize(
    "zone, wall, expected",
    [
        # An ordinary wall time: EST, five hours behind UTC.
        ("America/New_York", "2027-03-14 01:30", "2027-03-14 06:30"),
        # In New York's spring gap: never on the clock.
        ("America/New_York", "2027-03-14 02:30", None),
        # Ambiguous in New York: the EDT (first) occurrence.
        ("America/New_York", "2027-11-07 01:30", "2027-11-07 05:30"),
        # London's gap is 01:00-02:00, so 01:00 itself never shows.
        ("Europe/London", "2027-03-28 01:00", None),
        # Lord Howe's gap is only 02:00-02:30: 02:30 exists, at +11.
        ("Australia/Lord_Howe", "2027-10-03 02:30", "2027-10-02 15:30"),
        # ... and 02:29 does not.
        ("Australia/Lord_Howe", "2027-10-03 02:29", None),
        # Havana's midnight on the jump day does not exist.
        ("America/Havana", "2027-03-14 00:00", None),
    ],
)
def test_existing_instant_reads_the_wall_clock_first_occurrence(zone, wall, expected):
    found = existing_instant(datetime.fromisoformat(wall), ZoneInfo(zone))
    assert found == (utc(expected) if expected else None)


@pytest.mark.parametrize(
    "zone, wall, expected",
    [
        # In the gap: the jump instant, when the clock first reads 03:00 EDT.
        ("America/New_York", "2027-03-14 02:30", "2027-03-14 07:00"),
        # The first minute of the gap maps to the same jump.
        ("America/New_York", "2027-03-14 02:00", "2027-03-14 07:00"),
        # An existing wall time is simply that instant.
        ("America/New_York", "2027-03-14 03:00", "2027-03-14 07:00"),
        # Ambiguous: the clock first reads 01:30 at its EDT occurrence.
        ("America/New_York", "2027-11-07 01:30", "2027-11-07 05:30"),
        # Lord Howe's 30-minute gap ends at 15:30Z.
        ("Australia/Lord_Howe", "2027-10-03 02:15", "2027-10-02 15:30"),
        # Chatham jumps 02:45 -> 03:45 (+12:45 -> +13:45) at 14Z.
        ("Pacific/Chatham", "2027-09-26 03:00", "2027-09-25 14:00"),
        # Havana's missing midnight is its jump, 05Z.
        ("America/Havana", "2027-03-14 00:00", "2027-03-14 05:00"),
    ],
)
def test_first_instant_at_or_after_is_the_jump_for_a_missing_wall_time(zone, wall, expected):
    assert first_instant_at_or_after(datetime.fromisoformat(wall), ZoneInfo(zone)) == utc(expected)
