"""What operators ask of the daily maintenance (CLI, `flask shell`): run it now, forget
the days' records, say how today stands."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from bookingapp.extensions import db, now, redis_client, redis_key
from bookingapp.maintenance.daily import run_daily
from bookingapp.maintenance.hook import DailyMemo, _lease, current_boundary
from bookingapp.maintenance.pool import submit
from bookingapp.models import Game, RunStatus, RunTrigger
from bookingapp.services.checks import forget_game_check
from bookingapp.services.leases import DailyLease, lease_expired, clear_markers, day_state, forget_done
from bookingapp.services.runs import STALE_RUN_AGE

log = logging.getLogger("bookingapp.slots")


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
    outcome = _lease(app, boundary, app.extensions.get("slots_daily", DailyMemo()).redis)
    if not isinstance(outcome, DailyLease):
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
    if run.trigger is RunTrigger.DAILY and lease_expired(db.engine, run.day_key):
        return "running? (its lease ran out: the worker likely died; the next run retries)"
    if run.trigger is not RunTrigger.DAILY and now() - run.started_at > STALE_RUN_AGE:
        return "running? (started hours ago: its process likely stopped; the next daily run marks it)"
    return run.status.value
