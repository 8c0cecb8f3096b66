"""The daily run itself: fill every active game's window under the day's claim, gently.

It runs in a worker that is serving requests at the same time, so it works in small
batches, rests between them three times as long as each batch took (a quarter of a
core at most, database included, roughly), and while it runs Python hands the GIL
over more often, so requests in the same worker wait less for it. Nobody waits for
the run; it may as well take a little longer.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from flask import Flask
from sqlalchemy.orm import Session

from bookingapp.extensions import db
from bookingapp.models import RunTrigger
from bookingapp.services.claims import DailyClaim, claim_expired
from bookingapp.services.runs import abandon_runs, generate_slots, running_runs, stale_runs

log = logging.getLogger("bookingapp.slots")

# Games per transaction in the daily run: small, so each stretch of work is short.
DAILY_BATCH_GAMES = 5
# Rest after a batch, as a multiple of the time the batch took (3.0: busy a quarter of the time).
REST_RATIO = 3.0
REST_MAX_SECONDS = 2.0
# While a run is in progress: how often the GIL changes hands (Python's default is 5 ms).
RUN_SWITCH_INTERVAL = 0.0005

_gil_lock = threading.Lock()
_gil_users = 0
_gil_saved = sys.getswitchinterval()


class Pacer:
    """A ``keep_going`` that first rests REST_RATIO times as long as the previous batch worked."""

    def __init__(self, keep_going: Callable[[], bool]):
        self._keep_going = keep_going
        self._since: float | None = None

    def __call__(self) -> bool:
        if self._since is not None:
            time.sleep(min(REST_MAX_SECONDS, (time.monotonic() - self._since) * REST_RATIO))
        held = self._keep_going()
        self._since = time.monotonic()
        return held


@contextmanager
def responsive_gil() -> Iterator[None]:
    """Shorten the GIL switch interval while any run of this process is in progress."""
    global _gil_users, _gil_saved
    with _gil_lock:
        if _gil_users == 0:
            _gil_saved = sys.getswitchinterval()
            sys.setswitchinterval(RUN_SWITCH_INTERVAL)
        _gil_users += 1
    try:
        yield
    finally:
        with _gil_lock:
            _gil_users -= 1
            if _gil_users == 0:
                sys.setswitchinterval(_gil_saved)


def run_daily(app: Flask, claim: DailyClaim):
    """Run one boundary's maintenance under ``claim``; return its run row (None if it broke).

    The row comes back loaded and detached, readable after the run's session closed.
    """
    try:
        with responsive_gil():
            return _run_daily(app, claim)
    except Exception:  # in a pool thread nobody else would see it
        log.exception("Error auto-generating slots (daily run %s)", claim.key)
        return None


def _run_daily(app: Flask, claim: DailyClaim):
    clock = app.extensions["clock"]
    log.info("Daily slot maintenance for %s started", claim.key)
    _abandon_dead_runs(app, claim.key)
    # A session of its own that keeps what it loaded across commits: each game is read
    # once, so refreshing every game after every batch would only cost the worker time.
    session = Session(db.engine, expire_on_commit=False)
    try:
        run, result = generate_slots(
            session, clock=clock, trigger=RunTrigger.DAILY,
            default_days=app.config["SLOTS_DAYS_TO_MAINTAIN"], keep_going=Pacer(claim.still_held),
            day_key=claim.key, batch_games=DAILY_BATCH_GAMES,
        )
    except Exception:  # generate_slots logged it and stored it on the run
        claim.fail(app.config["SLOTS_RETRY_AFTER"])
        return None
    finally:
        session.close()
    if result.stopped_early:
        claim.give_up()
        return run
    claim.finish()
    log.info(
        "Daily slot maintenance for %s finished: %d games checked, %d slots created",
        claim.key, result.games_checked, result.slots_created,
    )
    return run


def _abandon_dead_runs(app: Flask, key: str) -> None:
    # We hold this boundary's claim, so an earlier run of it still "running" died with
    # its worker; a run of an older boundary whose lease ran out died too. Other runs
    # have no lease: one still "running" hours on lost its process.
    clock = app.extensions["clock"]
    stale = [
        run.id
        for run in running_runs(db.session, RunTrigger.DAILY)
        if run.day_key == key or claim_expired(db.engine, run.day_key)
    ]
    abandon_runs(db.session, stale, clock=clock, reason="its worker stopped before it finished")
    forgotten = [run.id for run in stale_runs(db.session, clock.now())]
    abandon_runs(db.session, forgotten, clock=clock, reason="still running hours later: its process stopped")
