"""Booking under load: gunicorn with several workers on PostgreSQL, 1,000 games × 14 days.

One run, side by side, on a throw-away database built by the migrations (dropped at the end):

1. the slot listing query in-process — ``list_bookable_slots`` over a game's whole
   window, p50/p99, against the same query with index scans switched off, and the
   plan PostgreSQL picks (EXPLAIN ANALYZE);
2. gunicorn (``--workers``, sync) serving the game page and ``GET /api/games/<id>/slots``
   for random games under wrk (p50/p99, req/s), after one cold view of every game page
   (the first view runs the per-game window check);
3. a booking storm — client threads racing ``POST /api/bookings`` over a few hot slots,
   then a check that every slot's seats equal its confirmed parties and none is oversold.

    .venv/bin/python bench/booking_load.py [--games 1000] [--days 14] [--seconds 10] [--connections 32]

BENCH_PG_ADMIN_URL names a database to connect to while creating ours (default
postgresql://postgres@127.0.0.1:5432/postgres); BENCH_REDIS_URL the Redis to use
(default redis://127.0.0.1:6379/15, keys under a prefix of the run's own). Needs ``wrk``.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import signal
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import redis
import requests
from sqlalchemy import func, select, text

from support import migrate, throwaway_database, whole_number  # first: sets sys.path
from loadgen import forget_access_log, run_wrk, server_times, start_gunicorn

from bookingapp import create_app
from bookingapp.services import bookings as service
from bookingapp.services.catalog import list_active_games
from bookingapp.extensions import db
from bookingapp.services.games import create_game
from bookingapp.models import Booking, BookingStatus, Game, Slot
from bookingapp.core import window
from bookingapp.services import generation as generator

UTC = timezone.utc
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Thirteen slots a day each; every fourth game sells private sessions.
SHAPES = (
    ("Europe/London", 60, 0, [["10:00", "23:00"]]),
    ("America/New_York", 50, 10, [["10:00", "23:00"]]),
    ("Europe/Berlin", 60, 0, [["10:00", "14:00"], ["15:00", "24:00"]]),
    ("Australia/Sydney", 45, 15, [["09:00", "22:00"]]),
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=whole_number(1, 100_000), default=1000, help="games to create (default 1000)")
    parser.add_argument("--days", type=whole_number(1, 366), default=14, help="window length in days (default 14)")
    parser.add_argument("--workers", type=whole_number(1, 64), default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--seconds", type=whole_number(1, 600), default=10, help="wrk duration per scenario (default 10)")
    parser.add_argument("--connections", type=whole_number(2, 1000), default=32, help="wrk connections (default 32)")
    parser.add_argument("--storm-slots", type=whole_number(1, 10_000), default=100,
                        help="hot slots in the booking storm (default 100)")
    parser.add_argument("--storm-attempts", type=whole_number(1, 1_000_000), default=3000,
                        help="booking attempts (default 3000)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk)")
    return args


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


# --- data ------------------------------------------------------------------------------

def seed(args, now: datetime) -> list[Game]:
    """Create the games and write their windows; print how long it took."""
    started = time.perf_counter()
    for n in range(args.games):
        zone, minutes, gap, hours = SHAPES[n % len(SHAPES)]
        create_game(db.session, {
            "name": f"Bench game {n:04d}", "timezone": zone, "slot_minutes": minutes, "gap_minutes": gap,
            "capacity": 4, "days_ahead": args.days, "booking_mode": "private" if n % 4 == 3 else "shared",
            "weekly_hours": {d: hours for d in WEEK},
        })
    result = generator.ensure_active_games(db.session, now=now, options=generator.PassOptions(args.days))
    games = list_active_games(db.session)
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    print(f"seeded {len(games)} games, {result.slots_created} slots in {time.perf_counter() - started:.1f} s")
    return games


# --- 1. the listing query in-process ----------------------------------------------------

def time_listing(games: list[Game], now: datetime, days: int, rounds: int, *, index: bool) -> list[float]:
    """Seconds per ``list_bookable_slots`` call over a random game's whole window."""
    timings = []
    rng = random.Random(1)
    for _ in range(rounds):
        game = rng.choice(games)
        first, last = window.window_dates(window.local_today(now, game.timezone), days)
        if not index:
            db.session.execute(text("SET LOCAL enable_indexscan = off"))
            db.session.execute(text("SET LOCAL enable_bitmapscan = off"))
            db.session.execute(text("SET LOCAL enable_indexonlyscan = off"))
        started = time.perf_counter()
        service.list_bookable_slots(db.session, game, first, last, now)
        timings.append(time.perf_counter() - started)
        db.session.rollback()
    return timings


def explain_listing(game: Game, now: datetime, days: int) -> str:
    first, last = window.window_dates(window.local_today(now, game.timezone), days)
    lower, upper = window.local_days_bounds(game.timezone, first, last)
    compiled = service.slot_listing_query(game.id, max(lower, now), upper).compile(dialect=db.engine.dialect)
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.params)
    plan = "\n".join(row[0] for row in cursor.fetchall())
    db.session.rollback()
    return plan


# --- 2. gunicorn under wrk --------------------------------------------------------------

def cold_views(base: str, games: list[Game], threads: int) -> list[float]:
    """Time the first view of every game page (it runs the per-game window check)."""
    def view(slug):
        started = time.perf_counter()
        response = requests.get(f"{base}/games/{slug}", timeout=30)
        response.raise_for_status()
        return time.perf_counter() - started

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(view, [g.slug for g in games]))


# --- 3. the booking storm ---------------------------------------------------------------

def booking_storm(args, base: str, slot_ids: list[int]) -> dict:
    rng = random.Random(7)
    attempts = [(rng.choice(slot_ids), rng.choice((1, 1, 2))) for _ in range(args.storm_attempts)]

    def book(attempt):
        slot_id, party = attempt
        started = time.perf_counter()
        response = requests.post(f"{base}/api/bookings", timeout=30, json={
            "slot_id": slot_id, "name": "Storm", "email": "storm@example.com", "party_size": party})
        return response.status_code, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(args.connections) as pool:
        outcomes = list(pool.map(book, attempts))
    elapsed = time.perf_counter() - started
    codes: dict[int, int] = {}
    for code, _ in outcomes:
        codes[code] = codes.get(code, 0) + 1
    latencies = [t for _, t in outcomes]
    return {"codes": codes, "rps": len(outcomes) / elapsed, "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99)}


def storm_consistency(slot_ids: list[int]) -> tuple[int, int, int]:
    """(seats booked, seats of confirmed bookings, slots over capacity) over the hot slots."""
    db.session.expire_all()
    booked = db.session.scalar(select(func.sum(Slot.booked)).where(Slot.id.in_(slot_ids)))
    confirmed = db.session.scalar(select(func.sum(Booking.party_size)).where(
        Booking.slot_id.in_(slot_ids), Booking.status == BookingStatus.CONFIRMED))
    over = db.session.scalar(select(func.count()).where(Slot.id.in_(slot_ids), Slot.booked > Slot.capacity))
    return booked or 0, confirmed or 0, over


def hot_slots(games: list[Game], now: datetime, count: int) -> list[int]:
    """One slot tomorrow for each of the first ``count`` games: a popular evening everywhere."""
    rows = db.session.execute(
        select(Slot.game_id, Slot.id).where(Slot.game_id.in_([g.id for g in games[:count]]),
                                            Slot.starts_at > now + timedelta(days=1))
        .order_by(Slot.game_id, Slot.starts_at)
    )
    first_per_game: dict[uuid.UUID, int] = {}
    for game_id, slot_id in rows:
        first_per_game.setdefault(game_id, slot_id)
    return sorted(first_per_game.values())


# --- the run ----------------------------------------------------------------------------

def main(argv=None) -> None:
    args = parse_args(argv)
    # A plain SIGTERM would skip the clean-up below and leave gunicorn and the database behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    with throwaway_database("bookingapp_bookload") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix})
        logging.getLogger("bookingapp").setLevel(logging.WARNING)  # not a line per game while seeding
        server = None
        try:
            with app.app_context():
                migrate()
                now = datetime.now(UTC)
                games = seed(args, now)
                report_listing(args, games, now)
                env = {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix,
                       "SLOTS_DAYS_TO_MAINTAIN": str(args.days)}
                server, base = start_gunicorn(args.workers, env, f"/api/games/{games[0].id}/slots")
                report_http(args, base, games)
                report_storm(args, base, games, now)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            _forget(prefix)


def _forget(prefix: str) -> None:
    forget_access_log()
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def report_listing(args, games, now) -> None:
    with_index = time_listing(games, now, args.days, 2000, index=True)
    without = time_listing(games, now, args.days, 100, index=False)
    print(f"\n1. listing query, in-process (list_bookable_slots over a {args.days}-day window):")
    print(f"   index (game_id, starts_at): p50 {ms(percentile(with_index, 50))}  p99 {ms(percentile(with_index, 99))}")
    print(f"   index scans off           : p50 {ms(percentile(without, 50))}  p99 {ms(percentile(without, 99))}")
    print(f"   ratio p50 without/with    : {percentile(without, 50) / percentile(with_index, 50):.0f}x")
    print("\n   EXPLAIN (ANALYZE, BUFFERS) of the listing query:")
    print("   " + explain_listing(games[0], now, args.days).replace("\n", "\n   "))


def report_http(args, base, games) -> None:
    server_times()
    cold = cold_views(base, games, threads=8)
    cold_server = server_times()
    print(f"\n2. gunicorn, {args.workers} workers, wrk -t2 -c{args.connections} -d{args.seconds}s, random games"
          " (client p50/p99 include queueing; server = time inside the worker):")
    print(f"   first view of each game page ({len(cold)}): client p50 {ms(percentile(cold, 50))}"
          f"  server p50 {ms(percentile(cold_server, 50))}  p99 {ms(percentile(cold_server, 99))}")
    load = {"seconds": args.seconds, "connections": args.connections}
    page = run_wrk(base, [f"/games/{g.slug}" for g in games], **load)
    page_server = server_times()
    api = run_wrk(base, [f"/api/games/{g.id}/slots" for g in games], **load)
    api_server = server_times()
    for label, figures, inside in (("game page         ", page, page_server), ("GET /api/.../slots", api, api_server)):
        print(f"   {label}: {figures['rps']:6.0f} req/s  client p50 {ms(figures['p50'])}  p99 {ms(figures['p99'])}"
              f"  server p50 {ms(percentile(inside, 50))}  p99 {ms(percentile(inside, 99))}  non-2xx {figures['errors']}")
    print(f"   ratio req/s api/page: {api['rps'] / page['rps']:.2f}")


def report_storm(args, base, games, now) -> None:
    slot_ids = hot_slots(games, now, args.storm_slots)
    server_times()
    storm = booking_storm(args, base, slot_ids)
    inside = server_times()
    booked, confirmed, over = storm_consistency(slot_ids)
    print(f"\n3. booking storm: {args.storm_attempts} POST /api/bookings from {args.connections} threads "
          f"on {len(slot_ids)} hot slots of 4 seats (a quarter private: one group takes the slot):")
    print(f"   {storm['rps']:.0f} req/s  client p50 {ms(storm['p50'])}  p99 {ms(storm['p99'])}"
          f"  server p50 {ms(percentile(inside, 50))}  p99 {ms(percentile(inside, 99))}  status codes {storm['codes']}")
    print(f"   seats booked {booked} == seats of confirmed bookings {confirmed}; slots over capacity: {over}")
    if booked != confirmed or over or set(storm["codes"]) - {201, 409}:
        raise SystemExit("booking storm left inconsistent seats or unexpected status codes")


if __name__ == "__main__":
    main()
