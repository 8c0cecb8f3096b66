"""Helpers for tests that interleave a schedule edit with slot writing on PostgreSQL."""
from __future__ import annotations

import itertools
import threading
import uuid
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bookingapp.core import engine
from bookingapp.extensions import db
from bookingapp.models import Game, Slot
from bookingapp.services.reconcile import update_game

from bookingapp.core.hours import WEEKDAYS
# From make_game's 10:00-22:00 in 60-minute slots to 12:00-20:00 in 90-minute ones.
EDITED = {"slot_minutes": 90, "weekly_hours": {day: [["12:00", "20:00"]] for day in WEEKDAYS}}


def edit(clock, game_id: uuid.UUID, data=EDITED) -> None:
    """Save a schedule edit on a connection of its own, as a staff request would."""
    with Session(db.engine) as staff:
        update_game(staff, staff.get(Game, game_id), data, now=clock.now(), default_days=7)


def in_app(app, target, errors: list) -> threading.Thread:
    """A thread running ``target`` in an app context of its own, its exception kept in ``errors``."""
    def run():
        with app.app_context():
            try:
                target()
            except Exception as exc:  # pragma: no cover - reported by the test
                errors.append(exc)
            finally:
                db.session.remove()

    return threading.Thread(target=run)


def wait_until_waiting_on_a_lock_or_done(thread: threading.Thread) -> None:
    """Return once ``thread`` has finished or some session of this database waits on a lock."""
    with db.engine.connect() as watcher:
        for _ in range(600):
            waiting = watcher.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ))
            watcher.rollback()  # pg_stat_activity is a snapshot per transaction: take a fresh one each look
            thread.join(timeout=0.05)
            if waiting or not thread.is_alive():
                return
    raise AssertionError("the edit neither finished nor waited on a lock")


def assert_only_the_new_schedule(game: Game) -> None:
    """The game's slots are exactly its current schedule's over the week from 2027-01-13, none overlapping."""
    db.session.expire_all()
    stored = db.session.execute(
        select(Slot.starts_at, Slot.ends_at).where(Slot.game_id == game.id).order_by(Slot.starts_at)
    ).all()
    wanted = engine.slots_between(game.schedule(), date(2027, 1, 13), date(2027, 1, 19))
    assert [tuple(row) for row in stored] == [(s.starts_at, s.ends_at) for s in wanted]
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(stored))
