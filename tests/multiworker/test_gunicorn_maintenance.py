"""The daily run on a real gunicorn with four workers: once per boundary, whatever happens."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import func, select

from bookingapp.core import engine
from bookingapp.core.window import local_midnight, local_today, window_dates
from bookingapp.extensions import db
from bookingapp.models import MaintenanceRun, MaintenanceUnit, RunStatus, RunTrigger, Slot, UnitStatus
from bookingapp.services.status import window_status

from tests.multiworker.gunicorn_server import ROOT, Gunicorn

pytestmark = pytest.mark.slow

UTC = timezone.utc
MORNING = datetime(2027, 1, 13, 9, 30, tzinfo=UTC)
AFTER_MIDNIGHT = datetime(2027, 1, 14, 0, 0, 5, tzinfo=UTC)
TODAY, TOMORROW = "2027-01-13@Europe/London", "2027-01-14@Europe/London"


def _daily_runs(key: str) -> list[MaintenanceRun]:
    db.session.rollback()  # a fresh snapshot: the workers write in their own transactions
    query = select(MaintenanceRun).where(MaintenanceRun.trigger == RunTrigger.DAILY, MaintenanceRun.day_key == key)
    return list(db.session.scalars(query.order_by(MaintenanceRun.id)))


def _wait_for_success(key: str, server: Gunicorn, timeout: float = 20.0, *, poke: bool = False) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(run.status is RunStatus.SUCCEEDED for run in _daily_runs(key)):
            return
        if poke:  # a dead holder's day is retried by a later request, not by itself
            server.burst(8, concurrency=8)
        time.sleep(0.2)
    raise AssertionError(f"no successful daily run for {key}: {_daily_runs(key)}\n{server.log()[-4000:]}")


def _assert_windows_full_without_duplicates(games, now: datetime) -> None:
    db.session.rollback()
    for game in games:
        assert window_status(db.session, game, now=now, default_days=7).is_full, game.name
        first, last = window_dates(local_today(now, game.timezone), 7)
        wanted = len(engine.slots_between(game.schedule(), first, last))
        stored = select(func.count()).select_from(Slot).where(
            Slot.game_id == game.id, Slot.starts_at >= local_midnight(first, ZoneInfo(game.timezone))
        )
        assert db.session.scalar(stored) == wanted, game.name


def _day(server: Gunicorn, games, now: datetime, key: str) -> None:
    server.set_clock(now)
    codes = server.burst(300)
    assert codes.count(404) == 300, sorted(set(codes))  # every request answered by the app
    _wait_for_success(key, server)
    assert server.burst(100).count(404) == 100  # later requests find the day done
    (run,) = _daily_runs(key)
    assert run.status is RunStatus.SUCCEEDED
    _assert_windows_full_without_duplicates(games, now)


@pytest.mark.parametrize(
    "worker_class, preload", [("sync", False), ("gthread", True)], ids=["sync", "gthread-preload"]
)
def test_300_concurrent_first_requests_make_one_daily_run_each_day(gunicorn, make_game, worker_class, preload):
    games = [make_game() for _ in range(30)]
    gunicorn.set_clock(MORNING)
    gunicorn.start(worker_class=worker_class, preload=preload)
    _day(gunicorn, games, MORNING, TODAY)
    _day(gunicorn, games, AFTER_MIDNIGHT, TOMORROW)
    assert "Error auto-generating slots" not in gunicorn.log()


def _runner_pid(server: Gunicorn, key: str, timeout: float = 15.0) -> int:
    pattern = re.compile(rf"\[(\d+)\] bookingapp\.slots: Daily slot maintenance for {re.escape(key)} started")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.findall(server.log())
        if found:
            return int(found[-1])
        time.sleep(0.1)
    raise AssertionError(f"no daily run started:\n{server.log()[-4000:]}")


def _wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _units(run: MaintenanceRun) -> list[MaintenanceUnit]:
    return list(db.session.scalars(select(MaintenanceUnit).where(MaintenanceUnit.run_id == run.id)
                                   .order_by(MaintenanceUnit.id)))


def _split_day(server: Gunicorn, games, unit_games: int) -> MaintenanceRun:
    server.env["SLOTS_UNIT_GAMES"] = str(unit_games)
    server.set_clock(MORNING)
    server.start()
    assert server.burst(300).count(404) == 300
    _wait_for_success(TODAY, server, timeout=60, poke=True)
    (run,) = _daily_runs(TODAY)
    return run


def test_a_daily_run_split_into_units_is_shared_by_the_workers_and_does_every_game_once(gunicorn, make_game):
    games = [make_game() for _ in range(200)]
    run = _split_day(gunicorn, games, unit_games=10)
    units = _units(run)
    assert len(units) == 20 and all(unit.status is UnitStatus.DONE for unit in units)
    assert sum(unit.games_checked for unit in units) == run.games_checked == 200  # no game twice, none missed
    assert len({unit.holder for unit in units}) >= 2, gunicorn.log()[-3000:]
    _assert_windows_full_without_duplicates(games, MORNING)


def test_a_worker_killed_mid_unit_leaves_its_unit_to_another(gunicorn, make_game, pg_url):
    games = [make_game() for _ in range(30)]
    gunicorn.env["SLOTS_UNIT_GAMES"] = "10"
    gunicorn.set_clock(MORNING)
    gunicorn.start()
    blocker = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://", 1))
    blocker.execute("SELECT id FROM games ORDER BY id LIMIT 1 FOR UPDATE")  # the first unit's first game
    try:
        assert gunicorn.burst(20).count(404) == 20
        _runner_pid(gunicorn, TODAY)  # a worker opened the run
        _wait_until(lambda: _holder_of_first_unit() is not None)
        holder = _holder_of_first_unit()
        os.kill(int(holder.rsplit(":", 1)[1]), signal.SIGKILL)
    finally:
        blocker.rollback()
        blocker.close()
    _wait_for_success(TODAY, gunicorn, timeout=30, poke=True)
    (run,) = _daily_runs(TODAY)
    first, *others = _units(run)
    assert first.attempts == 2 and first.holder != holder
    assert all(unit.status is UnitStatus.DONE for unit in [first, *others]) and run.games_checked == 30
    _assert_windows_full_without_duplicates(games, MORNING)


def _holder_of_first_unit() -> str | None:
    db.session.rollback()
    unit = db.session.scalars(select(MaintenanceUnit).order_by(MaintenanceUnit.id).limit(1)).first()
    return unit.holder if unit is not None and unit.status is UnitStatus.RUNNING else None


def test_with_redis_unreachable_no_request_fails_and_each_day_runs_once(gunicorn_without_redis, make_game):
    server = gunicorn_without_redis
    games = [make_game() for _ in range(30)]
    server.set_clock(MORNING)
    server.start()
    _day(server, games, MORNING, TODAY)
    _day(server, games, AFTER_MIDNIGHT, TOMORROW)
    warnings = server.log().count("Redis is unreachable")
    assert 1 <= warnings <= 4  # one per worker process, not one per request


def test_cli_generate_beside_the_hook_duplicates_nothing_and_both_succeed(gunicorn, make_game):
    games = [make_game(days_ahead=60) for _ in range(40)]
    gunicorn.set_clock(MORNING)
    gunicorn.start()
    cli = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "slots", "generate", "--days", "7"],
        cwd=ROOT, env=gunicorn.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    codes = gunicorn.burst(100)
    output, _ = cli.communicate(timeout=60)
    assert cli.returncode == 0 and "Total:" in output, output
    assert codes.count(404) == 100
    _wait_for_success(TODAY, gunicorn)
    assert len(_daily_runs(TODAY)) == 1
    db.session.rollback()
    duplicates = db.session.execute(
        select(Slot.game_id, Slot.starts_at).group_by(Slot.game_id, Slot.starts_at).having(func.count() > 1)
    ).all()
    assert duplicates == []
    for game in games:
        assert window_status(db.session, game, now=MORNING, default_days=7).is_full
    first, last = window_dates(local_today(MORNING, "Europe/London"), 60)
    per_game = len(engine.slots_between(games[0].schedule(), first, last))
    assert db.session.scalar(select(func.count()).select_from(Slot)) == per_game * len(games)
