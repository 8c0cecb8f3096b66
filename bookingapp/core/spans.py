"""Booked slots as plain time spans, for asking "would this slot share the room?".

After a schedule edit, booked slots that no longer fit are kept (off-schedule); no
new slot may overlap one of them.
"""
from __future__ import annotations

import bisect
import itertools
from datetime import datetime
from typing import Sequence


class SpanIndex:
    """Spans sorted by start, asked "does this interval meet one of them?" in one bisect."""

    def __init__(self, spans: Sequence[tuple[float, float]]):
        # Plain floats (POSIX seconds): bisect over them runs in C, over datetimes it would not.
        self._starts = [start for start, _ in spans]
        # The latest end among the spans up to each index: a span starting before an
        # interval ends meets it exactly when one of them ends after the interval starts.
        self._reach = list(itertools.accumulate((end for _, end in spans), max))

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        before = bisect.bisect_left(self._starts, ends_at.timestamp())
        return before > 0 and self._reach[before - 1] > starts_at.timestamp()
