"""A real gunicorn serving the app from this test session's database, with a shared file clock
(or the real one), the daily hook on (or off) and lazy delivery to a test's SMTP server (or off)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import requests

from tests.conftest import REDIS_URL, _delete_keys, free_port

ROOT = Path(__file__).resolve().parents[2]
# Any page runs the hook; one that answers 404 needs no other part of the site.
PAGE = "/no-such-page"
# The application_name of the workers' database connections.
GUNICORN_APP_NAME = "bookingapp-gunicorn-test"


class Gunicorn:
    """One gunicorn master with its workers, its log, its clock file and its Redis prefix."""

    def __init__(
        self, tmp_path: Path, pg_url: str, *, redis_url: str = REDIS_URL, file_clock: bool = True, maintenance: bool = True,
        mail_url: str | None = None,
    ):
        self.tmp_path = tmp_path
        self.clock_file = tmp_path / "now"
        self.log_file = tmp_path / "gunicorn.log"
        self.prefix = f"bookingapp-gtest-{uuid.uuid4().hex[:10]}"
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": pg_url,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": self.prefix,
            "SECRET_KEY": "gunicorn-test",
            "SLOTS_MAINTENANCE_ENABLED": "true" if maintenance else "false",
            "SLOTS_LOCK_TTL": "2",
            "SLOTS_RECHECK_SECONDS": "1",
            "SLOTS_RETRY_AFTER": "2",
            "BOOKING_RATE_LIMIT": "",  # the tests book many times from one address
            "BOOKING_LOOKUP_RATE_LIMIT": "",
            "PGAPPNAME": GUNICORN_APP_NAME,  # so a test can tell the workers' connections apart
            # Lazy delivery only where a test gives it an SMTP server (else it would write .eml files).
            "OUTBOX_DELIVERY_ENABLED": "true" if mail_url else "false",
            "OUTBOX_RECHECK_SECONDS": "1",
            "MAIL_URL": mail_url or "",
        }
        if file_clock:  # set_clock() must then write the file before start()
            self.env["SLOTS_CLOCK_FILE"] = str(self.clock_file)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_clock(self, now: datetime) -> None:
        """Move every worker's "now" (atomically: a worker never reads half a file)."""
        staging = self.tmp_path / "now.new"
        staging.write_text(now.isoformat())
        os.replace(staging, self.clock_file)

    def start(self, *, workers: int = 4, worker_class: str = "sync", preload: bool = False) -> None:
        args = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", worker_class,
                "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "5"]
        if worker_class == "gthread":
            args += ["--threads", "4"]
        if preload:
            args.append("--preload")
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen([*args, "wsgi:app"], cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or a worker still booting
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _delete_keys(self.prefix)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def burst(self, count: int, *, concurrency: int = 100, path: str = PAGE) -> list[int]:
        """``count`` requests at once; their status codes (0 for a failed connection)."""

        def one(_):
            try:
                return requests.get(self.url + path, timeout=30).status_code
            except requests.RequestException:
                return 0

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(one, range(count)))
