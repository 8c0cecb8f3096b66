"""Lazy delivery: after a response, a process that knows an outbox message is due hands the
deliverer (``services.delivery.deliver_due``) to the background pool; nobody waits for it.

Each process keeps the earliest due time it knows in memory, as a monotonic instant
(``OutboxMemo.wake_at``): until then a response pays one clock comparison. Commits that
write outbox rows lower it at once (``outbox.on_due``) and publish it to Redis
(``services.outbox_due``); every ``OUTBOX_RECHECK_SECONDS`` a process reads the shared time
(the database's when Redis is down) to hear of messages other processes wrote. After a
pass, the process learns the next due time from the database. At most one delivery task
runs per process; ``FOR UPDATE SKIP LOCKED`` in the deliverer keeps workers apart.
"""
from __future__ import annotations

import logging
import os
import threading
import weakref
from concurrent.futures import Future
from datetime import datetime

from flask import Flask, current_app, has_app_context, request

from bookingapp.core.pacing import Pacer, responsive_gil
from bookingapp.extensions import redis_client, redis_key
from bookingapp.maintenance.pool import submit
from bookingapp.services import outbox
from bookingapp.services.leases import REDIS_ERRORS, RedisHealth
from bookingapp.services.outbox_due import SharedDue

log = logging.getLogger("bookingapp.outbox")

# Rows per deliver_due call: a task goes on while calls come back full, resting three times
# as long as each batch took (as the daily run does: the worker it shares keeps serving
# requests), up to MAX_BATCHES, then leaves the rest to the next response.
BATCH = 20
MAX_BATCHES = 50
# A due row that another worker is claiming right now stays "due" for a moment: look
# again this soon, not at every response.
MIN_GAP_SECONDS = 1.0
NEVER = float("inf")


class OutboxMemo:
    """What this process knows of the outbox's next due time; read after every response."""

    def __init__(self):
        self.wake_at = float("-inf")  # monotonic instant before which a response does nothing
        self.due: datetime | None = None  # the earliest due time known here (None: nothing pending)
        self.recheck_at = float("-inf")  # monotonic instant of the next look at the shared time
        self.heard = 0  # due times heard from this process's commits, so a look never drops one
        self.lock = threading.Lock()
        self.task: Future | None = None
        self.redis = RedisHealth("lazy delivery", "the database's next due time")
        self.shared_stale = False  # a due time never reached Redis: seed it from the database
        _memos.add(self)


_memos: weakref.WeakSet[OutboxMemo] = weakref.WeakSet()


def _reset_after_fork() -> None:
    # A lock copied from the parent may be copied held, and its pool's task is not ours.
    for memo in list(_memos):
        memo.lock = threading.Lock()
        memo.task = None
        memo.redis = RedisHealth("lazy delivery", "the database's next due time")


os.register_at_fork(after_in_child=_reset_after_fork)


def install_lazy_delivery(app: Flask) -> None:
    """Deliver due outbox messages after responses (unless OUTBOX_DELIVERY_ENABLED is off)."""
    if not app.config["OUTBOX_DELIVERY_ENABLED"]:
        log.info("OUTBOX_DELIVERY_ENABLED is off: responses deliver no messages; run `outbox send` from cron")
        return
    memo = app.extensions["outbox_delivery"] = OutboxMemo()
    clock = app.extensions["clock"]

    def deliver_after(response):
        # The hot path: while nothing is due and no look is due, this comparison is all.
        if clock.monotonic() < memo.wake_at:
            return response
        endpoint = request.endpoint or ""
        if not (endpoint == "static" or endpoint.endswith(".static") or endpoint == "health.healthz"):
            response.call_on_close(lambda: start_delivery(app, memo))
        return response

    app.after_request(deliver_after)


def start_delivery(app: Flask, memo: OutboxMemo) -> Future | None:
    """Hand a look (and a pass, if something is due) to the pool, unless one runs; never raises."""
    try:
        with memo.lock:
            if memo.task is not None and not memo.task.done():
                return None
            memo.wake_at = NEVER  # responses go straight past while the task runs
            memo.task = submit(app, lambda: _work(app, memo))
            return memo.task
    except Exception as exc:  # e.g. the pool is shutting down with the process
        log.warning("Could not start outbox delivery, trying again later: %s", exc)
        memo.wake_at = app.extensions["clock"].monotonic() + float(app.config["OUTBOX_RECHECK_SECONDS"])
        return None


def _work(app: Flask, memo: OutboxMemo) -> None:
    clock = app.extensions["clock"]
    recheck = float(app.config["OUTBOX_RECHECK_SECONDS"])
    failed = False
    try:
        if clock.monotonic() >= memo.recheck_at:
            memo.recheck_at = clock.monotonic() + recheck
            _look(app, memo)
        if memo.due is not None and memo.due <= clock.now():
            _deliver(app, memo)
    except Exception as exc:  # delivery must never take the worker down; the next look tries again
        log.warning("Outbox delivery failed, trying again in %.0f s: %s", recheck, exc)
        memo.recheck_at = clock.monotonic() + recheck
        failed = True
    finally:
        _rewind(app, memo, failed)


def _rewind(app: Flask, memo: OutboxMemo, failed: bool = False) -> None:
    """Set the instant of the next look or pass from what the memo knows now (after a failure: the next look)."""
    clock = app.extensions["clock"]
    with memo.lock:
        if failed or memo.due is None:
            due_at = NEVER
        else:
            due_at = max(_monotonic(app, memo.due), clock.monotonic() + MIN_GAP_SECONDS)
        memo.wake_at = min(memo.recheck_at, due_at)


def _look(app: Flask, memo: OutboxMemo) -> None:
    """Learn the earliest due time of every process: from Redis, else from the database."""
    from bookingapp.services import delivery

    heard, shared = memo.heard, _shared(app)
    if shared is None or not memo.redis.worth_trying():
        _learn(memo, delivery.next_due_at(), heard)
        return
    try:
        reading = shared.read()
        if reading.known and not memo.shared_stale:
            due = reading.due
        else:  # Redis forgot, or never heard of a due time this process wrote: the database knows
            due = delivery.next_due_at()
            shared.lower(due)
            memo.shared_stale = False
        memo.redis.answered()
    except REDIS_ERRORS as exc:
        memo.redis.failed(exc)
        memo.shared_stale = True
        due = delivery.next_due_at()
    _learn(memo, due, heard)


def _deliver(app: Flask, memo: OutboxMemo) -> None:
    """Deliver what is due now, then take the next due time from the database (and share it)."""
    from bookingapp.services import delivery

    clock = app.extensions["clock"]
    pace = Pacer(lambda: True)
    with responsive_gil():
        for _ in range(MAX_BATCHES):
            pace()
            if delivery.deliver_due(clock.now(), limit=BATCH).total < BATCH:
                break
    heard, shared = memo.heard, _shared(app)
    version = _version(shared, memo)  # read before the database, so a lowering after it wins
    due = delivery.next_due_at()
    if version is not None:
        try:
            shared.settle(version, due)
        except REDIS_ERRORS as exc:
            memo.redis.failed(exc)
    _learn(memo, due, heard)


def _version(shared: SharedDue | None, memo: OutboxMemo) -> str | None:
    if shared is None or not memo.redis.worth_trying():
        return None
    try:
        return shared.version()
    except REDIS_ERRORS as exc:
        memo.redis.failed(exc)
        return None


def _learn(memo: OutboxMemo, due: datetime | None, heard: int) -> None:
    """Take ``due`` as the memo's due time, keeping any lower one heard while it was looked up."""
    with memo.lock:
        if memo.heard != heard and memo.due is not None:
            due = memo.due if due is None else min(due, memo.due)
        memo.due = due


def _heard_due(due: datetime) -> None:
    """After a commit that wrote outbox rows: lower this process's memo and the shared time."""
    if not has_app_context():
        return
    app = current_app._get_current_object()
    memo = app.extensions.get("outbox_delivery")
    if memo is None:
        return
    with memo.lock:
        memo.heard += 1
        memo.due = due if memo.due is None else min(memo.due, due)
        memo.wake_at = min(memo.wake_at, _monotonic(app, due))
    _publish(app, memo, due)


def _publish(app: Flask, memo: OutboxMemo, due: datetime) -> None:
    shared = _shared(app)
    if shared is None:
        return
    if not memo.redis.worth_trying():
        memo.shared_stale = True
        return
    try:
        shared.lower(due)
        memo.redis.answered()
    except REDIS_ERRORS as exc:
        memo.redis.failed(exc)
        memo.shared_stale = True


outbox.on_due(_heard_due)


def _shared(app: Flask) -> SharedDue | None:
    """The shared due time, or None without Redis (the embedded default)."""
    client = redis_client()
    if client is None:
        return None
    shared = app.extensions.get("outbox_shared_due")
    if shared is None:
        shared = app.extensions["outbox_shared_due"] = SharedDue(client, redis_key("outbox", "due"))
    return shared


def _monotonic(app: Flask, due: datetime) -> float:
    """The app clock's monotonic reading at which ``due`` arrives."""
    clock = app.extensions["clock"]
    return clock.monotonic() + (due - clock.now()).total_seconds()
