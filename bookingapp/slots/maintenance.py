"""Keeping windows filled without cron: the daily request hook, its background pool,
and the per-game check the game page makes.

The hook costs one clock comparison per request once this process knows the day's
run is done. When it is due, one worker in the whole deployment wins the day's claim
(see ``claims``) and runs it in the app's thread pool; nobody waits for it.
"""
from __future__ import annotations

import logging
import os
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from flask import Flask, current_app, request
from sqlalchemy import select

from ..extensions import app_clock, cache, db, now, redis_client, redis_key
from ..models import Game, RunStatus, RunTrigger
from .boundary import Boundary, active_zones, daily_boundary
from .claims import DailyClaim, Outcome, RedisHealth, claim_day, claim_expired, clear_markers, day_state, forget_done
from .daily import run_daily
from .runs import STALE_RUN_AGE, generate_slots
from .status import window_status

log = logging.getLogger("bookingapp.slots")

# Even when the day is done, look again this often: a game in a new zone may bring
# an earlier midnight, and `slots reset-markers` should take effect the same day.
MEMO_REFRESH_SECONDS = 3600.0
_pool_lock = threading.Lock()


def background_pool(app: Flask) -> ThreadPoolExecutor:
    """The app's thread pool in this process, created on first use.

    Created lazily and keyed by pid: a pool made before gunicorn forks (``--preload``)
    would live in the master, so each worker makes its own.
    """
    with _pool_lock:
        owner, pool = app.extensions.get("slots_pool", (None, None))
        if owner != os.getpid() or pool is None:
            pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="slots")
            app.extensions["slots_pool"] = (os.getpid(), pool)
        return pool


def submit(app: Flask, work: Callable[[], object]) -> Future:
    """Run ``work`` in the background pool inside an app context; nobody waits for it."""

    def run():
        with app.app_context():
            try:
                return work()
            finally:
                db.session.remove()

    return background_pool(app).submit(run)


def _check_key(game: Game) -> str:
    return f"slots:checked:{game.id}"


def check_game_window(game: Game) -> int:
    """Make sure a game's window is written before a customer looks at it.

    Checked at most once per SLOTS_CHECK_INTERVAL across workers (Flask-Caching; 0
    checks every time). The check reads the stored slots, not the watermark, so a
    hole or a watermark ahead of the rows is seen; missing days are written at once
    (the customer would otherwise see them empty) and recorded as a `view` run.
    Returns the number of slots created.
    """
    if not game.is_active:
        return 0
    interval = current_app.config["SLOTS_CHECK_INTERVAL"]
    if interval and _cached(_check_key(game)):
        return 0
    clock = app_clock()
    default_days = current_app.config["SLOTS_DAYS_TO_MAINTAIN"]
    created = 0
    if not window_status(db.session, game, now=clock.now(), default_days=default_days).is_full:
        _, result = generate_slots(
            db.session, clock=clock, trigger=RunTrigger.VIEW, default_days=default_days,
            game_ids=[game.id], repair=True,
        )
        created = result.slots_created
    if interval:
        try:
            cache.set(_check_key(game), 1, timeout=interval)
        except Exception:  # a cache outage must not break the page
            pass
    return created


def _cached(key: str) -> bool:
    try:
        return bool(cache.get(key))
    except Exception:  # a cache outage must not break the page; check directly
        return False


def forget_game_check(game: Game) -> None:
    """Clear a game's cached check, e.g. after its schedule changed; never raises."""
    try:
        cache.delete(_check_key(game))
    except Exception as exc:  # callers have committed their change: a cache outage must not undo the answer
        # While the cache is away every page checks directly anyway; the stale mark ends
        # within SLOTS_CHECK_INTERVAL once it is back.
        log.warning("Could not forget the slot check of game %s: %s", game.id, exc)


# --- the daily hook --------------------------------------------------------------------

class DailyMemo:
    """What this process knows about the day's run; read on every request."""

    def __init__(self):
        self.recheck_at = float("-inf")  # monotonic time before which no request looks
        self.looking = threading.Lock()
        self.redis = RedisHealth()
        self.started: Future | None = None  # the last run this process started, for tests
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
    """Claim the day if it is free and start it; return seconds until this process looks again."""
    boundary = current_boundary(app)
    outcome = _claim(app, boundary, memo.redis)
    if outcome is Outcome.DONE:
        return _seconds_left(app, boundary)
    if isinstance(outcome, DailyClaim):
        memo.started = submit(app, lambda: _run_and_remember(app, outcome, memo, boundary))
    return float(app.config["SLOTS_RECHECK_SECONDS"])


def _seconds_left(app: Flask, boundary: Boundary) -> float:
    left = (boundary.next_at - app.extensions["clock"].now()).total_seconds()
    return max(0.0, min(MEMO_REFRESH_SECONDS, left))


def _run_and_remember(app: Flask, claim: DailyClaim, memo: DailyMemo, boundary: Boundary):
    run = run_daily(app, claim)
    if run is not None and run.status is RunStatus.SUCCEEDED:
        memo.recheck_at = app.extensions["clock"].monotonic() + _seconds_left(app, boundary)
    return run


def current_boundary(app: Flask) -> Boundary:
    """The boundary the daily run serves now, for the zones active games use."""
    with db.engine.connect() as conn:
        zones = active_zones(conn, app.config["BOOKING_DEFAULT_TIMEZONE"])
    return daily_boundary(zones, app.extensions["clock"].now())


def _claim(app: Flask, boundary: Boundary, health: RedisHealth) -> DailyClaim | Outcome:
    return claim_day(
        boundary.key,
        engine=db.engine,
        client=redis_client(),
        redis_key=redis_key("daily", boundary.key),
        ttl=app.config["SLOTS_LOCK_TTL"],
        health=health,
    )


def maintain_all_games(*, async_mode: bool = False, force: bool = True):
    """Run the day's maintenance now, as the day's first request would (for `flask shell`).

    ``force`` forgets that today's run is done, so it runs again; a run another worker
    holds right now is left alone (returns None). Returns the run row, or with
    ``async_mode`` a Future of it.
    """
    app = current_app._get_current_object()
    boundary = current_boundary(app)
    if force:
        forget_done(db.engine, redis_client(), boundary.key, redis_key("daily", boundary.key))
    outcome = _claim(app, boundary, app.extensions.get("slots_daily", DailyMemo()).redis)
    if not isinstance(outcome, DailyClaim):
        log.info("Daily slot maintenance for %s not started: it is %s", boundary.key, outcome.value)
        return None
    if async_mode:
        return submit(app, lambda: run_daily(app, outcome))
    return run_daily(app, outcome)


def reset_markers() -> tuple[int, int]:
    """Forget which days ran and when each game was checked; return (days, games) cleared.

    Each worker still trusts its own memo until its next hourly look; `slots generate`
    ignores every marker anyway.
    """
    rows, _ = clear_markers(db.engine, redis_client(), redis_key("daily", "*"))
    games = list(db.session.scalars(select(Game)))
    for game in games:
        forget_game_check(game)
    return rows, len(games)


def describe_today() -> str:
    """One line for operators: which boundary is current and how its run stands."""
    app = current_app._get_current_object()
    boundary = current_boundary(app)
    hook = "on" if app.config["SLOTS_MAINTENANCE_ENABLED"] else "off (SLOTS_MAINTENANCE_ENABLED=false)"
    return f"Daily run for {boundary.key}: {day_state(db.engine, boundary.key)}; request hook {hook}"


def run_state(run) -> str:
    """A run's status for operators, saying when one shown as running has likely died."""
    if run.status is not RunStatus.RUNNING:
        return run.status.value
    if run.trigger is RunTrigger.DAILY and claim_expired(db.engine, run.day_key):
        return "running? (its lease ran out: the worker likely died; the next run retries)"
    if run.trigger is not RunTrigger.DAILY and now() - run.started_at > STALE_RUN_AGE:
        return "running? (started hours ago: its process likely stopped; the next daily run marks it)"
    return run.status.value
