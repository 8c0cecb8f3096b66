"""Slot generation benchmark on PostgreSQL: cold fill, daily top-up, and the naive way.

One run, side by side, on a throw-away database built by the migrations:

1. engine alone — the pure computation of every slot of every window;
2. cold fill — ``ensure_active_games`` over all games, from empty (the real code path);
3. warm top-up — the clock moves one day on, each game gets its one new day;
4. no-op pass — the same day again: nothing to write, only the watermark check;
5. the writers alone, on the same precomputed rows — COPY straight into slots
   (fresh days), COPY into a staging table + ``INSERT … ON CONFLICT`` (repair),
   and SQLAlchemy Core executemany ``INSERT … ON CONFLICT`` (the SQLite path);
6. the naive way of the Django original on a subset — an ORM get-or-create per
   slot (a SELECT, then an INSERT), committing per game;
7. for reference, COPY into slots again with the slots -> games foreign key
   dropped: what its per-row check costs the database.

    .venv/bin/python bench/generation.py [--games 1000] [--days 14] [--naive-games 20] [--repeat 3]

BENCH_PG_ADMIN_URL names a database to connect to while creating ours
(default postgresql://postgres@127.0.0.1:5432/postgres).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, text

from support import Stopwatch, migrate, stopwatch, throwaway_database, whole_number  # first: sets sys.path
from bookingapp import create_app
from bookingapp.extensions import db
from bookingapp.services.catalog import list_active_games
from bookingapp.services.games import create_game
from bookingapp.models import Slot
from bookingapp.services import bulk, generation as generator
from bookingapp.core import engine, window
from bookingapp.core.clock import ManualClock

UTC = timezone.utc
# A Monday whose 14-day window holds Europe's spring-forward (28 March) and
# Lord Howe's half-hour fall-back (4 April): the slow DST path is part of the bill.
START = datetime(2027, 3, 22, 9, 30, tzinfo=UTC)
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Thirteen slots a day each, in shapes real venues use.
SHAPES = (
    ("Europe/London", 60, 0, [["10:00", "23:00"]]),
    ("America/New_York", 50, 10, [["10:00", "23:00"]]),
    ("Europe/Berlin", 60, 0, [["10:00", "14:00"], ["15:00", "24:00"]]),
    ("Australia/Lord_Howe", 60, 0, [["17:00", "06:00"]]),  # runs past midnight
    ("Asia/Kolkata", 45, 15, [["09:00", "22:00"]]),
)


@dataclass
class Row:
    name: str
    games: int
    slots: int
    watch: Stopwatch
    target: str = ""

    @property
    def seconds(self) -> float:
        return self.watch.seconds

    @property
    def client_cpu(self) -> float:
        return self.watch.client_cpu

    @property
    def server_cpu(self) -> float | None:
        return self.watch.server_cpu

    @property
    def rate(self) -> float:
        return self.slots / self.seconds if self.seconds else 0.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    count = whole_number(1, 100_000)
    parser.add_argument("--games", type=count, default=1000, help="games to fill (default 1000)")
    parser.add_argument("--days", type=whole_number(1, 366), default=14, help="window in days (default 14)")
    parser.add_argument(
        "--naive-games", type=count, default=20, help="games filled the naive way (default 20)"
    )
    parser.add_argument(
        "--repeat", type=whole_number(1, 100), default=3, help="runs of each measurement; the fastest counts"
    )
    args = parser.parse_args(argv)
    if args.naive_games > args.games:
        parser.error("--naive-games cannot be more than --games")
    return args


# --- the data -------------------------------------------------------------------------

def make_app(url: str, clock: ManualClock):
    """The app on the throw-away database: no Redis, no background maintenance."""
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "SLOTS_MAINTENANCE_ENABLED": False},
        clock=clock,
    )


def seed_games(count: int) -> None:
    """Create ``count`` games through the service layer, cycling through SHAPES."""
    for n in range(count):
        zone, slot, gap, ranges = SHAPES[n % len(SHAPES)]
        create_game(db.session, {
            "name": f"Bench game {n + 1}", "timezone": zone, "slot_minutes": slot,
            "gap_minutes": gap, "capacity": 6, "weekly_hours": {day: ranges for day in WEEK},
        })


def reset_slots() -> None:
    """Empty the slots and forget every watermark, as before the first fill."""
    db.session.execute(text("TRUNCATE slots RESTART IDENTITY CASCADE"))
    db.session.execute(text("UPDATE games SET generated_through = NULL"))
    db.session.commit()
    db.session.expire_all()


def slot_count() -> int:
    """How many slots are stored."""
    return db.session.scalar(select(func.count()).select_from(Slot))


# --- the measurements ----------------------------------------------------------------

def engine_rows(games, now: datetime, days: int) -> list[bulk.SlotRow]:
    """Every row of every game's window, computed as the generator does."""
    rows: list[bulk.SlotRow] = []
    for game in games:
        rows.extend(generator.plan_game(game, now=now, default_days=days, repair=True).rows())
    return rows


def measure_engine(clock: ManualClock, days: int) -> tuple[Row, list[bulk.SlotRow]]:
    """Compute every window without touching the database; return the rows too."""
    games = list_active_games(db.session)
    with stopwatch(database=False) as watch:
        rows = engine_rows(games, clock.now(), days)
    return Row("engine alone (no database)", len(games), len(rows), watch), rows


def measure_pass(name: str, clock: ManualClock, days: int, target: str = "") -> Row:
    """One real pass over the active games, as `slots generate` and the daily run make it."""
    db.session.remove()  # a fresh session, as a background pass gets
    with stopwatch() as watch:
        result = generator.ensure_active_games(db.session, now=clock.now(), options=generator.PassOptions(days))
    return Row(name, result.games_checked, result.slots_created, watch, target)


def measure_writer(name: str, write, rows: list[bulk.SlotRow]) -> Row:
    """Write precomputed ``rows`` from empty with ``write``, a batch of games per transaction."""
    reset_slots()
    batches = _batches(sorted(rows, key=lambda r: (r[0], r[1])), generator.BATCH_GAMES)
    created = 0
    with stopwatch() as watch:
        for batch in batches:
            created += sum(write(batch).values())
            db.session.commit()
    return Row(name, len({r[0] for r in rows}), created, watch)


def _batches(rows: list[bulk.SlotRow], games_per_batch: int) -> list[list[bulk.SlotRow]]:
    batches: list[list[bulk.SlotRow]] = []
    seen: list[uuid.UUID] = []
    for row in rows:
        if not seen or seen[-1] != row[0]:
            seen.append(row[0])
            if (len(seen) - 1) % games_per_batch == 0:
                batches.append([])
        batches[-1].append(row)
    return batches


def measure_naive(clock: ManualClock, days: int, count: int) -> Row:
    """Fill the first ``count`` games from empty the naive way."""
    reset_slots()
    db.session.remove()
    games = list_active_games(db.session)[:count]
    with stopwatch() as watch:
        created = sum(naive_fill(game, clock.now(), days) for game in games)
    return Row("naive get-or-create per slot", len(games), created, watch)


def naive_fill(game, now: datetime, days: int) -> int:
    """Fill one game as the Django original did: per slot a SELECT, then an INSERT."""
    today = window.local_today(now, game.timezone)
    first, last = window.window_dates(today, days)
    created = 0
    for starts_at, ends_at in engine.slots_between(game.schedule(), first, last):
        found = db.session.scalars(
            select(Slot).where(Slot.game_id == game.id, Slot.starts_at == starts_at)
        ).first()
        if found is None:
            db.session.add(Slot(game_id=game.id, starts_at=starts_at, ends_at=ends_at,
                                capacity=game.capacity, booked=0))
            db.session.flush()
            created += 1
    game.generated_through = last
    db.session.commit()
    return created


def run_all(args: argparse.Namespace, clock: ManualClock) -> dict[str, Row]:
    """Every measurement, ``--repeat`` times; the fastest of each is kept."""
    seed_games(args.games)
    results: dict[str, Row] = {}
    for _ in range(args.repeat):
        reset_slots()
        engine_row, rows = measure_engine(clock, args.days)
        _keep_best(results, "engine", engine_row)
        cold = measure_pass("cold fill (ensure_games)", clock, args.days, ">= 100,000 slots/s")
        check_cold_fill(cold, len(rows))
        _keep_best(results, "cold", cold)
        clock.advance(days=1)
        _keep_best(results, "warm", measure_pass("warm top-up, +1 day", clock, args.days, "< 1 s"))
        _keep_best(results, "noop", measure_pass("no-op pass, same day", clock, args.days))
    for _ in range(args.repeat):
        for key, name, write in writers():
            _keep_best(results, key, measure_writer(name, write, rows))
        _keep_best(results, "naive", measure_naive(clock, args.days, args.naive_games))
    drop_foreign_key()  # last: what the slots -> games check costs, for reference only
    copy_fresh = writers()[0][2]
    for _ in range(args.repeat):
        _keep_best(results, "no-fk", measure_writer("  same, slots->games FK dropped", copy_fresh, rows))
    return results


def drop_foreign_key() -> None:
    """Drop the slots -> games foreign key of this throw-away database."""
    db.session.execute(text("ALTER TABLE slots DROP CONSTRAINT fk_slots_game_id_games"))
    db.session.commit()


def _keep_best(results: dict[str, Row], key: str, row: Row) -> None:
    if key not in results or row.seconds < results[key].seconds:
        results[key] = row


def writers():
    """The three ways the generator can write rows, each as ``write(rows) -> Counter``."""
    def cursor():
        return db.session.connection().connection.driver_connection.cursor()

    def copy_fresh(rows):
        with cursor() as cur:
            return bulk.copy_fresh(cur, rows)

    def merge(rows):
        with cursor() as cur:
            return bulk.merge_rows(cur, rows)

    return (
        ("copy", "writer: COPY into slots", copy_fresh),
        ("merge", "writer: COPY, INSERT ON CONFLICT", merge),
        ("core", "writer: Core executemany", lambda rows: bulk.insert_rows(db.session, rows)),
    )


def check_cold_fill(row: Row, expected: int) -> None:
    """Refuse to report a rate for a fill that did not write what the engine computed."""
    stored = slot_count()
    if not row.slots == stored == expected:
        raise SystemExit(f"bench: cold fill wrote {row.slots} slots, {stored} stored, {expected} expected")


# --- the report ------------------------------------------------------------------------

def print_report(args: argparse.Namespace, results: dict[str, Row]) -> None:
    print(f"Slot generation on PostgreSQL: {args.games} games x {args.days} days, "
          f"from {START:%Y-%m-%d %H:%M} UTC, best of {args.repeat}")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end "
          "(other work on the machine slows the wall-clock figures, not the CPU ones)")
    print()
    print(f"{'benchmark':<34} {'games':>6} {'slots':>8} {'seconds':>8} {'slots/s':>10} "
          f"{'app CPU s':>10} {'db CPU s':>9}  target")
    for row in results.values():
        server = f"{row.server_cpu:.2f}" if row.server_cpu is not None else "-"
        print(f"{row.name:<34} {row.games:>6} {row.slots:>8} {row.seconds:>8.3f} {row.rate:>10,.0f} "
              f"{row.client_cpu:>10.2f} {server:>9}  {row.target}")
    print()
    print_targets(results)
    print()
    print_comparisons(results)


def print_targets(results: dict[str, Row]) -> None:
    cold, warm, naive = results["cold"], results["warm"], results["naive"]
    ratio = cold.rate / naive.rate if naive.rate else float("inf")
    print("Targets")
    _verdict(f"cold fill {cold.rate:,.0f} slots/s", cold.rate >= 100_000, ">= 100,000 slots/s")
    if cold.server_cpu is not None:
        one_core = cold.slots / (cold.client_cpu + cold.server_cpu)
        core_each = cold.slots / max(cold.client_cpu, cold.server_cpu)
        print(f"       CPU: app {cold.client_cpu:.2f} s + database {cold.server_cpu:.2f} s; "
              f"unhindered that is {one_core:,.0f} (one core) to {core_each:,.0f} slots/s (a core each)")
    _verdict(f"warm top-up of {warm.games} games {warm.seconds:.3f} s", warm.seconds < 1, "< 1 s")
    _verdict(f"cold fill is {ratio:,.0f}x the naive way", ratio >= 50, ">= 50x")


def print_comparisons(results: dict[str, Row]) -> None:
    cold, copy, merge, core = results["cold"], results["copy"], results["merge"], results["core"]
    print("Side by side")
    print(f"  COPY into slots is {copy.rate / merge.rate:.1f}x COPY + INSERT ON CONFLICT "
          f"and {copy.rate / core.rate:.1f}x Core executemany")
    print(f"  the engine is {results['engine'].client_cpu / cold.client_cpu:.0%} of the cold fill's app CPU")
    if cold.server_cpu is not None:
        share = cold.server_cpu / (cold.client_cpu + cold.server_cpu)
        print(f"  the database does {share:.0%} of the cold fill's CPU work")
    fk = results["no-fk"]
    if copy.server_cpu and fk.server_cpu is not None:
        print(f"  the per-row slots -> games foreign key check is {1 - fk.server_cpu / copy.server_cpu:.0%} "
              "of the database CPU of COPY into slots")


def _verdict(what: str, ok: bool, target: str) -> None:
    print(f"  {'ok  ' if ok else 'MISS'} {what} (target {target})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    clock = ManualClock(START)
    with throwaway_database() as url:
        app = make_app(url, clock)
        with app.app_context():
            migrate()
            # A log line per game would measure the terminal, not the generator.
            logging.getLogger("bookingapp").setLevel(logging.WARNING)
            results = run_all(args, clock)
            db.session.remove()
            db.engine.dispose()
    print_report(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
