"""Who runs the day's maintenance: a Redis key in front, a database row behind it.

Redis answers the many workers that ask at the day's first requests (one round trip
each) so that only the one that wins its ``SET NX EX`` touches the database. The
winner then takes the day's row in ``maintenance_claims`` too: that row is the
record of the day, so a Redis restart or flush never makes the day run twice. When
Redis is unreachable the row alone decides, and one warning says so.

Both are leases with a random token per holder: short while running, renewed
between batches, released only by their holder (compare-and-delete in one Lua call),
so a worker that dies mid-run blocks the day for at most one lease.
"""
from __future__ import annotations

import enum
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import redis
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine

from bookingapp.extensions import insert_for
from bookingapp.models import MaintenanceClaim

log = logging.getLogger("bookingapp.slots")

UTC = timezone.utc
# How long Redis remembers a finished day: past any boundary it could still be asked about.
DONE_TTL = 3 * 86400
REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)
REDIS_RETRY_SECONDS = 30.0

# Renew our lease if the key still holds our token; put it back if Redis lost it (a
# restart or flush): the lease row, renewed just before, says the day is still ours.
_EXTEND = """
local value = redis.call('get', KEYS[1])
if value == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end
if not value then redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1 end
return 0
"""
# Replace our token by a record (ARGV[2] for ARGV[3] s), or delete the key when none.
_RELEASE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('del', KEYS[1]) end
redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""


class Outcome(enum.Enum):
    DONE = "done"  # the day's run succeeded
    HELD = "held"  # someone else runs it, or a failed run waits for its retry


class RedisHealth:
    """Whether this process last found Redis reachable; warns once per outage.

    While Redis is down it is tried again only every REDIS_RETRY_SECONDS, so a host that
    swallows packets costs a request its connect timeout that often, not at every look.
    """

    def __init__(self, user: str = "daily maintenance", fallback: str = "the database guard"):
        self._lock = threading.Lock()
        self.down = False
        self._failed_at = 0.0
        self._user, self._fallback = user, fallback  # who says what in the warning

    def worth_trying(self) -> bool:
        return not self.down or time.monotonic() - self._failed_at >= REDIS_RETRY_SECONDS

    def failed(self, exc: Exception) -> None:
        with self._lock:
            self._failed_at = time.monotonic()
            if self.down:
                return
            self.down = True
        log.warning("Redis is unreachable (%s): %s falls back to %s until it answers again",
                    exc, self._user, self._fallback)

    def answered(self) -> None:
        with self._lock:
            if not self.down:
                return
            self.down = False
        log.info("Redis answers again: %s uses it", self._user)


def wall_now() -> datetime:
    """Real time, for leases: they measure how long a holder has been silent, not "today"."""
    return datetime.now(UTC)


@dataclass
class DailyLease:
    """The right to run one boundary's maintenance, held by one token."""

    key: str
    token: str
    engine: Engine
    redis: redis.Redis | None
    redis_key: str
    ttl: int
    health: RedisHealth

    def still_held(self) -> bool:
        """Renew both leases; False when either says another holder has the day."""
        if not renew_row(self.engine, self.key, self.token, self.ttl):
            return False
        if self.redis is None or not self.health.worth_trying():
            return True
        try:
            held = bool(self.redis.eval(_EXTEND, 1, self.redis_key, self.token, self.ttl))
        except REDIS_ERRORS as exc:
            self.health.failed(exc)
            return True  # the row alone guards the day while Redis is away
        self.health.answered()
        return held

    def finish(self) -> None:
        """Record the day as done in both places."""
        close_day(self.engine, self.redis, self.key, self.redis_key, self.health, closer=self.token)

    def fail(self, retry_after: int) -> None:
        """Give the day back after a failure, to be retried after ``retry_after`` s."""
        release_row(self.engine, self.key, self.token, retry_after)
        self._release_redis(f"retry:{self.token}", retry_after)

    def give_up(self) -> None:
        """Give the day back at once (we lost the lease; someone may take it now)."""
        release_row(self.engine, self.key, self.token, 0)
        self._release_redis("", 0)

    def _release_redis(self, record: str, ttl: int) -> None:
        if self.redis is None or not self.health.worth_trying():
            return
        try:
            self.redis.eval(_RELEASE, 1, self.redis_key, self.token, record, ttl)
        except REDIS_ERRORS as exc:
            self.health.failed(exc)


def lease_day(
    key: str, *, engine: Engine, client: redis.Redis | None, redis_key: str, ttl: int, health: RedisHealth
) -> DailyLease | Outcome:
    """Try to become the one that runs ``key``'s maintenance."""
    token = secrets.token_hex(16)
    if client is not None and not health.worth_trying():
        client = None
    if client is not None:
        try:
            outcome = _lease_redis(client, redis_key, token, ttl)
        except REDIS_ERRORS as exc:
            health.failed(exc)
            client = None
        else:
            health.answered()
            if outcome is not None:
                return outcome
    lease = DailyLease(key, token, engine, client, redis_key, ttl, health)
    row = lease_row(engine, key, token, ttl)
    if row is Outcome.DONE:
        lease._release_redis(f"done:{token}", DONE_TTL)  # teach Redis what the row knows
    elif row is Outcome.HELD:
        lease._release_redis("", 0)
    return lease if row is None else row


def _lease_redis(client: redis.Redis, key: str, token: str, ttl: int) -> Outcome | None:
    pipe = client.pipeline(transaction=True)
    pipe.set(key, token, nx=True, ex=ttl)
    pipe.get(key)
    won, value = pipe.execute()
    if won:
        return None
    return Outcome.DONE if (value or b"").startswith(b"done:") else Outcome.HELD


def lease_row(engine: Engine, key: str, token: str, ttl: int) -> Outcome | None:
    """Take the day's row if it is free or its lease ran out; None when we got it."""
    now = wall_now()
    expires = now + timedelta(seconds=ttl)
    table = MaintenanceClaim.__table__
    with engine.begin() as conn:
        inserted = conn.execute(
            insert_for(engine)(table)
            .values(key=key, token=token, expires_at=expires)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.key)
        ).first()
        if inserted:
            return None
        taken = conn.execute(
            update(table)
            .where(table.c.key == key, table.c.done_at.is_(None), table.c.expires_at <= now)
            .values(token=token, expires_at=expires)
        ).rowcount
        if taken == 1:
            return None
        done = conn.scalar(select(table.c.done_at).where(table.c.key == key))
    return Outcome.DONE if done is not None else Outcome.HELD


def renew_row(engine: Engine, key: str, token: str, ttl: int) -> bool:
    """Extend our lease on the day's row; False when it is no longer ours."""
    table = MaintenanceClaim.__table__
    with engine.begin() as conn:
        return conn.execute(
            update(table)
            .where(table.c.key == key, table.c.token == token, table.c.done_at.is_(None))
            .values(expires_at=wall_now() + timedelta(seconds=ttl))
        ).rowcount == 1


def close_day(
    engine: Engine, client: redis.Redis | None, key: str, redis_key: str, health: RedisHealth, *, closer: str
) -> None:
    """Record ``key``'s day as done in both places, whoever holds its lease.

    Done is final, so it needs no token: the daily run's last unit may finish in any
    worker. ``closer`` names who closed it in the Redis record.
    """
    table = MaintenanceClaim.__table__
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.key == key, table.c.done_at.is_(None)).values(done_at=wall_now()))
    if client is None or not health.worth_trying():
        return
    try:
        client.set(redis_key, f"done:{closer}", ex=DONE_TTL)
    except REDIS_ERRORS as exc:
        health.failed(exc)


def release_row(engine: Engine, key: str, token: str, after: int) -> None:
    """Let the day's row go, so another worker may retry it after ``after`` seconds."""
    table = MaintenanceClaim.__table__
    with engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.key == key, table.c.token == token, table.c.done_at.is_(None))
            .values(expires_at=wall_now() + timedelta(seconds=after))
        )


def day_state(engine: Engine, key: str) -> str:
    """"done", "leased" (running, or waiting for its retry) or "not started" for one boundary."""
    with engine.connect() as conn:
        row = conn.execute(select(MaintenanceClaim).where(MaintenanceClaim.key == key)).first()
    if row is None:
        return "not started"
    return "done" if row.done_at is not None else "leased"


def lease_expired(engine: Engine, key: str | None) -> bool:
    """Whether nobody holds ``key``'s lease any more (finished, ran out, or never taken)."""
    if key is None:
        return True
    with engine.connect() as conn:
        row = conn.execute(select(MaintenanceClaim).where(MaintenanceClaim.key == key)).first()
    return row is None or row.done_at is not None or row.expires_at <= wall_now()


def forget_done(engine: Engine, client: redis.Redis | None, key: str, redis_key: str) -> None:
    """Forget that ``key``'s run is done (a run in progress keeps its lease)."""
    table = MaintenanceClaim.__table__
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.key == key, table.c.done_at.is_not(None)))
    if client is not None:
        try:
            if (client.get(redis_key) or b"").startswith(b"done:"):
                client.delete(redis_key)
        except REDIS_ERRORS:
            pass


def clear_markers(engine: Engine, client: redis.Redis | None, pattern: str) -> tuple[int, int]:
    """Forget every day's record; return (rows, Redis keys) removed."""
    with engine.begin() as conn:
        rows = conn.execute(delete(MaintenanceClaim)).rowcount
    keys = 0
    if client is not None:
        found = list(client.scan_iter(pattern, count=500))
        keys = client.delete(*found) if found else 0
    return rows, keys
