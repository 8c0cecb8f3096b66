"""What staff edits cost, measured side by side on a throw-away PostgreSQL database.

1. write_slots' booked-slot guard (one query + a bisect per row) next to the COPY insert
   it protects, on a first fill of many games and on a re-fill of a partly booked window;
2. an edit of one game with a year of slots: the preview (plan only) and the save
   (plan + delete + insert + capacity update, one transaction).

    .venv/bin/python bench/staff_edits.py [--games 300] [--days 366]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from sqlalchemy import select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bookingapp import create_app  # noqa: E402
from bookingapp.extensions import db  # noqa: E402
from bookingapp.games.reconcile import preview_game_change, update_game  # noqa: E402
from bookingapp.games.service import create_game  # noqa: E402
from bookingapp.models import Game, Slot  # noqa: E402
from bookingapp.slots import generator  # noqa: E402
from bookingapp.slots.generator import DayRange, slot_rows  # noqa: E402

ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2027, 1, 13, 9, 30, tzinfo=timezone.utc)
HOURS = {d: [["10:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _timed(work):
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def _games(count: int, days: int, tag: str):
    return [
        create_game(db.session, {"name": f"{tag} {i}", "timezone": "Europe/London", "slot_minutes": 60,
                                 "capacity": 4, "days_ahead": days, "weekly_hours": HOURS})
        for i in range(count)
    ]


def _rows(games, days):
    today = NOW.date()
    span = DayRange(today, today.fromordinal(today.toordinal() + days - 1))
    return [row for game in games for row in slot_rows(game, span)]


def bench_write(games: int, days: int) -> None:
    """The booked-slot guard's own cost next to the bulk insert it protects, on the same rows."""
    session = db.session
    for label, booked_share in (("first fill", None), ("re-fill, 1 slot in 5 booked", 5)):
        if booked_share:
            session.execute(update(Slot).where(Slot.id % booked_share == 0).values(booked=1))
            session.commit()
            rows = _rows(list(session.scalars(select(Game))), days)
        else:
            rows = _rows(_games(games, days, "Filled"), days)
        guard_s, kept = _timed(lambda: generator._clear_of_booked_slots(session, rows))
        ordered = sorted(kept, key=lambda r: (r[0], r[1]))
        insert_s, _ = _timed(lambda: (generator._write_postgresql(session, ordered), session.commit()))
        print(
            f"{label:28s}: {len(rows):>9,} rows; guard {guard_s * 1000:7.1f} ms, COPY insert {insert_s:6.2f} s "
            f"({len(rows) / insert_s:,.0f} rows/s); guard = {guard_s / insert_s:5.1%} of the insert"
        )


def bench_edit(days: int) -> None:
    game = _games(1, days, "Edited")[0]
    generator.ensure_window(db.session, game, now=NOW, default_days=7)
    db.session.execute(update(Slot).where(Slot.game_id == game.id, Slot.id % 7 == 0).values(booked=1))
    db.session.commit()
    change = {"weekly_hours": {d: [["12:00", "20:00"]] for d in HOURS}, "slot_minutes": 90, "capacity": 3}
    seconds, (_, plan) = _timed(lambda: preview_game_change(db.session, game, change, now=NOW, default_days=7))
    db.session.rollback()
    print(f"edit preview, {days} days: {seconds * 1000:7.1f} ms  ({plan.summary()})")
    seconds, plan = _timed(lambda: update_game(db.session, game, change, now=NOW, default_days=7))
    print(f"edit save,    {days} days: {seconds * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=300, help="games per first-fill run")
    parser.add_argument("--days", type=int, default=366, help="window length in days")
    args = parser.parse_args()
    name = f"bookingapp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "TESTING": True})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            bench_write(args.games, args.days)
            bench_edit(args.days)
            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
