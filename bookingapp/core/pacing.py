"""Pacing a long run that shares its worker with requests: rest between batches, and
hand the GIL over more often while it runs. Pure: the standard library only."""
from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

# Rest after a batch, as a multiple of the time the batch took (3.0: busy a quarter of the time).
REST_RATIO = 3.0
REST_MAX_SECONDS = 2.0
# While a run is in progress: how often the GIL changes hands (Python's default is 5 ms).
RUN_SWITCH_INTERVAL = 0.0005

_gil_lock = threading.Lock()
_gil_users = 0
_gil_saved = sys.getswitchinterval()


class Pacer:
    """A ``keep_going`` that first rests REST_RATIO times as long as the previous batch worked."""

    def __init__(self, keep_going: Callable[[], bool]):
        self._keep_going = keep_going
        self._since: float | None = None

    def __call__(self) -> bool:
        if self._since is not None:
            time.sleep(min(REST_MAX_SECONDS, (time.monotonic() - self._since) * REST_RATIO))
        held = self._keep_going()
        self._since = time.monotonic()
        return held


@contextmanager
def responsive_gil() -> Iterator[None]:
    """Shorten the GIL switch interval while any run of this process is in progress."""
    global _gil_users, _gil_saved
    with _gil_lock:
        if _gil_users == 0:
            _gil_saved = sys.getswitchinterval()
            sys.setswitchinterval(RUN_SWITCH_INTERVAL)
        _gil_users += 1
    try:
        yield
    finally:
        with _gil_lock:
            _gil_users -= 1
            if _gil_users == 0:
                sys.setswitchinterval(_gil_saved)
