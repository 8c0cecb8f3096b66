"""The per-game check a game page makes: is its window written? Cached across workers."""
from __future__ import annotations

import logging

from flask import current_app

from bookingapp.extensions import app_clock, cache, db
from bookingapp.models import Game, RunTrigger
from bookingapp.services.generation import PassOptions
from bookingapp.services.runs import generate_slots
from bookingapp.services.status import window_status

log = logging.getLogger("bookingapp.slots")


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
            db.session, clock=clock, trigger=RunTrigger.VIEW,
            options=PassOptions(default_days, repair=True), game_ids=[game.id],
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
