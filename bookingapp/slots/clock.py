"""Injectable time: the app asks its clock, so tests move "now" without sleeping."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol

UTC = timezone.utc


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for cheap "is it time yet" checks."""


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock tests set and advance; its monotonic reading moves with it."""

    def __init__(self, now: datetime):
        if now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._lock = threading.Lock()
        self._now = now
        self._monotonic = 1_000_000.0

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move time forward by ``delta`` (or ``timedelta(**kwargs)``); return the new now."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += step
            self._monotonic += step.total_seconds()
            return self._now

    def set(self, now: datetime) -> datetime:
        """Jump to ``now`` (not earlier than the current reading)."""
        return self.advance(now - self.now())
