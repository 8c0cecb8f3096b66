"""Generation jobs: progress recorded day by day in Redis (or this process without it)."""
from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import func, select

from bookingapp import create_app
from bookingapp.maintenance import jobs
from bookingapp.maintenance.jobs import JobStore, job_status, start_generation
from bookingapp.extensions import db
from bookingapp.maintenance.pool import background_pool
from bookingapp.services import generation
from bookingapp.models import Game, MaintenanceRun, RunStatus, RunTrigger, Slot



def _drain(app):
    background_pool(app)
    _, pool = app.extensions.pop("slots_pool")
    pool.shutdown(wait=True)


class RecordingStore(JobStore):
    """A JobStore that remembers every write, to see progress move one day at a time."""

    writes: list[dict] = []

    def save(self, job_id, **fields):
        RecordingStore.writes.append(fields)
        super().save(job_id, **fields)


def test_a_job_writes_the_window_day_by_day_and_records_an_admin_run(app, make_game, monkeypatch):
    game = make_game(days_ahead=5)
    RecordingStore.writes = []
    monkeypatch.setattr("bookingapp.maintenance.jobs.JobStore", RecordingStore)
    job_id = start_generation(game, now=app.extensions["clock"].now())
    _drain(app)
    progress = [(w["days_done"], w["slots_created"]) for w in RecordingStore.writes if "days_done" in w][1:]
    assert progress == [(1, 12), (2, 24), (3, 36), (4, 48), (5, 60)]
    job = job_status(job_id)
    assert (job["status"], job["percent"], job["days_total"], job["slots_created"]) == ("done", 100, 5, 60)
    run = db.session.scalar(select(MaintenanceRun))
    assert (run.trigger, run.status, run.slots_created, run.id) == (RunTrigger.ADMIN, RunStatus.SUCCEEDED, 60, job["run_id"])


def test_another_worker_reads_the_same_progress_from_redis(app, clock, make_game):
    game = make_game()
    job_id = start_generation(game, now=clock.now())
    _drain(app)
    other = create_app(dict(app.config), clock=clock)
    with other.app_context():
        assert job_status(job_id)["slots_created"] == 84
        db.session.remove()
        db.engine.dispose()


def test_starting_twice_joins_the_running_job(app, make_game, clock):
    game = make_game()
    store = JobStore(app)
    first = start_generation(game, now=clock.now())
    store.save(first, status="running")  # as if still at work
    assert start_generation(game, now=clock.now()) == first
    _drain(app)


def test_a_job_whose_worker_went_silent_is_replaced(app, make_game, clock):
    game = make_game()
    first = start_generation(game, now=clock.now())
    _drain(app)
    JobStore(app).save(first, status="running")
    clock.advance(minutes=3)
    assert start_generation(game, now=clock.now()) != first
    _drain(app)


def test_a_failing_job_shows_its_error_and_records_a_failed_run(app, make_game, monkeypatch, caplog):
    game = make_game()

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("bookingapp.services.generation.write_slots", broken)
    with caplog.at_level(logging.ERROR, logger="bookingapp.slots"):
        job_id = start_generation(game, now=app.extensions["clock"].now())
        _drain(app)
    job = job_status(job_id)
    assert (job["status"], job["error"], job["done"]) == ("failed", "disk on fire", True)
    run = db.session.scalar(select(MaintenanceRun))
    assert run.status is RunStatus.FAILED and "disk on fire" in run.error
    assert "Error auto-generating slots" in caplog.text


def test_an_inactive_game_fails_its_job_with_a_clear_message(app, make_game):
    game = make_game(is_active=False)
    job_id = start_generation(game, now=app.extensions["clock"].now())
    _drain(app)
    assert "inactive" in job_status(job_id)["error"]


@pytest.mark.parametrize("job_id", ["", "../../etc", "a" * 32])
def test_an_unknown_or_malformed_job_id_finds_nothing(app, job_id):
    assert job_status(job_id) is None


@pytest.mark.parametrize("app_settings", [{"REDIS_URL": None}])
def test_without_redis_progress_lives_in_this_process(any_app, clock):
    from bookingapp.services.games import create_game

    app = any_app
    assert app.extensions["redis"] is None
    game = create_game(db.session, {"name": "Solo", "timezone": "UTC", "slot_minutes": 60, "capacity": 2,
                                    "weekly_hours": {"mon": [["09:00", "12:00"]]}})
    job_id = start_generation(game, now=clock.now())
    _drain(app)
    job = job_status(job_id)
    assert job["status"] == "done" and job["days_total"] == 7 and job["slots_created"] == 3
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 3


def test_an_edit_saved_while_a_job_writes_a_day_is_waited_for_and_the_rest_follow_it(app, clock, make_game, monkeypatch):
    from tests.race_helpers import assert_only_the_new_schedule, edit, in_app, wait_until_waiting_on_a_lock_or_done

    game = make_game()
    errors, write_slots = [], generation.write_slots
    edit_thread = in_app(app, lambda: edit(clock, game.id), errors)

    def edit_during_the_first_day(session, plans):
        if edit_thread.ident is None:  # not started yet: this is the first day
            edit_thread.start()
            wait_until_waiting_on_a_lock_or_done(edit_thread)
        return write_slots(session, plans)

    monkeypatch.setattr(generation, "write_slots", edit_during_the_first_day)
    job_id = uuid.uuid4().hex
    jobs.run_generation(app, job_id, game.id)
    edit_thread.join(timeout=30)
    assert errors == []
    assert job_status(job_id)["status"] == "done"
    assert_only_the_new_schedule(db.session.get(Game, game.id))
