"""What operators type about maintenance: status, reset-markers, a run from `flask shell`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bookingapp.extensions import cache, db, redis_client, redis_key
from bookingapp.maintenance.operator import maintain_all_games
from bookingapp.models import MaintenanceClaim, MaintenanceRun, RunStatus, RunTrigger, Slot
from bookingapp.services.checks import check_game_window
from tests.conftest import free_port

UTC = timezone.utc
TODAY_KEY = "2027-01-13@Europe/London"


def _daily_runs() -> list[MaintenanceRun]:
    query = select(MaintenanceRun).where(MaintenanceRun.trigger == RunTrigger.DAILY).order_by(MaintenanceRun.id)
    return list(db.session.scalars(query))


def test_maintain_all_games_runs_the_day_synchronously_and_again_when_asked(app, make_game):
    make_game()
    first = maintain_all_games(async_mode=False)
    second = maintain_all_games()
    assert (first.status, first.day_key, first.slots_created) == (RunStatus.SUCCEEDED, TODAY_KEY, 84)
    assert second.status is RunStatus.SUCCEEDED and second.slots_created == 0
    assert redis_client().get(redis_key("daily", TODAY_KEY)).startswith(b"done:")


def test_maintain_all_games_in_the_background_returns_a_future_of_the_run(app, make_game):
    make_game()
    run = maintain_all_games(async_mode=True).result(timeout=30)
    assert run.slots_created == 84


def test_maintain_all_games_leaves_a_run_in_progress_alone(app, make_game):
    make_game()
    redis_client().set(redis_key("daily", TODAY_KEY), "another-worker", ex=60)
    assert maintain_all_games() is None and _daily_runs() == []


def test_status_names_todays_boundary_and_whether_it_ran(runner, make_game):
    make_game()
    assert f"Daily run for {TODAY_KEY}: not started; request hook off" in runner.invoke(args=["slots", "status"]).output
    maintain_all_games()
    output = runner.invoke(args=["slots", "status"]).output
    assert f"Daily run for {TODAY_KEY}: done" in output
    assert "daily succeeded" in output


def test_status_says_when_a_running_daily_run_has_lost_its_worker(runner, make_game, clock):
    make_game()
    db.session.add(MaintenanceRun(trigger=RunTrigger.DAILY, started_at=clock.now(), day_key=TODAY_KEY))
    db.session.commit()
    output = runner.invoke(args=["slots", "status"]).output
    assert "daily running? (its lease ran out" in output


def test_a_cli_run_still_running_hours_later_is_flagged_then_marked_by_the_daily_run(runner, make_game, clock):
    make_game()
    hours_ago = MaintenanceRun(trigger=RunTrigger.CLI, started_at=clock.now() - timedelta(hours=7))
    just_now = MaintenanceRun(trigger=RunTrigger.ADMIN, started_at=clock.now() - timedelta(minutes=5))
    db.session.add_all([hours_ago, just_now])
    db.session.commit()
    output = runner.invoke(args=["slots", "status"]).output
    assert "cli running? (started hours ago" in output
    assert "admin running started" in output
    maintain_all_games()
    db.session.expire_all()
    assert hours_ago.status is RunStatus.FAILED and hours_ago.error.startswith("abandoned: still running hours later")
    assert just_now.status is RunStatus.RUNNING


def test_reset_markers_forgets_the_day_and_the_game_checks(runner, make_game):
    game = make_game()
    maintain_all_games()
    check_game_window(game)
    result = runner.invoke(args=["slots", "reset-markers"])
    assert result.exit_code == 0, result.output
    assert "Cleared 1 daily record(s) and the checks of 1 game(s)" in result.output
    assert redis_client().get(redis_key("daily", TODAY_KEY)) is None
    assert db.session.scalar(select(func.count()).select_from(MaintenanceClaim)) == 0
    assert cache.get(f"slots:checked:{game.id}") is None
    assert maintain_all_games(force=False).status is RunStatus.SUCCEEDED


REDIS_DOWN = {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}


@pytest.mark.parametrize("app_settings", [REDIS_DOWN])
@pytest.mark.parametrize("args", [["slots", "status"], ["slots", "generate"]])
def test_status_and_generate_work_while_redis_is_unreachable(runner, make_game, args):
    make_game()
    result = runner.invoke(args=args)
    assert result.exit_code == 0 and result.exception is None, result.output


@pytest.mark.parametrize("app_settings", [REDIS_DOWN])
def test_reset_markers_while_redis_is_unreachable_clears_the_database_and_says_what_remains(runner, make_game):
    make_game()
    maintain_all_games()
    result = runner.invoke(args=["slots", "reset-markers"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "Redis is unreachable" in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(MaintenanceClaim)) == 0


class TestGameCheck:
    def _holes(self, game) -> None:
        db.session.execute(Slot.__table__.delete().where(Slot.starts_at >= datetime(2027, 1, 16, tzinfo=UTC)))
        db.session.commit()

    def test_a_short_window_is_topped_up_at_once_and_recorded_as_a_view_run(self, app, make_game):
        game = make_game()
        maintain_all_games()
        self._holes(game)  # the watermark says the 19th, the rows stop at the 15th
        assert check_game_window(game) == 48
        run = db.session.scalars(select(MaintenanceRun).where(MaintenanceRun.trigger == RunTrigger.VIEW)).one()
        assert run.slots_created == 48

    def test_the_check_is_cached_across_workers_for_the_interval(self, app, make_game):
        game = make_game()
        check_game_window(game)
        self._holes(game)
        assert check_game_window(game) == 0

    @pytest.mark.parametrize("app_settings", [{"SLOTS_CHECK_INTERVAL": 0}])
    def test_an_interval_of_zero_checks_every_time(self, app, make_game):
        game = make_game()
        check_game_window(game)
        self._holes(game)
        assert check_game_window(game) == 48
