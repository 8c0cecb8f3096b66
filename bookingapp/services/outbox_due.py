"""The outbox's earliest due time, shared by every process through one Redis hash.

A process that commits outbox rows lowers it (never raises it). A deliverer, after a
pass, settles it to the database's next due time, unless someone lowered it meanwhile:
each lowering bumps a version, and the settle is a compare-and-set on that version, so a
message written during the pass is never hidden behind a later time. Both are one Lua
script each, atomic in Redis. When the key is missing (a new Redis, a flush, a restart)
the reader seeds it from the database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import redis

UTC = timezone.utc
# Stored for "nothing pending": epoch seconds far past any due time (Lua has no infinity literal).
NOTHING_DUE = 1e15

_LOWER = """
local at = tonumber(redis.call('HGET', KEYS[1], 'at'))
if at == nil or tonumber(ARGV[1]) < at then redis.call('HSET', KEYS[1], 'at', ARGV[1]) end
return redis.call('HINCRBY', KEYS[1], 'v', 1)
"""

_SETTLE = """
if (redis.call('HGET', KEYS[1], 'v') or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'at', ARGV[2])
return 1
"""


@dataclass(frozen=True)
class SharedReading:
    """What the shared key said: the due time (None: nothing pending), its version, whether it existed."""

    due: datetime | None
    version: str
    known: bool


class SharedDue:
    """The earliest due time in Redis under ``key``, read and written atomically."""

    def __init__(self, client: redis.Redis, key: str):
        self._client, self._key = client, key
        self._lower = client.register_script(_LOWER)
        self._settle = client.register_script(_SETTLE)

    def lower(self, due: datetime | None) -> None:
        """Make the shared time ``due`` if that is earlier (None only creates the key)."""
        self._lower(keys=[self._key], args=[_stamp(due)])

    def read(self) -> SharedReading:
        """The shared time and its version; ``known`` is False when Redis holds no key."""
        at, version = self._client.hmget(self._key, ["at", "v"])
        if at is None:
            return SharedReading(None, _text(version), False)
        seconds = float(at)
        due = None if seconds >= NOTHING_DUE else datetime.fromtimestamp(seconds, UTC)
        return SharedReading(due, _text(version), True)

    def version(self) -> str:
        """The current version alone (read before the database, for ``settle``)."""
        return _text(self._client.hget(self._key, "v"))

    def settle(self, version: str, due: datetime | None) -> bool:
        """Set the shared time to ``due`` unless it was lowered since ``version`` was read."""
        return bool(self._settle(keys=[self._key], args=[version, _stamp(due)]))


def _stamp(due: datetime | None) -> str:
    return repr(NOTHING_DUE if due is None else due.timestamp())


def _text(raw: bytes | None) -> str:
    return raw.decode() if raw is not None else ""
