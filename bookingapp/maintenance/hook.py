"""The daily request hook: one clock comparison per request once this process knows the
day's run is done; when it is due, one worker in the whole deployment wins the day's
lease (see ``services.leases``) and opens the run in the background pool, cut into units
that every worker takes as it serves requests (``maintenance.daily``); nobody waits for it.
"""
from __future__ import annotations

import logging
import os
import threading
import weakref
from concurrent.futures import Future

from flask import Flask, request

from bookingapp.core.boundary import Boundary, daily_boundary
from bookingapp.extensions import db, redis_client, redis_key
from bookingapp.maintenance.daily import help_daily, run_daily
from bookingapp.maintenance.pool import submit
from bookingapp.models import RunStatus
from bookingapp.services.games import active_zones
from bookingapp.services.leases import DailyLease, Outcome, RedisHealth, lease_day

log = logging.getLogger("bookingapp.slots")

# Even when the day is done, look again this often: a game in a new zone may bring
# an earlier midnight, and `slots reset-markers` should take effect the same day.
MEMO_REFRESH_SECONDS = 3600.0


class DailyMemo:
    """What this process knows about the day's run; read on every request."""

    def __init__(self):
        self.recheck_at = float("-inf")  # monotonic time before which no request looks
        self.looking = threading.Lock()
        self.redis = RedisHealth()
        self.started: Future | None = None  # the last daily work this process started
        _memos.add(self)


_memos: weakref.WeakSet[DailyMemo] = weakref.WeakSet()


def _reset_after_fork() -> None:
    # A lock copied from the parent may be copied held; the child starts afresh.
    for memo in list(_memos):
        memo.looking = threading.Lock()
        memo.redis = RedisHealth()


os.register_at_fork(after_in_child=_reset_after_fork)


def install_daily_hook(app: Flask) -> None:
    """Register the request hook that starts the day's maintenance (unless turned off)."""
    if not app.config["SLOTS_MAINTENANCE_ENABLED"]:
        log.info("SLOTS_MAINTENANCE_ENABLED is off: requests start no maintenance; run `slots generate` from cron")
        return
    memo = app.extensions["slots_daily"] = DailyMemo()
    clock = app.extensions["clock"]

    def maintain_daily() -> None:
        # The hot path: once the day is done, this comparison is all a request pays.
        if clock.monotonic() < memo.recheck_at:
            return
        endpoint = request.endpoint or ""
        if endpoint == "static" or endpoint.endswith(".static") or endpoint == "health.healthz":
            return
        look_at_day(app, memo)

    app.before_request(maintain_daily)


def look_at_day(app: Flask, memo: DailyMemo) -> None:
    """Start the day's run in the background if it is due and free; never raises."""
    if not memo.looking.acquire(blocking=False):
        return  # another thread of this process is looking right now
    clock = app.extensions["clock"]
    try:
        if clock.monotonic() < memo.recheck_at:
            return
        wait = _look(app, memo)
    except Exception as exc:  # maintenance must never fail a request
        log.warning("Daily maintenance check failed, trying again later: %s", exc)
        wait = app.config["SLOTS_RETRY_AFTER"]
    finally:
        memo.looking.release()
    memo.recheck_at = clock.monotonic() + wait


def _look(app: Flask, memo: DailyMemo) -> float:
    """Take the day's lease if it is free and start the run; return seconds until this process looks again."""
    recheck = float(app.config["SLOTS_RECHECK_SECONDS"])
    if memo.started is not None and not memo.started.done():
        return recheck  # this process is at the day's work already
    boundary = current_boundary(app)
    outcome = _lease(app, boundary, memo.redis)
    if outcome is Outcome.DONE:
        return _seconds_left(app, boundary)
    if isinstance(outcome, DailyLease):
        memo.started = submit(app, lambda: _run_and_remember(app, outcome, memo, boundary))
    else:  # another worker opened the day (or its retry waits): help with any unit left free
        memo.started = submit(app, lambda: _help_and_remember(app, memo, boundary))
    return recheck


def _seconds_left(app: Flask, boundary: Boundary) -> float:
    left = (boundary.next_at - app.extensions["clock"].now()).total_seconds()
    return max(0.0, min(MEMO_REFRESH_SECONDS, left))


def _run_and_remember(app: Flask, lease: DailyLease, memo: DailyMemo, boundary: Boundary):
    run = run_daily(app, lease)
    if run is not None and run.status is RunStatus.SUCCEEDED:
        memo.recheck_at = app.extensions["clock"].monotonic() + _seconds_left(app, boundary)
    return run


def _help_and_remember(app: Flask, memo: DailyMemo, boundary: Boundary) -> bool:
    closed = help_daily(app, boundary.key, memo.redis)
    if closed:
        memo.recheck_at = app.extensions["clock"].monotonic() + _seconds_left(app, boundary)
    return closed


def current_boundary(app: Flask) -> Boundary:
    """The boundary the daily run serves now, for the zones active games use."""
    with db.engine.connect() as conn:
        zones = active_zones(conn, app.config["BOOKING_DEFAULT_TIMEZONE"])
    return daily_boundary(zones, app.extensions["clock"].now())


def _lease(app: Flask, boundary: Boundary, health: RedisHealth) -> DailyLease | Outcome:
    return lease_day(
        boundary.key,
        engine=db.engine,
        client=redis_client(),
        redis_key=redis_key("daily", boundary.key),
        ttl=app.config["SLOTS_LOCK_TTL"],
        health=health,
    )
