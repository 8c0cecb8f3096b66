"""Booked slots as plain time spans, for asking "would this slot share the room?".

After a schedule edit, booked slots that no longer fit are kept (off-schedule); no
new slot may overlap one of them.
"""
from __future__ import annotations

import bisect
import itertools
import uuid
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from sqlalchemy import Float, cast, extract, select
from sqlalchemy.orm import Session

from ..models import Slot
from .hours import MAX_SLOT_MINUTES

_LONGEST_SLOT = timedelta(minutes=MAX_SLOT_MINUTES)


def booked_spans(
    session: Session, game_ids: Iterable[uuid.UUID], first: datetime, last: datetime
) -> dict[uuid.UUID, list[tuple[float, float]]]:
    """Booked slots that may overlap ``first..last``, per game, as sorted POSIX-second spans."""
    # Read as epoch seconds: converting each row to an aware datetime cost more than the rest.
    starts, ends = (cast(extract("epoch", column), Float) for column in (Slot.starts_at, Slot.ends_at))
    spans: dict[uuid.UUID, list[tuple[float, float]]] = {}
    for game_id, start, end in session.execute(
        select(Slot.game_id, starts, ends)
        .where(Slot.game_id.in_(set(game_ids)), Slot.booked > 0)
        .where(Slot.starts_at >= first - _LONGEST_SLOT, Slot.starts_at < last)
        .order_by(Slot.starts_at)
    ):
        spans.setdefault(game_id, []).append((start, end))
    return spans


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
