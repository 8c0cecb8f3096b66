"""The daily run itself: every active game's window filled, the work shared by every worker.

The worker that wins the day's lease opens the day's run, cut into units (key ranges of
games, ``services.units``), and starts on them; every other worker that serves a request
while units are open takes one too, so the day goes about as many times faster as there
are workers. Each unit works in small batches and rests between them three times as long
as each batch took (a quarter of a core at most, database included, roughly), and while
it runs Python hands the GIL over more often, so requests in the same worker wait less
for it. Nobody waits for the run; it may as well take a little longer.
"""
from __future__ import annotations

import logging
import secrets
import traceback

from flask import Flask
from sqlalchemy.orm import Session

from bookingapp.core.pacing import Pacer, responsive_gil
from bookingapp.extensions import db, redis_client, redis_key
from bookingapp.models import MaintenanceRun, RunTrigger
from bookingapp.services.generation import GenerationResult, PassOptions, ensure_active_games
from bookingapp.services.leases import DailyLease, RedisHealth, close_day, lease_expired
from bookingapp.services.runs import abandon_runs, running_runs, stale_runs
from bookingapp.services.units import (
    UnitLease, abandon_units, fail_unit, finish_unit, open_daily_run, record_unit_progress, take_unit,
)

log = logging.getLogger("bookingapp.slots")

# Games per transaction in the daily run: each stretch of work stays in the tens of milliseconds,
# while the round trips a batch costs (lease, lock, write, watermark, commit) stay few per game.
DAILY_BATCH_GAMES = 100


def run_daily(app: Flask, lease: DailyLease) -> MaintenanceRun | None:
    """Open one boundary's run under ``lease`` and work its units while any is free.

    Returns the run row, loaded and detached (None if the lease was lost or it broke).
    The day is recorded done by whichever worker finishes its last unit.
    """
    try:
        with responsive_gil():
            return _run_daily(app, lease)
    except Exception:  # in a pool thread nobody else would see it
        log.exception("Error auto-generating slots (daily run %s)", lease.key)
        return None


def _run_daily(app: Flask, lease: DailyLease) -> MaintenanceRun | None:
    if not lease.still_held():
        log.info("Daily slot maintenance for %s not started: another worker holds its lease", lease.key)
        return None
    _abandon_dead_runs(app, lease.key)
    run_id = open_daily_run(db.session, day_key=lease.key, now=app.extensions["clock"].now(),
                            unit_games=app.config["SLOTS_UNIT_GAMES"])
    log.info("Daily slot maintenance for %s started (run %d)", lease.key, run_id)
    if not work_units(app, lease.key, lease.health, closer=lease.token):
        # Units are left: others hold them, or a failed one waits for its retry. Workers
        # take those as they serve requests; the lease comes back to be looked at later.
        lease.fail(app.config["SLOTS_RETRY_AFTER"])
    return _detached_run(run_id)


def help_daily(app: Flask, key: str, health: RedisHealth) -> bool:
    """Work the units of ``key``'s run that nobody holds (another worker opened it); never raises.

    True when this worker finished the run's last unit (and so recorded the day done).
    """
    try:
        with responsive_gil():
            return work_units(app, key, health, closer=secrets.token_hex(16))
    except Exception:
        log.exception("Error auto-generating slots (daily run %s)", key)
        return False


def work_units(app: Flask, key: str, health: RedisHealth, *, closer: str) -> bool:
    """Take and work ``key``'s free units one after another; True when this worker closed the run."""
    closed = False
    while (unit := take_unit(db.engine, day_key=key, ttl=app.config["SLOTS_LOCK_TTL"])) is not None:
        closed = _work_unit(app, unit) or closed
    if closed:
        close_day(db.engine, redis_client(), key, redis_key("daily", key), health, closer=closer)
        log.info("Daily slot maintenance for %s finished", key)
    return closed


def _work_unit(app: Flask, unit: UnitLease) -> bool:
    clock = app.extensions["clock"]
    # A session of its own that keeps what it loaded across commits.
    session = Session(db.engine, expire_on_commit=False)
    options = PassOptions(
        app.config["SLOTS_DAYS_TO_MAINTAIN"], keep_going=Pacer(unit.still_held), batch_games=DAILY_BATCH_GAMES,
        progress=lambda batch, result: record_unit_progress(batch, unit, result.games_checked, result.slots_created),
    )
    try:
        result: GenerationResult = ensure_active_games(session, now=clock.now(), options=options,
                                                       key_range=unit.key_range)
    except Exception as exc:
        session.rollback()
        log.exception("Error auto-generating slots (daily unit %d)", unit.id)
        fail_unit(db.engine, unit, error="".join(traceback.format_exception(exc)),
                  retry_after=app.config["SLOTS_RETRY_AFTER"])
        return False
    finally:
        session.close()
    if result.stopped_early:
        log.warning("Daily unit %d stopped early: its lease ran out and another worker took it", unit.id)
        return False
    return finish_unit(db.engine, unit, now=clock.now(), games_checked=result.games_checked,
                       slots_created=result.slots_created)


def _detached_run(run_id: int) -> MaintenanceRun | None:
    with Session(db.engine, expire_on_commit=False) as session:
        return session.get(MaintenanceRun, run_id)


def _abandon_dead_runs(app: Flask, key: str) -> None:
    # We hold this boundary's lease: an earlier run of it with no units died before it
    # cut the day (a run with units goes on, unit by unit); a run of an older boundary
    # whose lease ran out is over. Other runs have no lease: one still "running" hours
    # on lost its process.
    clock = app.extensions["clock"]
    stale = [
        run.id for run in running_runs(db.session, RunTrigger.DAILY)
        if (run.day_key == key and not run.units) or (run.day_key != key and lease_expired(db.engine, run.day_key))
    ]
    abandon_units(db.session, stale)
    abandon_runs(db.session, stale, clock=clock, reason="its worker stopped before it finished")
    forgotten = [run.id for run in stale_runs(db.session, clock.now())]
    abandon_runs(db.session, forgotten, clock=clock, reason="still running hours later: its process stopped")
