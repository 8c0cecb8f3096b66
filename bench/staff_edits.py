"""What staff edits cost, and what the booked-slot guard adds to slot writes.

Side by side on a throw-away PostgreSQL database (bench/support.py):
1. ``write_slots`` with its booked-slot guard vs the same call with the guard switched
   off, on a cold fill of many games and on a repair of windows one slot in five booked;
2. an edit of one game with a year of slots: the preview (plan only) and the save
   (plan + delete + insert + capacity update, one transaction).

    .venv/bin/python bench/staff_edits.py [--games 100] [--days 366]
"""
from __future__ import annotations

import argparse
from datetime import datetime, timezone

from support import stopwatch, throwaway_database, migrate  # noqa: I001  (puts the repo on sys.path)

from sqlalchemy import select, update

from bookingapp import create_app
from bookingapp.extensions import db
from bookingapp.services.reconcile import preview_game_change, update_game
from bookingapp.services.games import create_game
from bookingapp.models import Game, Slot
from bookingapp.services import generation as generator

NOW = datetime(2027, 1, 13, 9, 30, tzinfo=timezone.utc)
HOURS = {d: [["10:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _games(count: int, days: int, tag: str) -> list[Game]:
    return [
        create_game(db.session, {"name": f"{tag} {i}", "timezone": "Europe/London", "slot_minutes": 60,
                                 "capacity": 4, "days_ahead": days, "weekly_hours": HOURS})
        for i in range(count)
    ]


def _plans(games, days, repair):
    return [generator.plan_game(g, now=NOW, default_days=days, repair=repair) for g in games]


def _write(plans, guarded: bool):
    original = generator._booked_index
    if not guarded:
        generator._booked_index = lambda session, plans: {}
    try:
        with stopwatch() as watch:
            created = generator.write_slots(db.session, plans)
            db.session.commit()
    finally:
        generator._booked_index = original
    return watch, sum(created.values())


def _line(label, rows, watch):
    print(f"{label:44s} {rows:>9,} rows {watch.seconds:7.2f} s  app CPU {watch.client_cpu:5.2f} s  "
          f"db CPU {watch.server_cpu if watch.server_cpu is not None else float('nan'):5.2f} s")


def bench_writes(games: int, days: int) -> None:
    for guarded in (False, True):
        plans = _plans(_games(games, days, f"cold {guarded}"), days, repair=False)
        watch, created = _write(plans, guarded)
        _line(f"cold fill, guard {'on' if guarded else 'off'}", created, watch)
    db.session.execute(update(Slot).where(Slot.id % 5 == 0).values(booked=1))
    db.session.commit()
    every = list(db.session.scalars(select(Game)))
    rows = sum(len(p.rows()) for p in _plans(every, days, repair=True))
    for guarded in (False, True):
        watch, _ = _write(_plans(every, days, repair=True), guarded)
        _line(f"repair, 1 slot in 5 booked, guard {'on' if guarded else 'off'}", rows, watch)


def bench_edit(days: int) -> None:
    game = _games(1, days, "Edited")[0]
    generator.ensure_window(db.session, game, now=NOW, default_days=days)
    db.session.execute(update(Slot).where(Slot.game_id == game.id, Slot.id % 7 == 0).values(booked=1))
    db.session.commit()
    change = {"weekly_hours": {d: [["12:00", "20:00"]] for d in HOURS}, "slot_minutes": 90, "capacity": 3}
    with stopwatch() as watch:
        _, plan = preview_game_change(db.session, game, change, now=NOW, default_days=days)
    db.session.rollback()
    print(f"edit preview, {days} days: {watch.seconds * 1000:7.1f} ms  ({plan.summary()})")
    with stopwatch() as watch:
        update_game(db.session, game, change, now=NOW, default_days=days)
    print(f"edit save,    {days} days: {watch.seconds * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=100, help="games per fill")
    parser.add_argument("--days", type=int, default=366, help="window length in days")
    args = parser.parse_args()
    with throwaway_database() as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "TESTING": True})
        with app.app_context():
            migrate()
            bench_writes(args.games, args.days)
            bench_edit(args.days)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
