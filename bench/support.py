"""What every benchmark here needs: a throw-away PostgreSQL database and a stopwatch.

The database is created next to the one BENCH_PG_ADMIN_URL names (default
postgresql://postgres@127.0.0.1:5432/postgres), built by the migrations, and
dropped at the end. The stopwatch reads wall time, this process's CPU time and,
when the database runs on this machine, its backend's CPU time: on a shared
machine the wall clock measures the neighbours too, the CPU times do not.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bookingapp.extensions import db  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MIGRATIONS = str(ROOT / "migrations")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@contextmanager
def throwaway_database(prefix: str = "bookingapp_bench") -> Iterator[str]:
    """Create a database of this run's own, yield its SQLAlchemy URL, drop it at the end."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate() -> None:
    """Build the schema of the current app's database from the migrations."""
    upgrade(directory=MIGRATIONS)


@dataclass
class Stopwatch:
    """Wall time, this process's CPU time and the database backend's CPU time (None if unknown)."""

    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float | None = None


@contextmanager
def stopwatch(database: bool = True) -> Iterator[Stopwatch]:
    """Time the block; with ``database``, also the CPU of db.session's backend."""
    watch = Stopwatch()
    pid = db.session.scalar(text("SELECT pg_backend_pid()")) if database else None
    server = backend_cpu(pid)
    client, started = time.process_time(), time.perf_counter()
    yield watch
    watch.seconds = time.perf_counter() - started
    watch.client_cpu = time.process_time() - client
    after = backend_cpu(pid)
    watch.server_cpu = after - server if after is not None and server is not None else None


def backend_cpu(pid: int | None) -> float | None:
    """CPU seconds a local PostgreSQL backend has used, or None where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def whole_number(low: int, high: int):
    """An argparse type: a whole number from ``low`` to ``high``."""
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{raw!r} is not between {low} and {high}")
        return value

    return parse
