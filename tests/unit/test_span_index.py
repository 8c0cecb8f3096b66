"""The generator's guard: does a new slot meet a booked one kept after an edit?"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bookingapp.core.spans import SpanIndex

BASE = datetime(2027, 1, 14, tzinfo=timezone.utc)


def _at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


# booked spans 10:00-11:00 and 12:00-16:00 (a long one), then 20:00-20:30
SPANS = SpanIndex([(_at(a).timestamp(), _at(b).timestamp()) for a, b in [(10, 11), (12, 16), (20, 20.5)]])


@pytest.mark.parametrize(
    "start, end, meets",
    [
        (9, 10, False),  # ends as the first begins
        (9.5, 10.5, True),  # runs into it
        (11, 12, False),  # fits the gap exactly
        (13, 14, True),  # inside the long span
        (15.5, 17, True),  # starts inside the long span, after a later-starting check would look
        (16, 20, False),  # between the long span and the last
        (20.25, 21, True),
        (21, 22, False),  # after everything
    ],
)
def test_a_slot_meets_a_booked_span_only_when_they_share_an_instant(start, end, meets):
    assert SPANS.overlaps(_at(start), _at(end)) is meets


def test_no_spans_meet_nothing():
    assert not SpanIndex([]).overlaps(_at(1), _at(2))
