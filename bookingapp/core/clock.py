"""Injectable time: the app asks its clock, so tests move "now" without sleeping."""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Mapping, Protocol

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


class FileClock:
    """A clock several processes share in tests: "now" is the instant written in a file.

    The test rewrites the file (ISO 8601, aware) to move every gunicorn worker's "today"
    at once; time stands still in between. Only used when SLOTS_CLOCK_FILE names the
    file; production uses SystemClock. Its monotonic reading runs with real time and
    jumps forward with the file, so memos that wait "until midnight" notice the jump.
    """

    def __init__(self, path: str):
        self._path = path
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._now = self._read()
        self._origin = self._now

    def _read(self) -> datetime:
        with open(self._path, encoding="utf-8") as handle:
            value = datetime.fromisoformat(handle.read().strip())
        if value.tzinfo is None:
            raise ValueError(f"{self._path} must hold an aware ISO 8601 instant")
        return value

    def now(self) -> datetime:
        with self._lock:
            stamp = os.stat(self._path).st_mtime_ns
            if stamp != self._stamp:
                self._stamp = stamp
                self._now = max(self._now, self._read())
            return self._now

    def monotonic(self) -> float:
        return time.monotonic() + (self.now() - self._origin).total_seconds()


def clock_from_config(config: Mapping[str, object]) -> Clock:
    """The app's clock: the real one, unless the settings name a test clock file."""
    path = config.get("SLOTS_CLOCK_FILE")
    if not path:
        return SystemClock()
    logging.getLogger("bookingapp").warning("SLOTS_CLOCK_FILE is set: \"now\" is read from %s (tests only)", path)
    return FileClock(str(path))
