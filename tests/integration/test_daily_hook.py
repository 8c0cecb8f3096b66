"""The daily hook in one process: memo, Redis lease, database guard, failures, retries."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from bookingapp.extensions import db, redis_client, redis_key
from bookingapp.maintenance import hook as maintenance
from bookingapp.models import MaintenanceClaim, MaintenanceRun, MaintenanceUnit, RunStatus, RunTrigger, Slot, UnitStatus
from bookingapp.services import generation as generator
from bookingapp.services.status import window_status
from bookingapp.services.leases import day_state
from bookingapp.services.units import UnitLease, finish_unit, open_daily_run, take_unit
from tests.conftest import free_port

UTC = timezone.utc
TODAY_KEY = "2027-01-13@Europe/London"


@pytest.fixture
def closed_port():
    """A local TCP port nothing listens on."""
    return free_port()


@pytest.fixture
def app_settings():
    return {"SLOTS_MAINTENANCE_ENABLED": True, "SLOTS_RECHECK_SECONDS": 5, "SLOTS_RETRY_AFTER": 120}


def _memo(app) -> maintenance.DailyMemo:
    return app.extensions["slots_daily"]


# Any page runs the hook; one that answers 404 needs no other part of the site.
PAGE = "/no-such-page"


def _get(app, path=PAGE):
    """One request; wait for any run it started, as a later request would find it."""
    memo = _memo(app)
    before = memo.started
    response = app.test_client().get(path)
    response.close()
    if memo.started is not before:
        memo.started.result(timeout=30)
    db.session.expire_all()
    return response


def _daily_runs(key=None) -> list[MaintenanceRun]:
    query = select(MaintenanceRun).where(MaintenanceRun.trigger == RunTrigger.DAILY).order_by(MaintenanceRun.id)
    if key is not None:
        query = query.where(MaintenanceRun.day_key == key)
    return list(db.session.scalars(query))


def _full(app, *games) -> bool:
    now = app.extensions["clock"].now()
    return all(window_status(db.session, g, now=now, default_days=7).is_full for g in games)


def test_the_first_request_of_the_day_fills_every_window_in_one_daily_run(any_app, make_game):
    games = [make_game(), make_game(days_ahead=3)]
    assert _get(any_app).status_code == 404
    (run,) = _daily_runs()
    assert (run.status, run.day_key, run.slots_created) == (RunStatus.SUCCEEDED, TODAY_KEY, 84 + 36)
    assert _full(any_app, *games)


def test_once_the_day_is_done_requests_do_no_maintenance_work(app, make_game, monkeypatch):
    make_game()
    _get(app)
    looks = []
    monkeypatch.setattr(maintenance, "_look", lambda *a: looks.append(a) or 5.0)
    for _ in range(50):
        _get(app)
    app.extensions["clock"].advance(minutes=59)
    _get(app)
    assert looks == [] and len(_daily_runs()) == 1


def test_the_day_after_gets_its_own_run_and_a_one_day_top_up(app, make_game, clock):
    game = make_game()
    _get(app)
    clock.set(datetime(2027, 1, 14, 0, 0, 1, tzinfo=UTC))
    _get(app)
    _get(app)
    first, second = _daily_runs()
    assert second.day_key == "2027-01-14@Europe/London" and second.slots_created == 12
    assert first.status is second.status is RunStatus.SUCCEEDED
    assert _full(app, game)


def test_a_dst_night_is_crossed_with_one_run_per_local_day(app, make_game, clock):
    game = make_game()
    clock.set(datetime(2027, 3, 27, 12, 0, tzinfo=UTC))
    for hour in range(0, 48, 6):  # every six hours across the spring-forward night
        clock.set(datetime(2027, 3, 27, 12, 0, tzinfo=UTC) + timedelta(hours=hour))
        _get(app)
    keys = [run.day_key for run in _daily_runs()]
    assert keys == [f"2027-03-{d}@Europe/London" for d in (27, 28, 29)]
    assert _full(app, game)


def test_static_files_and_healthz_start_nothing(app, make_game):
    make_game()
    assert _get(app, "/healthz").status_code == 200
    assert _get(app, "/static/site.css").status_code == 200
    assert _daily_runs() == [] and _memo(app).started is None


def test_a_day_another_worker_holds_is_left_to_it_and_looked_at_again_later(app, make_game, clock):
    make_game()
    redis_client().set(redis_key("daily", TODAY_KEY), "someone-else", ex=60)
    _get(app)
    assert _daily_runs() == []
    clock.advance(seconds=4)
    redis_client().delete(redis_key("daily", TODAY_KEY))
    _get(app)
    assert _daily_runs() == []  # not yet: looks again only after SLOTS_RECHECK_SECONDS
    clock.advance(seconds=1)
    _get(app)
    assert [r.status for r in _daily_runs()] == [RunStatus.SUCCEEDED]


def test_a_failed_unit_is_stored_logged_and_retried_later_from_the_watermarks(
    any_app, make_game, clock, monkeypatch, caplog
):
    game = make_game()
    real = generator.write_slots
    monkeypatch.setattr(generator, "write_slots", lambda *a: (_ for _ in ()).throw(RuntimeError("disk full")))
    _get(any_app)
    (run,) = _daily_runs()
    (unit,) = _units()
    assert run.status is RunStatus.RUNNING and unit.status is UnitStatus.OPEN
    assert "RuntimeError: disk full" in unit.error and unit.attempts == 1
    assert "Error auto-generating slots" in caplog.text
    key = redis_key("daily", TODAY_KEY)
    assert redis_client().get(key).startswith(b"retry:") and 0 < redis_client().ttl(key) <= 120
    monkeypatch.setattr(generator, "write_slots", real)
    clock.advance(seconds=10)
    _get(any_app)
    assert _units()[0].attempts == 1  # the retry waits SLOTS_RETRY_AFTER, not a storm
    _expire_leases(key)
    clock.advance(seconds=10)
    _get(any_app)
    assert [r.status for r in _daily_runs()] == [RunStatus.SUCCEEDED]  # the same run, finished
    assert [(u.status, u.attempts, u.error) for u in _units()] == [(UnitStatus.DONE, 2, None)]
    assert _full(any_app, game)


def _expire_leases(key: str) -> None:
    """What waiting out the leases (the day's and its units') would do, without sleeping."""
    redis_client().delete(key)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    db.session.execute(update(MaintenanceClaim).values(expires_at=long_ago))
    db.session.execute(update(MaintenanceUnit).where(MaintenanceUnit.lease_until.is_not(None))
                       .values(lease_until=long_ago))
    db.session.commit()


def _units() -> list[MaintenanceUnit]:
    db.session.expire_all()
    return list(db.session.scalars(select(MaintenanceUnit).order_by(MaintenanceUnit.id)))


def test_a_run_whose_worker_died_is_marked_abandoned_and_the_day_completes(any_app, make_game, clock):
    game = make_game()
    lease = maintenance._lease(any_app, maintenance.current_boundary(any_app), _memo(any_app).redis)
    dead = MaintenanceRun(trigger=RunTrigger.DAILY, started_at=clock.now(), day_key=TODAY_KEY)
    db.session.add(dead)
    db.session.commit()
    _get(any_app)
    assert len(_daily_runs()) == 1  # its lease still runs
    _expire_leases(lease.redis_key)
    clock.advance(seconds=5)
    _get(any_app)
    dead_again, done = _daily_runs()
    assert dead_again.status is RunStatus.FAILED and dead_again.error.startswith("abandoned:")
    assert done.status is RunStatus.SUCCEEDED and _full(any_app, game)


def test_a_winner_that_lost_the_lease_before_starting_opens_no_run(app, make_game):
    make_game()
    lease = maintenance._lease(app, maintenance.current_boundary(app), _memo(app).redis)
    redis_client().set(lease.redis_key, "a-newer-holder")
    assert maintenance.run_daily(app, lease) is None
    assert _daily_runs() == [] and db.session.scalar(select(func.count()).select_from(Slot)) == 0
    assert redis_client().get(lease.redis_key) == b"a-newer-holder"  # not ours to release


def test_a_unit_whose_lease_was_taken_stops_and_writes_nothing_more(app, make_game, monkeypatch):
    make_game()
    monkeypatch.setattr(UnitLease, "still_held", lambda self: False)
    lease = maintenance._lease(app, maintenance.current_boundary(app), _memo(app).redis)
    run = maintenance.run_daily(app, lease)
    assert run.status is RunStatus.RUNNING  # left to whoever took its unit
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 0


def test_a_redis_restart_mid_run_does_not_stop_the_run(app, make_game):
    make_game()
    lease = maintenance._lease(app, maintenance.current_boundary(app), _memo(app).redis)
    redis_client().delete(lease.redis_key)  # what a restart without persistence does
    run = maintenance.run_daily(app, lease)
    assert run.status is RunStatus.SUCCEEDED and run.slots_created == 84
    assert redis_client().get(lease.redis_key) == f"done:{lease.token}".encode()


def test_a_redis_flush_after_the_run_does_not_run_the_day_again(app, make_game, clock):
    make_game()
    _get(app)
    redis_client().delete(redis_key("daily", TODAY_KEY))
    clock.advance(hours=1)
    _get(app)
    assert len(_daily_runs()) == 1
    assert redis_client().get(redis_key("daily", TODAY_KEY)).startswith(b"done:")


def test_several_zones_get_a_run_after_each_local_midnight(app, make_game, clock):
    london, tokyo = make_game(), make_game(timezone="Asia/Tokyo")
    _get(app)
    clock.set(datetime(2027, 1, 13, 15, 0, 1, tzinfo=UTC))  # midnight in Tokyo
    _get(app)
    assert _full(app, london, tokyo)
    clock.set(datetime(2027, 1, 14, 0, 0, 1, tzinfo=UTC))  # midnight in London
    _get(app)
    keys = [run.day_key for run in _daily_runs()]
    assert keys == ["2027-01-13@Europe/London", "2027-01-14@Asia/Tokyo", "2027-01-14@Europe/London"]
    assert _full(app, london, tokyo)


class TestWithoutRedis:
    @pytest.fixture
    def app_settings(self, closed_port):
        return {"SLOTS_MAINTENANCE_ENABLED": True, "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"}

    def test_requests_answer_and_the_database_guard_runs_the_day_once(self, any_app, make_game, clock, caplog):
        game = make_game()
        with caplog.at_level(logging.WARNING, "bookingapp"):
            assert all(_get(any_app).status_code == 404 for _ in range(3))
            clock.advance(seconds=30)
            assert _get(any_app).status_code == 404
        assert [r.status for r in _daily_runs(TODAY_KEY)] == [RunStatus.SUCCEEDED]
        assert _full(any_app, game)
        warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
        assert len(warnings) == 1

    def test_a_second_process_sees_the_day_done_in_the_database(self, any_app, make_game):
        make_game()
        _get(any_app)
        other = maintenance.DailyMemo()
        maintenance.look_at_day(any_app, other)
        assert other.started is None and len(_daily_runs()) == 1

    def test_the_database_guard_lets_only_one_holder_run(self, any_app, make_game):
        make_game()
        boundary = maintenance.current_boundary(any_app)
        first = maintenance._lease(any_app, boundary, maintenance.DailyMemo().redis)
        second = maintenance._lease(any_app, boundary, maintenance.DailyMemo().redis)
        assert isinstance(first, maintenance.DailyLease) and second is maintenance.Outcome.HELD


class TestHookTurnedOff:
    @pytest.fixture
    def app_settings(self):
        return {"SLOTS_MAINTENANCE_ENABLED": False}

    def test_requests_start_no_maintenance(self, app, make_game):
        make_game()
        assert app.test_client().get(PAGE).status_code == 404
        assert "slots_daily" not in app.extensions and _daily_runs() == []


class TestUnits:
    @pytest.fixture
    def app_settings(self):
        return {"SLOTS_MAINTENANCE_ENABLED": True, "SLOTS_RECHECK_SECONDS": 5, "SLOTS_RETRY_AFTER": 120,
                "SLOTS_UNIT_GAMES": 2}

    def test_the_day_is_cut_into_units_that_cover_every_game_once(self, any_app, make_game):
        games = [make_game() for _ in range(5)]
        _get(any_app)
        (run,) = _daily_runs()
        units = _units()
        assert len(units) == 3 and all(unit.status is UnitStatus.DONE for unit in units)
        assert units[0].first_id is None and units[-1].end_id is None  # a game added meanwhile is someone's
        assert [unit.end_id for unit in units[:-1]] == [unit.first_id for unit in units[1:]]
        assert [unit.games_checked for unit in units] == [2, 2, 1]
        assert run.status is RunStatus.SUCCEEDED and run.games_checked == 5 and run.slots_created == 5 * 84
        assert _full(any_app, *games)

    def test_a_worker_that_finds_the_day_taken_works_the_units_left_free(self, any_app, make_game, clock):
        make_game(), make_game(), make_game()
        key = redis_key("daily", TODAY_KEY)
        opener = maintenance._lease(any_app, maintenance.current_boundary(any_app), _memo(any_app).redis)
        open_daily_run(db.session, day_key=TODAY_KEY, now=clock.now(), unit_games=1)
        assert redis_client().get(key) == opener.token.encode()  # the opener holds the day, and stops here
        _get(any_app)
        assert [unit.status for unit in _units()] == [UnitStatus.DONE] * 3
        assert [r.status for r in _daily_runs()] == [RunStatus.SUCCEEDED]
        assert redis_client().get(key).startswith(b"done:")  # the helper closed the day for everyone
        assert day_state(db.engine, TODAY_KEY) == "done"

    def test_a_unit_held_by_a_live_worker_is_left_to_it_and_taken_once_its_lease_runs_out(self, any_app, make_game, clock):
        make_game()
        open_daily_run(db.session, day_key=TODAY_KEY, now=clock.now(), unit_games=1)
        held = take_unit(db.engine, day_key=TODAY_KEY, ttl=60)
        assert take_unit(db.engine, day_key=TODAY_KEY, ttl=60) is None
        _expire_leases(redis_key("daily", TODAY_KEY))
        again = take_unit(db.engine, day_key=TODAY_KEY, ttl=60)
        assert again.id == held.id and again.token != held.token
        assert not held.still_held() and again.still_held()
        assert _units()[0].attempts == 2

    def test_only_the_last_unit_to_finish_closes_the_run(self, any_app, make_game, clock):
        make_game(), make_game()
        run_id = open_daily_run(db.session, day_key=TODAY_KEY, now=clock.now(), unit_games=1)
        first = take_unit(db.engine, day_key=TODAY_KEY, ttl=60)
        second = take_unit(db.engine, day_key=TODAY_KEY, ttl=60)
        assert finish_unit(db.engine, second, now=clock.now(), games_checked=1, slots_created=84) is False
        assert _daily_runs()[0].status is RunStatus.RUNNING
        assert finish_unit(db.engine, first, now=clock.now(), games_checked=1, slots_created=84) is True
        run = db.session.get(MaintenanceRun, run_id)
        assert run.status is RunStatus.SUCCEEDED and (run.games_checked, run.slots_created) == (2, 168)
        assert open_daily_run(db.session, day_key=TODAY_KEY, now=clock.now(), unit_games=1) != run_id
