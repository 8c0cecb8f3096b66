"""Generation at scale: cold fill, +1 day, no-op pass and memory at 1,000 / 10,000 / 100,000
games, each beside a bare binary COPY of the same rows; the first page of ``GET /api/games``;
and the daily +1-day top-up through the request hook on gunicorn with 1 and with 4 workers.

    .venv/bin/python bench/scale.py [--sizes 1000:14,10000:14,100000:7] [--workers 1,4] [--skip-daily]

Each size runs in a process of its own (``--one``), so its peak RSS is its own. The pass
is the one `slots generate` and the daily run take (``ensure_active_games`` on the app
session). The bare COPY is the cold fill's own rows, dumped and copied back into an empty
``slots`` in one statement: what the database alone needs to store them. The daily runs
use the largest size's database, one more day each, with 8 clients sending requests so
that every worker takes units. BENCH_PG_ADMIN_URL as in ``support``; Redis from
BENCH_REDIS_URL (default redis://127.0.0.1:6379/14).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import redis
import requests
from sqlalchemy import func, insert, select, text

from support import ROOT, migrate, stopwatch, throwaway_database  # first: sets sys.path
from loadgen import free_port
from bookingapp import create_app
from bookingapp.core.clock import ManualClock
from bookingapp.extensions import db
from bookingapp.models import Game, Slot
from bookingapp.services import generation

UTC = timezone.utc
START = datetime(2027, 3, 22, 9, 30, tzinfo=UTC)  # a window across Europe's spring-forward
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SHAPES = (  # thirteen slots a day each
    ("Europe/London", 60, 0, [["10:00", "23:00"]]),
    ("America/New_York", 50, 10, [["10:00", "23:00"]]),
    ("Europe/Berlin", 60, 0, [["10:00", "14:00"], ["15:00", "24:00"]]),
    ("Asia/Kolkata", 45, 15, [["09:00", "22:00"]]),
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def seed_games(count: int, days: int) -> None:
    """Insert ``count`` active games in bulk (no slots)."""
    table, now = Game.__table__, datetime.now(UTC)
    for start in range(0, count, 5000):
        db.session.execute(insert(table), [_game_row(n, days, now) for n in range(start, min(count, start + 5000))])
    db.session.commit()
    db.session.execute(text("ANALYZE games"))
    db.session.commit()


def _game_row(n: int, days: int, now: datetime) -> dict:
    zone, minutes, gap, hours = SHAPES[n % len(SHAPES)]
    return {
        "id": uuid.uuid4(), "name": f"Game {n:06d}", "slug": f"game-{n:06d}", "description": "", "timezone": zone,
        "slot_minutes": minutes, "gap_minutes": gap, "capacity": 4, "days_ahead": days, "min_notice_minutes": 0,
        "cancel_cutoff_minutes": 0, "booking_mode": "shared", "min_party": 1,
        "weekly_hours": {d: hours for d in WEEK}, "closures": [], "is_active": True,
        "created_at": now, "updated_at": now,
    }


def one_pass(clock: ManualClock, days: int) -> dict:
    db.session.remove()
    with stopwatch() as watch:
        result = generation.ensure_active_games(db.session, now=clock.now(), options=generation.PassOptions(days))
    return {"seconds": watch.seconds, "app_cpu": watch.client_cpu, "db_cpu": watch.server_cpu,
            "slots": result.slots_created, "games": result.games_checked}


def bare_copy() -> dict:
    """Dump every slot, empty the table, and COPY them back in one statement, timed."""
    connection = db.session.connection().connection.driver_connection
    with tempfile.TemporaryFile() as dump:
        with connection.cursor() as cursor:
            with cursor.copy("COPY slots (game_id, starts_at, ends_at, capacity, booked) TO STDOUT (FORMAT BINARY)") as copy:
                for chunk in copy:
                    dump.write(chunk)
            cursor.execute("TRUNCATE slots CASCADE")  # no bookings here
        db.session.commit()
        dump.seek(0)
        with stopwatch() as watch:
            with connection.cursor() as cursor:
                with cursor.copy("COPY slots (game_id, starts_at, ends_at, capacity, booked) FROM STDIN (FORMAT BINARY)") as copy:
                    while chunk := dump.read(1 << 20):
                        copy.write(chunk)
            db.session.commit()
    return {"seconds": watch.seconds, "db_cpu": watch.server_cpu}


def api_first_page(app, requests_count: int = 40) -> float:
    """Server time of ``GET /api/games`` (first page), p50 in ms, through the app in this process."""
    client = app.test_client()
    client.get("/api/games")
    times = []
    for _ in range(requests_count):
        started = time.perf_counter()
        assert client.get("/api/games").status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure_size(games: int, days: int, keep: str | None) -> dict:
    """Every figure of one row of the table, in this process."""
    with throwaway_database("bookingapp_scale") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "SLOTS_MAINTENANCE_ENABLED": False})
        # Two lines a game would measure the terminal, not the generator.
        logging.getLogger("bookingapp").setLevel(logging.WARNING)
        with app.app_context():
            migrate()
            seed_games(games, days)
            rss_before = _peak_rss_mb()
            clock = ManualClock(START)
            row = {"games": games, "days": days, "cold": one_pass(clock, days)}
            row["copy"] = bare_copy()
            clock.advance(days=1)
            row["plus_day"] = one_pass(clock, days)
            row["noop"] = one_pass(clock, days)
            row["rss_mb"], row["rss_before_mb"] = _peak_rss_mb(), rss_before
            row["api_p50_ms"] = api_first_page(app)
            db.session.remove()
            db.engine.dispose()
            if keep:
                _keep_database(url, keep)
    return row


def _keep_database(url: str, path: str) -> None:
    """Hand the database over to the daily-run measurement instead of dropping it."""
    name = url.rsplit("/", 1)[1]
    kept = f"{name}_kept"
    admin = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'ALTER DATABASE "{name}" RENAME TO "{kept}"')
    Path(path).write_text(url.rsplit("/", 1)[0] + "/" + kept)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the daily run through the hook --------------------------------------------------------

def daily_run(url: str, workers: int, now: datetime) -> dict:
    """Start gunicorn, move its clock to ``now`` (one more day), keep requests coming until the run is done."""
    clock_file = Path(tempfile.mkdtemp()) / "clock"
    clock_file.write_text(now.isoformat())
    prefix = f"bookingapp-scale-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix,
           "SLOTS_CLOCK_FILE": str(clock_file), "SLOTS_MAINTENANCE_ENABLED": "true", "SECRET_KEY": "bench",
           "SLOTS_CHECK_INTERVAL": "0", "BOOKING_RATE_LIMIT": "", "BOOKING_LOOKUP_RATE_LIMIT": ""}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                               "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return _drive(server, f"http://127.0.0.1:{port}", url, workers)
    finally:
        server.terminate()
        server.wait(timeout=60)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def _drive(server: subprocess.Popen, base: str, url: str, workers: int) -> dict:
    started, stop, peaks = time.monotonic(), threading.Event(), {}
    clients = [threading.Thread(target=_poke, args=(base, stop), daemon=True) for _ in range(8)]
    for thread in clients:
        thread.start()
    try:
        run = _wait_for_daily(url, started)
        for pid in _children(server.pid):
            peaks[pid] = _vm_hwm_mb(pid)
    finally:
        stop.set()
    return {"workers": workers, "seconds": run["seconds"], "slots": run["slots"], "games": run["games"],
            "units": run["units"], "unit_workers": run["holders"], "peak_worker_rss_mb": max(peaks.values(), default=0)}


def _poke(base: str, stop: threading.Event) -> None:
    session = requests.Session()
    while not stop.is_set():
        try:
            session.get(base + "/no-such-page", timeout=30)
        except requests.RequestException:
            time.sleep(0.05)


def _wait_for_daily(url: str, started: float, timeout: float = 1800) -> dict:
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        last = conn.execute("SELECT coalesce(max(id), 0) FROM maintenance_runs").fetchone()[0]
        while time.monotonic() - started < timeout:
            row = conn.execute("SELECT id, status, games_checked, slots_created FROM maintenance_runs"
                               " WHERE trigger = 'daily' AND id > %s ORDER BY id DESC LIMIT 1", (last,)).fetchone()
            if row and row[1] == "succeeded":
                seconds = time.monotonic() - started
                units, holders = conn.execute("SELECT count(*), count(DISTINCT holder) FROM maintenance_units"
                                              " WHERE run_id = %s", (row[0],)).fetchone()
                return {"seconds": seconds, "games": row[2], "slots": row[3], "units": units, "holders": holders}
            time.sleep(0.2)
    raise SystemExit("the daily run did not finish")


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _vm_hwm_mb(pid: int) -> float:
    found = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(found.group(1)) / 1024 if found else 0.0


# --- printing ---------------------------------------------------------------------------

def print_table(rows: list[dict]) -> None:
    print("\n| games | days | slots | cold fill s | bare COPY s | ratio | +1 day s | no-op s | app / db CPU (no-op) s"
          " | peak RSS MB | /api/games p50 ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        cold, copy, noop = r["cold"], r["copy"], r["noop"]
        print(f"| {r['games']:,} | {r['days']} | {cold['slots']:,} | {cold['seconds']:.1f} | {copy['seconds']:.1f} |"
              f" {cold['seconds'] / copy['seconds']:.2f}× | {r['plus_day']['seconds']:.2f} | {noop['seconds']:.2f} |"
              f" {noop['app_cpu']:.2f} / {noop['db_cpu'] or 0:.2f} | {r['rss_mb']:.0f} | {r['api_p50_ms']:.1f} |")
    print("targets at 100,000 × 7: cold fill ≤ 1.3× bare COPY; no-op ≤ 5 s; peak RSS ≤ 300 MB; /api/games ≤ 50 ms")


def print_daily(rows: list[dict], games: int) -> None:
    print(f"\ndaily +1-day top-up through the hook, {games:,} games:")
    print("| workers | wall s | slots | units | workers that took units | peak worker RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['workers']} | {r['seconds']:.1f} | {r['slots']:,} | {r['units']} | {r['unit_workers']} |"
              f" {r['peak_worker_rss_mb']:.0f} |")
    if len(rows) > 1:
        print(f"speed-up {rows[0]['workers']} -> {rows[-1]['workers']} workers: {rows[0]['seconds'] / rows[-1]['seconds']:.2f}×"
              "  (target with 4 workers at 100,000 games: ≤ 60 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000:14,10000:14,100000:7", help="games:days,…")
    parser.add_argument("--workers", default="1,4", help="gunicorn workers for the daily runs, e.g. 1,4")
    parser.add_argument("--skip-daily", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # games:days, measured in this process
    parser.add_argument("--keep", help=argparse.SUPPRESS)  # where to leave the database's URL
    args = parser.parse_args()
    if args.one:
        games, days = (int(v) for v in args.one.split(":"))
        print(json.dumps(measure_size(games, days, args.keep)))
        return
    sizes = [tuple(int(v) for v in size.split(":")) for size in args.sizes.split(",")]
    keep = None if args.skip_daily else tempfile.mktemp()
    rows = []
    for n, (games, days) in enumerate(sizes):
        command = [sys.executable, __file__, "--one", f"{games}:{days}"]
        if keep and n == len(sizes) - 1:
            command += ["--keep", keep]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
        print(f"measured {games:,} games × {days} days", flush=True)
    print_table(rows)
    if keep:
        _daily_runs(Path(keep).read_text(), sizes[-1][0], [int(w) for w in args.workers.split(",")])


def _daily_runs(url: str, games: int, workers: list[int]) -> None:
    try:
        day = START + timedelta(days=1)
        results = []
        for count in workers:
            day += timedelta(days=1)
            results.append(daily_run(url, count, day))
        print_daily(results, games)
    finally:
        admin = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


if __name__ == "__main__":
    main()
