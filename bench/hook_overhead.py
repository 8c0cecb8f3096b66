"""What the daily request hook costs, measured with wrk against a real gunicorn.

Two gunicorns serve the same app and database, one with the hook on (its day already
done) and one with it off; wrk loads them in turn, interleaved, so drift hits both
alike. Then, on the hook-on server, p99 latency while idle is compared with p99 while a
heavy daily run is in progress in one of its workers, again interleaved round by round.

    .venv/bin/python bench/hook_overhead.py [--rounds 5] [--seconds 5] [--games 1500]

Needs PostgreSQL and Redis as the tests do (TEST_PG_ADMIN_URL, TEST_REDIS_URL); creates
and drops a database of its own; installs wrk with apt-get if it is missing.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
UTC = timezone.utc
START = datetime(2027, 1, 13, 9, 30, tzinfo=UTC)
# The cheapest request that still goes through Flask and the hook: the hook's share is largest.
PAGE = "/bench-no-such-page"
# Latency is compared below saturation (one connection per worker): p99 is then the
# time a request takes, not the time it queues behind 15 others.
LATENCY_CONNECTIONS = 2
# New days per game each measured daily run writes: several times a real top-up, so
# the run is still going when wrk's window ends (the output says whether it was).
NEW_DAYS = 8
from bookingapp.core.hours import WEEKDAYS  # noqa: E402


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found; installing it with apt-get", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def create_database() -> tuple[str, str]:
    name = f"bookingapp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str, games: int) -> None:
    """Migrate the database and create the games (no slots yet)."""
    from flask_migrate import upgrade

    from bookingapp import create_app
    from bookingapp.extensions import db
    from bookingapp.services.games import create_game

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "SLOTS_MAINTENANCE_ENABLED": False})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        for n in range(games):
            create_game(db.session, {
                "name": f"Bench game {n}", "timezone": "Europe/London", "slot_minutes": 60, "capacity": 4,
                "weekly_hours": {day: [["10:00", "22:00"]] for day in WEEKDAYS},
            })
        db.engine.dispose()


class Server:
    def __init__(self, url: str, clock_file: Path | None, port: int, hook: bool, log: Path):
        self.port = port
        self.clock_file = clock_file
        self.prefix = f"bookingapp-bench-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": self.prefix,
            "SLOTS_CLOCK_FILE": str(clock_file or ""), "SLOTS_MAINTENANCE_ENABLED": "true" if hook else "false",
            "SECRET_KEY": "bench",
        }
        args = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"]
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                requests.get(f"{self.url}/healthz", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.1)
        sys.exit(f"gunicorn on {port} did not start; see {log}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time its workers have used so far (user + system)."""
        tick = os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        total = 0
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{self.prefix}:*"))
        if keys:
            client.delete(*keys)


def wrk(binary: str, url: str, seconds: int, connections: int = 16, threads: int = 2) -> tuple[float, float, int]:
    """Requests/s, p99 latency (ms) and the number of requests of one wrk run."""
    out = subprocess.run(
        [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url + PAGE],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    done = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], done


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def set_clock(path: Path, now: datetime) -> None:
    staging = path.with_suffix(".new")
    staging.write_text(now.isoformat())
    os.replace(staging, path)


def daily_state(url: str, key: str) -> str | None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        row = conn.execute(
            "SELECT status FROM maintenance_runs WHERE trigger = 'daily' AND day_key = %s ORDER BY id DESC LIMIT 1",
            (key,),
        ).fetchone()
    return row[0] if row else None


def execute(url: str, sql: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(sql)


def query_date(url: str, sql: str):
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        return conn.execute(sql).fetchone()[0]


def wait_for(url: str, key: str, status: str, timeout: float = 300) -> float:
    started = time.monotonic()
    while daily_state(url, key) != status:
        if time.monotonic() - started > timeout:
            sys.exit(f"daily run {key} never reached {status}")
        time.sleep(0.05)
    return time.monotonic() - started


def hook_cost_ns(blocks: int = 30, calls: int = 20_000) -> float:
    """What the hook adds to Flask's before-request step once the day is done (ns, on minus off)."""
    apps = {"on": _bench_app(True), "off": _bench_app(False)}
    timings: dict[str, list[float]] = {"on": [], "off": []}
    for n in range(blocks):
        for label in (("on", "off") if n % 2 == 0 else ("off", "on")):
            app = apps[label]
            with app.test_request_context(PAGE):
                started = time.perf_counter_ns()
                for _ in range(calls):
                    app.preprocess_request()
                timings[label].append((time.perf_counter_ns() - started) / calls)
    return statistics.median(timings["on"]) - statistics.median(timings["off"])


def _bench_app(hook: bool):
    from bookingapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": None, "SLOTS_MAINTENANCE_ENABLED": hook})
    if hook:
        app.extensions["slots_daily"].recheck_at = float("inf")  # what a done day looks like
    return app


def in_process_ab(blocks: int = 40, per_block: int = 1000) -> tuple[float, float]:
    """Median microseconds per whole WSGI request, hook on (day done) vs off, blocks alternating."""
    from werkzeug.test import EnvironBuilder

    apps = {"on": _bench_app(True), "off": _bench_app(False)}
    environ = EnvironBuilder(path=PAGE).get_environ()
    timings: dict[str, list[float]] = {"on": [], "off": []}

    def serve(app) -> None:
        body = app.wsgi_app(dict(environ), lambda status, headers, exc_info=None: None)
        for _ in body:
            pass
        body.close()

    for n in range(blocks):
        for label in (("on", "off") if n % 2 == 0 else ("off", "on")):
            started = time.perf_counter()
            for _ in range(per_block):
                serve(apps[label])
            timings[label].append((time.perf_counter() - started) / per_block * 1e6)
    return statistics.median(timings["on"]), statistics.median(timings["off"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=16, help="interleaved rounds per comparison")
    parser.add_argument("--seconds", type=int, default=3, help="length of each wrk run")
    parser.add_argument("--games", type=int, default=600, help="games the daily runs fill")
    args = parser.parse_args()
    binary = ensure_wrk()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (other work on the machine shows here)")
    name, url = create_database()
    workdir = Path(tempfile.mkdtemp(prefix="hook-bench-"))
    clock_file = workdir / "now"
    set_clock(clock_file, START)
    servers = []
    try:
        prepare(url, args.games)
        # The on/off pair runs on the real clock, as production does; the latency
        # servers read file clocks, so this script can start daily runs at will.
        on = Server(url, None, free_port(), True, workdir / "on.log")
        off = Server(url, None, free_port(), False, workdir / "off.log")
        servers = [on, off]
        compare_on_off(binary, url, on, off, args)
        on.stop()
        off.stop()
        servers = [Server(url, clock_file, free_port(), True, workdir / "busy.log")]
        compare_idle_busy(binary, url, servers[0], clock_file, args)
        servers[0].stop()
        other_clock = workdir / "now-b"
        set_clock(other_clock, START)
        servers = [Server(url, file, free_port(), True, workdir / f"{file.name}.log") for file in (clock_file, other_clock)]
        compare_paired(binary, url, servers, args)
    finally:
        for server in servers:
            server.stop()
        drop_database(name)
        shutil.rmtree(workdir, ignore_errors=True)


ROUNDS_OFF: list[tuple[float, float]] = []


def compare_on_off(binary: str, url: str, on: Server, off: Server, args) -> None:
    from bookingapp.core.boundary import daily_boundary

    requests.get(on.url + PAGE)
    took = wait_for(url, daily_boundary(["Europe/London"], datetime.now(UTC)).key, "succeeded")
    print(f"day's first run: {args.games} games, 7 days, {took:.1f}s; waiting for every worker to learn it")
    time.sleep(6)  # past SLOTS_RECHECK_SECONDS, so every worker's memo says "done"
    both(binary, on, off, 2)  # warm up
    rps, cpu = [], []
    print("hook on (day done) vs off, 2 sync workers each, loaded at the same time (wrk -t1 -c8 each):")
    for n in range(args.rounds):
        got = both(binary, on, off, args.seconds)
        rps.append(got["on"][0] / got["off"][0])
        cpu.append(got["off"][3] / got["on"][3])  # CPU per request: off / on = capacity on / off
        ROUNDS_OFF.append(got["off"])
        print(f"  round {n + 1:2}: req/s on {got['on'][0]:6.0f} off {got['off'][0]:6.0f} ratio {rps[-1]:.3f}   "
              f"worker CPU per request on {got['on'][3]:5.0f} us off {got['off'][3]:5.0f} us ratio {cpu[-1]:.3f}")
    print(f"requests/s ratio on/off: median {statistics.median(rps):.3f} (need >= 0.98)")
    print(f"capacity ratio on/off from worker CPU per request: median {statistics.median(cpu):.3f} "
          "(the same figure, robust to other work on the machine)")
    cost = hook_cost_ns()
    on_us, off_us = in_process_ab()
    print(f"in process: the hook adds {cost:.0f} ns to a request once the day is done (Flask's hook dispatch "
          f"included); a whole request (404 page) takes {on_us:.1f} us on vs {off_us:.1f} us off, blocks alternating: "
          f"capacity ratio on/off {off_us / on_us:.3f}; from the hook's cost alone {off_us / (off_us + cost / 1000):.4f}")


def both(binary: str, on: Server, off: Server, seconds: int) -> dict[str, tuple[float, float, int, float]]:
    """Load both servers at once; per server: req/s, p99 ms, requests, worker CPU us per request."""
    before = {"on": on.cpu_seconds(), "off": off.cpu_seconds()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {label: pool.submit(wrk, binary, server.url, seconds, 8, 1) for label, server in (("on", on), ("off", off))}
        got = {label: run.result() for label, run in runs.items()}
    after = {"on": on.cpu_seconds(), "off": off.cpu_seconds()}
    return {label: (*got[label], (after[label] - before[label]) * 1e6 / got[label][2]) for label in got}


def compare_idle_busy(binary: str, url: str, on: Server, clock_file: Path, args) -> None:
    idle, busy, rows = [], [], []
    rounds = max(3, args.rounds // 2)
    now, days = START, 7
    requests.get(on.url + PAGE)
    wait_for(url, f"{START.date().isoformat()}@Europe/London", "succeeded")
    time.sleep(6)
    for n in range(rounds):
        idle.append(wrk(binary, on.url, args.seconds, LATENCY_CONNECTIONS)[1])
        now = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC) + timedelta(seconds=5)
        days += NEW_DAYS - 1  # with the day that turned: NEW_DAYS new days per game, a run longer than wrk's
        execute(url, f"UPDATE games SET days_ahead = {days}")
        key = f"{now.date().isoformat()}@Europe/London"
        set_clock(clock_file, now)
        requests.get(on.url + PAGE)
        wait_for(url, key, "running", timeout=30)
        busy.append(wrk(binary, on.url, args.seconds, LATENCY_CONNECTIONS)[1])
        covered = daily_state(url, key) == "running"
        took = wait_for(url, key, "succeeded")
        rows.append(
            f"  round {n + 1}: idle p99 {idle[-1]:6.2f} ms   during run p99 {busy[-1]:6.2f} ms   "
            f"ratio {busy[-1] / idle[-1]:.2f}   run still going when wrk ended: {covered} (+{took:.1f}s)"
        )
    print(f"p99 (wrk -t2 -c{LATENCY_CONNECTIONS}) idle vs during a daily run ({args.games} games x {NEW_DAYS} new days per run):")
    print("\n".join(rows))
    print(f"p99 ratio busy/idle: median {statistics.median(b / i for b, i in zip(busy, idle)):.2f} (need <= 1.2)")


def compare_paired(binary: str, url: str, servers: list[Server], args) -> None:
    """p99 of a server whose worker runs the day vs an identical idle one, loaded at the same time.

    Whatever else the machine does hits both alike; what differs is the run inside the
    busy server's worker. The two swap roles every round.
    """
    for server in servers:
        requests.get(server.url + PAGE)
    time.sleep(6)
    ratios, rows = [], []
    day = datetime(2027, 2, 1, 0, 0, 5, tzinfo=UTC)
    for n in range(max(3, args.rounds // 2)):
        busy, idle = servers if n % 2 == 0 else servers[::-1]
        day += timedelta(days=1)
        # Each run writes NEW_DAYS new days per game, as in the sequential rounds.
        through = query_date(url, "SELECT max(generated_through) FROM games")
        execute(url, f"UPDATE games SET days_ahead = {(through - day.date()).days + 1 + NEW_DAYS}")
        set_clock(busy.clock_file, day)
        requests.get(busy.url + PAGE)
        key = f"{day.date().isoformat()}@Europe/London"
        wait_for(url, key, "running", timeout=30)
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = [pool.submit(wrk, binary, s.url, args.seconds, LATENCY_CONNECTIONS) for s in (busy, idle)]
            busy_p99, idle_p99 = (r.result()[1] for r in runs)
        covered = daily_state(url, key) == "running"
        wait_for(url, key, "succeeded")
        ratios.append(busy_p99 / idle_p99)
        rows.append(f"  round {n + 1}: idle p99 {idle_p99:6.2f} ms   busy p99 {busy_p99:6.2f} ms   "
                    f"ratio {ratios[-1]:.2f}   run still going when wrk ended: {covered}")
    print("p99 of a server running the day vs an identical idle one, loaded at the same time:")
    print("\n".join(rows))
    print(f"p99 ratio busy/idle, paired: median {statistics.median(ratios):.2f} (need <= 1.2)")


if __name__ == "__main__":
    main()
