"""What lazy delivery costs and how fast it sends, against a real gunicorn and a local SMTP server.

1. Requests/s of a page with the outbox check on and nothing due vs OUTBOX_DELIVERY_ENABLED=false:
   two gunicorns (2 sync workers each) on one database, loaded by wrk at the same time,
   round after round, so whatever else the machine does hits both alike.
2. The delivery rate to a local aiosmtpd server (messages/s) for 1,000 due messages, sent by
   the "on" server's workers after their responses while wrk keeps them busy.
3. p99 of a page during that 1,000-message burst vs idle: the bursting server beside an
   identical idle one, loaded at the same time, swapping roles each round.

    .venv/bin/python bench/outbox_delivery.py [--rounds 12] [--seconds 3] [--burst 1000] [--burst-rounds 4]

Needs PostgreSQL and Redis as the tests do (BENCH_PG_ADMIN_URL, TEST_REDIS_URL); creates
and drops a database of its own; installs wrk with apt-get if it is missing.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import redis
import requests
from aiosmtpd.controller import Controller

from support import ROOT, migrate, throwaway_database, whole_number
from loadgen import free_port

from bookingapp.core.hours import WEEKDAYS  # noqa: E402

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
UTC = timezone.utc
PAGE = "/bench-no-such-page"  # the cheapest request through Flask and the hooks: their share is largest
LATENCY_PAGE = "/"  # the home page: a real page, for the latency comparison
LATENCY_CONNECTIONS = 2  # below saturation (one per worker): p99 is a request's time, not its queue


class CountingSmtp:
    """An aiosmtpd server that only counts what it receives (parsing would load this process)."""

    def __init__(self):
        self.port = free_port()
        self.count = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    async def handle_DATA(self, _server, _session, _envelope):
        with self._lock:
            self.count += 1
            self.last_at = time.perf_counter()
            if self.first_at is None:
                self.first_at = self.last_at
        return "250 OK"

    def reset(self) -> None:
        with self._lock:
            self.count, self.first_at, self.last_at = 0, None, None

    def stop(self) -> None:
        self._controller.stop()


class Server:
    """A gunicorn with 2 sync workers; lazy delivery on or off."""

    def __init__(self, url: str, delivery: bool, smtp: CountingSmtp, log: Path):
        self.port = free_port()
        self.prefix = f"bookingapp-bench-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": self.prefix,
            "SECRET_KEY": "bench", "SLOTS_MAINTENANCE_ENABLED": "false", "MAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            "OUTBOX_DELIVERY_ENABLED": "true" if delivery else "false", "BOOKING_RATE_LIMIT": "",
        }
        args = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{self.port}", "wsgi:app"]
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        sys.exit(f"gunicorn on {self.port} did not start; see {log}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time its workers have used so far (user + system)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / tick

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{self.prefix}:*"))
        if keys:
            client.delete(*keys)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found; installing it with apt-get", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def wrk(binary: str, url: str, seconds: int, connections: int, threads: int = 1) -> tuple[float, float, int]:
    """Requests/s, p99 latency (ms) and the number of requests of one wrk run."""
    out = subprocess.run([binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    done = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], done


def seed(url: str, messages: int) -> None:
    """Migrate; book ``messages`` customers (their confirmations are the burst's templates), marked sent."""
    from sqlalchemy import text

    from bookingapp import create_app
    from bookingapp.extensions import db
    from bookingapp.services.booking_input import BookingRequest
    from bookingapp.services.bookings import book_slot
    from bookingapp.services.games import create_game
    from bookingapp.services.generation import ensure_window
    from bookingapp.models import Slot

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "SLOTS_MAINTENANCE_ENABLED": False,
                      "OUTBOX_DELIVERY_ENABLED": False, "BOOKING_REMINDER_HOURS": 0})
    with app.app_context():
        migrate()
        game = create_game(db.session, {"name": "Bench room", "timezone": "UTC", "slot_minutes": 60, "capacity": 500,
                                        "weekly_hours": {day: [["00:00", "24:00"]] for day in WEEKDAYS}})
        now = datetime.now(UTC)
        ensure_window(db.session, game, now=now, default_days=3)
        slots = db.session.query(Slot.id).filter(Slot.starts_at > now + timedelta(hours=2)).order_by(Slot.starts_at)
        slot_ids = [row.id for row in slots.limit(-(-messages // 500))]
        for n in range(messages):
            book_slot(db.session, BookingRequest(slot_ids[n // 500], f"Guest {n}", f"guest{n}@example.com", 1), now)
        db.session.execute(text("UPDATE outbox_messages SET status = 'sent', sent_at = now()"))
        db.session.commit()
        db.engine.dispose()


def queue_burst(url: str, server: Server, messages: int) -> None:
    """Make ``messages`` confirmations due now (copies of the templates) and tell the workers, as a writer does."""
    import psycopg

    from bookingapp.services.outbox_due import SharedDue

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO outbox_messages (kind, booking_id, recipient, payload, due_at, next_attempt_at, status, "
            "attempts, created_at, message_id) SELECT kind, booking_id, recipient, payload, now(), now(), 'pending', 0, "
            "now(), md5(random()::text || id::text) FROM outbox_messages WHERE kind = 'booking.confirmed' "
            "AND status = 'sent' ORDER BY id LIMIT %s", (messages,))
    SharedDue(redis.Redis.from_url(REDIS_URL), f"{server.prefix}:outbox:due").lower(datetime.now(UTC))


def compare_on_off(binary: str, on: Server, off: Server, args) -> None:
    both(binary, on, off, 2)  # warm up
    rps, cpu = [], []
    print("outbox check on (nothing due) vs OUTBOX_DELIVERY_ENABLED=false, 2 sync workers each, loaded at the same "
          "time (wrk -t1 -c8 each):")
    for n in range(args.rounds):
        got = both(binary, on, off, args.seconds) if n % 2 == 0 else _swapped(both(binary, off, on, args.seconds))
        rps.append(got["on"][0] / got["off"][0])
        cpu.append(got["off"][3] / got["on"][3])
        print(f"  round {n + 1:2}: req/s on {got['on'][0]:6.0f} off {got['off'][0]:6.0f} ratio {rps[-1]:.3f}   "
              f"worker CPU per request on {got['on'][3]:5.0f} us off {got['off'][3]:5.0f} us ratio {cpu[-1]:.3f}")
    print(f"requests/s ratio on/off: median {statistics.median(rps):.3f} (target >= 0.99)")
    print(f"capacity ratio on/off from worker CPU per request: median {statistics.median(cpu):.3f}")
    on_us, off_us = in_process_ab()
    print(f"in process, a whole request ({PAGE}, 404) takes {on_us:.2f} us with the check vs {off_us:.2f} us without, "
          f"blocks alternating: capacity ratio {off_us / on_us:.4f}")


def _swapped(got: dict) -> dict:
    return {"on": got["off"], "off": got["on"]}


def both(binary: str, on: Server, off: Server, seconds: int) -> dict[str, tuple[float, float, int, float]]:
    """Load both servers at once; per server: req/s, p99 ms, requests, worker CPU us per request."""
    before = {"on": on.cpu_seconds(), "off": off.cpu_seconds()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {label: pool.submit(wrk, binary, server.url + PAGE, seconds, 8) for label, server in
                (("on", on), ("off", off))}
        got = {label: run.result() for label, run in runs.items()}
    after = {"on": on.cpu_seconds(), "off": off.cpu_seconds()}
    return {label: (*got[label], (after[label] - before[label]) * 1e6 / got[label][2]) for label in got}


def in_process_ab(blocks: int = 40, per_block: int = 1000) -> tuple[float, float]:
    """Median microseconds per WSGI request, lazy delivery on (nothing due) vs off, blocks alternating."""
    from werkzeug.test import EnvironBuilder

    from bookingapp import create_app

    def make(on: bool):
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": None, "SLOTS_MAINTENANCE_ENABLED": False,
                          "OUTBOX_DELIVERY_ENABLED": on})
        if on:
            app.extensions["outbox_delivery"].wake_at = float("inf")  # what "nothing due, no look due" looks like
        return app

    apps = {"on": make(True), "off": make(False)}
    environ = EnvironBuilder(path=PAGE).get_environ()
    timings: dict[str, list[float]] = {"on": [], "off": []}
    for n in range(blocks):
        for label in (("on", "off") if n % 2 == 0 else ("off", "on")):
            started = time.perf_counter()
            for _ in range(per_block):
                body = apps[label].wsgi_app(dict(environ), lambda status, headers, exc_info=None: None)
                for _chunk in body:
                    pass
                body.close()
            timings[label].append((time.perf_counter() - started) / per_block * 1e6)
    return statistics.median(timings["on"]), statistics.median(timings["off"])


def burst_rounds(binary: str, url: str, servers: list[Server], smtp: CountingSmtp, args) -> None:
    """p99 of a server whose workers send a burst vs an identical idle one, loaded at the same time.

    Both servers share the database but not their Redis prefix, so only the one told of the
    burst sends it; whatever else the machine does hits both alike. They swap roles every round.
    """
    ratios, rates, rows = [], [], []
    for server in servers:
        wrk(binary, server.url + LATENCY_PAGE, 2, LATENCY_CONNECTIONS)  # warm up
    for n in range(args.burst_rounds):
        busy, idle = servers if n % 2 == 0 else servers[::-1]
        smtp.reset()
        queue_burst(url, busy, args.burst)
        started = time.perf_counter()
        while smtp.count == 0:  # a worker hears of it at its next look (OUTBOX_RECHECK_SECONDS)
            requests.get(busy.url + LATENCY_PAGE, timeout=10)
            if time.perf_counter() - started > 30:
                sys.exit("the burst was never picked up")
        heard = time.perf_counter() - started
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = [pool.submit(wrk, binary, s.url + LATENCY_PAGE, args.seconds, LATENCY_CONNECTIONS) for s in (busy, idle)]
            busy_p99, idle_p99 = (run.result()[1] for run in runs)
        covered = smtp.count < args.burst
        while smtp.count < args.burst:  # requests keep the workers' passes coming
            requests.get(busy.url + LATENCY_PAGE, timeout=10)
            if time.perf_counter() - started > 600:
                sys.exit(f"only {smtp.count} of {args.burst} messages arrived")
        rates.append((args.burst - 1) / (smtp.last_at - smtp.first_at))
        ratios.append(busy_p99 / idle_p99)
        rows.append(f"  round {n + 1}: idle p99 {idle_p99:6.2f} ms   during burst p99 {busy_p99:6.2f} ms   "
                    f"ratio {ratios[-1]:.2f}   burst still going when wrk ended: {covered}   "
                    f"{rates[-1]:5.1f} messages/s (first after {heard:.1f} s)")
    print(f"{args.burst} due messages per round, sent by one server's 2 workers after their responses to a local "
          f"aiosmtpd; p99 of {LATENCY_PAGE} (wrk -t1 -c{LATENCY_CONNECTIONS}) on it vs an identical idle server, "
          "loaded at the same time:")
    print("\n".join(rows))
    print(f"delivery rate: median {statistics.median(rates):.1f} messages/s (first to last arrival)")
    print(f"p99 ratio burst/idle, paired: median {statistics.median(ratios):.2f} (target <= 1.2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=whole_number(2, 200), default=12, help="interleaved rounds of the on/off comparison")
    parser.add_argument("--seconds", type=whole_number(1, 60), default=3, help="length of each wrk run")
    parser.add_argument("--burst", type=whole_number(2, 100_000), default=1000, help="due messages per burst round")
    parser.add_argument("--burst-rounds", type=whole_number(1, 50), default=4, help="rounds of the burst comparison")
    args = parser.parse_args()
    binary = ensure_wrk()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (other work on the machine shows here)")
    smtp = CountingSmtp()
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"outbox-bench-{uuid.uuid4().hex[:6]}"
    workdir.mkdir()
    servers: list[Server] = []
    try:
        with throwaway_database("bookingapp_bench_outbox") as url:
            seed(url, args.burst)
            servers = [Server(url, True, smtp, workdir / "on.log"), Server(url, False, smtp, workdir / "off.log")]
            compare_on_off(binary, *servers, args)
            servers[1].stop()
            servers[1] = Server(url, True, smtp, workdir / "on-b.log")
            burst_rounds(binary, url, servers, smtp, args)
            for server in servers:
                server.stop()
            servers = []
    finally:
        for server in servers:
            server.stop()
        smtp.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
