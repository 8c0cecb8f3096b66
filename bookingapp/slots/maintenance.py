"""Keeping windows filled without cron: the per-game check and the app's background pool.

(The daily request hook and its lock build on these.)
"""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from flask import Flask, current_app

from ..extensions import cache, db
from ..models import Game
from .generator import ensure_window
from .status import window_status

log = logging.getLogger("bookingapp.slots")

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

    Checked at most once per SLOTS_CHECK_INTERVAL across workers (Flask-Caching); when
    days are missing they are written synchronously, since the customer would
    otherwise see them empty. Returns the number of slots created.
    """
    if not game.is_active:
        return 0
    key = _check_key(game)
    try:
        if cache.get(key):
            return 0
    except Exception:  # a cache outage must not break the page
        log.warning("Slot check cache unavailable; checking %s directly", game.name)
    now = current_app.extensions["clock"].now()
    default_days = current_app.config["SLOTS_DAYS_TO_MAINTAIN"]
    created = 0
    if not window_status(db.session, game, now=now, default_days=default_days).is_full:
        created = ensure_window(db.session, game, now=now, default_days=default_days, repair=True)
    try:
        cache.set(key, 1, timeout=current_app.config["SLOTS_CHECK_INTERVAL"] or None)
    except Exception:
        pass
    return created


def forget_game_check(game: Game) -> None:
    """Clear a game's cached check, e.g. after its schedule changed."""
    cache.delete(_check_key(game))
