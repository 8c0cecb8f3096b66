"""The clock gunicorn workers share in tests: "now" is written in a file."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from bookingapp.core.clock import FileClock, SystemClock, clock_from_config

UTC = timezone.utc


def _write(path, value: str, bump: int = 0) -> None:
    path.write_text(value)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump))


def test_file_clock_reads_the_instant_and_follows_the_file_forward(tmp_path):
    path = tmp_path / "now"
    _write(path, "2027-01-13T23:59:50+00:00")
    clock = FileClock(str(path))
    assert clock.now() == datetime(2027, 1, 13, 23, 59, 50, tzinfo=UTC)
    before = clock.monotonic()
    _write(path, "2027-01-14T00:00:05+00:00", bump=1_000_000)
    assert clock.now() == datetime(2027, 1, 14, 0, 0, 5, tzinfo=UTC)
    assert clock.monotonic() - before >= 15


def test_file_clock_never_goes_back(tmp_path):
    path = tmp_path / "now"
    _write(path, "2027-01-14T00:00:00+00:00")
    clock = FileClock(str(path))
    _write(path, "2027-01-13T00:00:00+00:00", bump=1_000_000)
    assert clock.now() == datetime(2027, 1, 14, tzinfo=UTC)


def test_file_clock_refuses_a_naive_instant(tmp_path):
    path = tmp_path / "now"
    path.write_text("2027-01-13T10:00:00")
    with pytest.raises(ValueError, match="aware"):
        FileClock(str(path))


def test_only_an_explicit_setting_selects_the_file_clock(tmp_path):
    path = tmp_path / "now"
    path.write_text("2027-01-13T10:00:00+00:00")
    assert isinstance(clock_from_config({}), SystemClock)
    assert isinstance(clock_from_config({"SLOTS_CLOCK_FILE": None}), SystemClock)
    assert isinstance(clock_from_config({"SLOTS_CLOCK_FILE": str(path)}), FileClock)
