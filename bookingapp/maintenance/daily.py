"""The daily run itself: fill every active game's window under the day's lease, gently.

It runs in a worker that is serving requests at the same time, so it works in small
batches, rests between them three times as long as each batch took (a quarter of a
core at most, database included, roughly), and while it runs Python hands the GIL
over more often, so requests in the same worker wait less for it. Nobody waits for
the run; it may as well take a little longer.
"""
from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.orm import Session

from bookingapp.core.pacing import Pacer, responsive_gil
from bookingapp.extensions import db
from bookingapp.models import RunTrigger
from bookingapp.services.generation import PassOptions
from bookingapp.services.leases import DailyLease, lease_expired
from bookingapp.services.runs import abandon_runs, generate_slots, running_runs, stale_runs

log = logging.getLogger("bookingapp.slots")

# Games per transaction in the daily run: small, so each stretch of work is short.
DAILY_BATCH_GAMES = 5


def run_daily(app: Flask, lease: DailyLease):
    """Run one boundary's maintenance under ``lease``; return its run row (None if it broke).

    The row comes back loaded and detached, readable after the run's session closed.
    """
    try:
        with responsive_gil():
            return _run_daily(app, lease)
    except Exception:  # in a pool thread nobody else would see it
        log.exception("Error auto-generating slots (daily run %s)", lease.key)
        return None


def _run_daily(app: Flask, lease: DailyLease):
    clock = app.extensions["clock"]
    log.info("Daily slot maintenance for %s started", lease.key)
    _abandon_dead_runs(app, lease.key)
    # A session of its own that keeps what it loaded across commits: each game is read
    # once, so refreshing every game after every batch would only cost the worker time.
    session = Session(db.engine, expire_on_commit=False)
    try:
        run, result = generate_slots(
            session, clock=clock, trigger=RunTrigger.DAILY, day_key=lease.key,
            options=PassOptions(app.config["SLOTS_DAYS_TO_MAINTAIN"], keep_going=Pacer(lease.still_held),
                                batch_games=DAILY_BATCH_GAMES),
        )
    except Exception:  # generate_slots logged it and stored it on the run
        lease.fail(app.config["SLOTS_RETRY_AFTER"])
        return None
    finally:
        session.close()
    if result.stopped_early:
        lease.give_up()
        return run
    lease.finish()
    log.info(
        "Daily slot maintenance for %s finished: %d games checked, %d slots created",
        lease.key, result.games_checked, result.slots_created,
    )
    return run


def _abandon_dead_runs(app: Flask, key: str) -> None:
    # We hold this boundary's lease, so an earlier run of it still "running" died with
    # its worker; a run of an older boundary whose lease ran out died too. Other runs
    # have no lease: one still "running" hours on lost its process.
    clock = app.extensions["clock"]
    stale = [
        run.id
        for run in running_runs(db.session, RunTrigger.DAILY)
        if run.day_key == key or lease_expired(db.engine, run.day_key)
    ]
    abandon_runs(db.session, stale, clock=clock, reason="its worker stopped before it finished")
    forgotten = [run.id for run in stale_runs(db.session, clock.now())]
    abandon_runs(db.session, forgotten, clock=clock, reason="still running hours later: its process stopped")
