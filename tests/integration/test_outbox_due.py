"""The shared earliest due time in Redis: lowered atomically, settled only if nobody lowered it since."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from bookingapp.extensions import redis_client, redis_key
from bookingapp.services.outbox_due import SharedDue

UTC = timezone.utc
NOON = datetime(2027, 1, 13, 12, 0, tzinfo=UTC)


def _board() -> SharedDue:
    return SharedDue(redis_client(), redis_key("outbox", "due"))


def test_a_missing_key_reads_as_unknown_and_lowering_only_ever_lowers(app):
    board = _board()
    assert board.read().known is False
    board.lower(NOON)
    board.lower(NOON + timedelta(hours=3))
    assert (board.read().due, board.read().known) == (NOON, True)
    board.lower(NOON - timedelta(minutes=1))
    assert board.read().due == NOON - timedelta(minutes=1)


def test_lowering_nothing_creates_the_key_as_nothing_pending(app):
    board = _board()
    board.lower(None)
    assert (board.read().due, board.read().known) == (None, True)
    board.lower(NOON)
    assert board.read().due == NOON


def test_settle_raises_the_time_when_nobody_lowered_it_since_the_version_was_read(app):
    board = _board()
    board.lower(NOON)
    assert board.settle(board.version(), NOON + timedelta(days=1)) is True
    assert board.read().due == NOON + timedelta(days=1)
    assert board.settle(board.version(), None) is True
    assert board.read().due is None


def test_settle_is_refused_after_a_lowering_so_a_new_message_is_not_hidden(app):
    board = _board()
    board.lower(NOON + timedelta(days=1))
    seen = board.version()
    board.lower(NOON)  # another process wrote a message while this one delivered
    assert board.settle(seen, NOON + timedelta(days=2)) is False
    assert board.read().due == NOON


def test_concurrent_lowerings_keep_the_earliest(app):
    board = _board()
    times = [NOON + timedelta(minutes=n) for n in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(board.lower, reversed(times)))
    assert board.read().due == NOON
    assert board.read().version == "200"
