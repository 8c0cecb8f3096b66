"""Serving the app under load: gunicorn with sync workers, wrk, and the workers' own timings."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from support import ROOT

ACCESS_LOG = os.path.join(tempfile.gettempdir(), f"booking_load_{os.getpid()}.log")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(workers: int, env: dict[str, str], probe: str) -> tuple[subprocess.Popen, str]:
    """Start gunicorn on a free port with ``env`` added; return it and its base URL once ``probe`` answers 200."""
    port = free_port()
    # Load comes from one address: the booking limits would measure themselves, not the app.
    env = {**os.environ, "SECRET_KEY": uuid.uuid4().hex, "BOOKING_RATE_LIMIT": "", "BOOKING_LOOKUP_RATE_LIMIT": "", **env}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    # The access log records each request's time inside the worker (%(D)s, microseconds):
    # the server-side figure, without the client's queueing.
    server = subprocess.Popen(
        [gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--access-logfile", ACCESS_LOG, "--access-logformat", "%(D)s", "wsgi:app"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + probe)
    except BaseException:  # never leave a server behind, whatever stopped us
        server.terminate()
        server.wait(timeout=30)
        raise
    return server, base


def _wait_for(url: str) -> None:
    for _ in range(200):
        try:
            if requests.get(url, timeout=30).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def server_times() -> list[float]:
    """Seconds spent in the workers per request since the last call (the access log is then emptied)."""
    with open(ACCESS_LOG, "r+") as log:
        times = [int(line) / 1e6 for line in log if line.strip().isdigit()]
        log.truncate(0)
    return times


def run_wrk(base: str, paths: list[str], *, seconds: int, connections: int) -> dict[str, float]:
    """wrk over random ``paths``; return req/s, p50, p99 (seconds) and non-2xx count."""
    script = "local paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n" + (
        "request = function() return wrk.format('GET', paths[math.random(#paths)]) end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        output = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", handle.name, base],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _wrk_seconds(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _wrk_seconds(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def forget_access_log() -> None:
    if os.path.exists(ACCESS_LOG):
        os.unlink(ACCESS_LOG)


def _wrk_seconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]
