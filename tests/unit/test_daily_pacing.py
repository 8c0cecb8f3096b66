"""The daily run shares its worker with requests: it rests between batches and the GIL moves often."""
from __future__ import annotations

import sys

import pytest

from bookingapp.core import pacing as daily


class FakeTime:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_rests_three_times_as_long_as_each_batch_worked(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(daily, "time", fake)
    answers = iter([True, True, False])
    pacer = daily.Pacer(lambda: next(answers))
    assert pacer() is True and fake.slept == []  # nothing to rest from before the first batch
    fake.now += 0.2  # a batch of 0.2 s
    assert pacer() is True and fake.slept == [pytest.approx(0.6)]
    fake.now += 5.0  # a long batch: the rest is capped
    assert pacer() is False and fake.slept[-1] == daily.REST_MAX_SECONDS


def test_the_gil_interval_is_short_only_while_some_run_is_in_progress():
    before = sys.getswitchinterval()
    with daily.responsive_gil():
        with daily.responsive_gil():
            assert sys.getswitchinterval() == daily.RUN_SWITCH_INTERVAL
        assert sys.getswitchinterval() == daily.RUN_SWITCH_INTERVAL  # the other run still goes on
    assert sys.getswitchinterval() == before
