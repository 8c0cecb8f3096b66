"""When the daily run is due: after each local midnight of the zones games use."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bookingapp.core.boundary import daily_boundary
from bookingapp.core.window import local_midnight

UTC = timezone.utc


def test_one_zone_makes_one_boundary_a_day_named_after_its_local_date():
    now = datetime(2027, 1, 13, 9, 30, tzinfo=UTC)
    boundary = daily_boundary(["Europe/London", "Europe/London"], now)
    assert boundary.key == "2027-01-13@Europe/London"
    assert boundary.passed_at == datetime(2027, 1, 13, tzinfo=UTC)
    assert boundary.next_at == datetime(2027, 1, 14, tzinfo=UTC)


def test_the_boundary_changes_exactly_at_local_midnight():
    zone = ["America/New_York"]
    before = daily_boundary(zone, datetime(2027, 1, 14, 4, 59, 59, tzinfo=UTC))
    after = daily_boundary(zone, datetime(2027, 1, 14, 5, 0, 0, tzinfo=UTC))
    assert (before.key, after.key) == ("2027-01-13@America/New_York", "2027-01-14@America/New_York")
    assert before.next_at == after.passed_at


@pytest.mark.parametrize(
    "now, key",
    [
        # 16:00 UTC: Tokyo's 14th began at 15:00 UTC, after London's 13th began.
        (datetime(2027, 1, 13, 16, 0, tzinfo=UTC), "2027-01-14@Asia/Tokyo"),
        # 00:30 UTC: London's 14th is the latest midnight now.
        (datetime(2027, 1, 14, 0, 30, tzinfo=UTC), "2027-01-14@Europe/London"),
        # 14:00 UTC: London's 14th is still the latest; Tokyo's 15th comes at 15:00.
        (datetime(2027, 1, 14, 14, 0, tzinfo=UTC), "2027-01-14@Europe/London"),
    ],
)
def test_with_several_zones_the_latest_midnight_passed_names_the_run(now, key):
    assert daily_boundary(["Europe/London", "Asia/Tokyo"], now).key == key


def test_the_next_boundary_is_the_soonest_midnight_of_any_zone():
    boundary = daily_boundary(["Europe/London", "Asia/Tokyo"], datetime(2027, 1, 13, 16, 0, tzinfo=UTC))
    assert boundary.next_at == datetime(2027, 1, 14, 0, 0, tzinfo=UTC)


def test_zones_sharing_a_midnight_name_the_same_boundary_in_every_process():
    now = datetime(2027, 1, 13, 9, 0, tzinfo=UTC)
    assert daily_boundary(["Europe/Paris", "Europe/Berlin"], now).key == "2027-01-13@Europe/Berlin"
    assert daily_boundary(["Europe/Berlin", "Europe/Paris"], now).key == "2027-01-13@Europe/Berlin"


def test_a_day_whose_midnight_dst_skips_begins_at_the_jump():
    # Santiago springs forward at 24:00 on 2027-09-04: the 5th begins at 01:00 local.
    tz = ZoneInfo("America/Santiago")
    start = local_midnight(datetime(2027, 9, 5).date(), tz)
    assert start.astimezone(tz).replace(tzinfo=None) == datetime(2027, 9, 5, 1, 0)
    boundary = daily_boundary(["America/Santiago"], start + timedelta(seconds=1))
    assert boundary.key == "2027-09-05@America/Santiago"
    assert boundary.next_at - boundary.passed_at == timedelta(hours=23)


def test_a_day_of_25_hours_still_has_one_boundary():
    # London falls back on 2027-10-31: that local day lasts 25 hours.
    boundary = daily_boundary(["Europe/London"], datetime(2027, 10, 31, 12, 0, tzinfo=UTC))
    assert boundary.key == "2027-10-31@Europe/London"
    assert boundary.next_at - boundary.passed_at == timedelta(hours=25)


def test_no_zone_at_all_is_a_programming_error():
    with pytest.raises(ValueError):
        daily_boundary([], datetime(2027, 1, 13, tzinfo=UTC))
