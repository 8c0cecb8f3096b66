"""Generation jobs staff watch: a game's window written day by day, progress in Redis.

Progress lives in Redis so whichever gunicorn worker answers the poll can read it; without
``REDIS_URL`` a process-local store stands in (fine for one process). The work runs on the
app's background pool, one committed day at a time, so the numbers are real and a killed
worker loses at most a day (the next job resumes: the inserts are idempotent).
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

import redis
from flask import Flask, current_app

from bookingapp.extensions import db
from bookingapp.maintenance.pool import submit
from bookingapp.models import Game, RunTrigger
from bookingapp.services.checks import forget_game_check
from bookingapp.services.generation import PassOptions
from bookingapp.services.runs import generate_slots

log = logging.getLogger("bookingapp.slots")

JOB_TTL = 24 * 3600
# A running job not heard from for this long is taken as dead (its worker was recycled).
STALE_AFTER = timedelta(minutes=2)
INT_FIELDS = ("days_done", "days_total", "slots_created", "run_id")
FINISHED = ("done", "failed")


class JobStore:
    """Job records in Redis hashes, or in this process when there is no Redis."""

    def __init__(self, app: Flask):
        self._client = app.extensions.get("redis")
        self._prefix = app.config["REDIS_PREFIX"]
        self._local = app.extensions.setdefault("admin_jobs", {})
        self._lock = app.extensions.setdefault("admin_jobs_lock", threading.Lock())

    def _key(self, *parts: object) -> str:
        return ":".join([self._prefix, "job", *map(str, parts)])

    def save(self, job_id: str, **fields: Any) -> None:
        """Write some fields of a job; a store outage is logged, never raised into the work."""
        values = {k: "" if v is None else str(v) for k, v in fields.items()}
        if self._client is None:
            with self._lock:
                self._local.setdefault(job_id, {}).update(values)
            return
        try:
            with self._client.pipeline() as pipe:
                pipe.hset(self._key(job_id), mapping=values)
                pipe.expire(self._key(job_id), JOB_TTL)
                pipe.execute()
        except redis.RedisError:
            log.warning("Could not record progress of job %s", job_id)

    def load(self, job_id: str) -> dict[str, Any] | None:
        """A job's fields, or None when unknown (or the store cannot answer)."""
        if self._client is None:
            with self._lock:
                raw = dict(self._local.get(job_id, {}))
        else:
            try:
                raw = {k.decode(): v.decode() for k, v in self._client.hgetall(self._key(job_id)).items()}
            except redis.RedisError:
                log.warning("Could not read progress of job %s", job_id)
                return None
        return _typed(job_id, raw) if raw else None


def _typed(job_id: str, raw: dict[str, str]) -> dict[str, Any]:
    job: dict[str, Any] = {"id": job_id, **raw}
    for name in INT_FIELDS:
        if raw.get(name):
            job[name] = int(raw[name])
        else:  # not recorded yet: no run, nothing counted
            job[name] = None if name == "run_id" else 0
    job["error"] = raw.get("error") or None
    job["done"] = job.get("status") in FINISHED
    total = job["days_total"]
    job["percent"] = 100 if job.get("status") == "done" else (job["days_done"] * 100 // total if total else 0)
    return job


def store() -> JobStore:
    """The current app's job store."""
    return JobStore(current_app._get_current_object())


def start_generation(game: Game, *, now: datetime) -> str:
    """Start filling ``game``'s window in the background (or join the job already at it)."""
    jobs = store()
    current = _game_job(jobs, game)
    if current and not current["done"] and not _stale(current, now):
        return current["id"]
    job_id = uuid.uuid4().hex
    jobs.save(job_id, game_id=game.id, status="queued", days_done=0, days_total=0, slots_created=0,
              error=None, heartbeat=now.isoformat())
    jobs.save(f"game:{game.id}", current=job_id)
    app, game_id = current_app._get_current_object(), game.id  # the ORM row stays with this request
    submit(app, lambda: run_generation(app, job_id, game_id))
    return job_id


def _game_job(jobs: JobStore, game: Game) -> dict[str, Any] | None:
    pointer = jobs.load(f"game:{game.id}")
    return jobs.load(pointer["current"]) if pointer and pointer.get("current") else None


def _stale(job: dict[str, Any], now: datetime) -> bool:
    beat = job.get("heartbeat")
    return not beat or now - datetime.fromisoformat(beat) > STALE_AFTER


def run_generation(app: Flask, job_id: str, game_id: uuid.UUID) -> None:
    """Write a game's window a day at a time through the one generation pass, recording progress."""
    jobs, clock, session = JobStore(app), app.extensions["clock"], db.session
    game = session.get(Game, game_id)
    if game is None or not game.is_active:
        _fail(jobs, job_id, LookupError("the game is gone or inactive; reactivate it first"), clock.now())
        return
    days = game.window(clock.now(), app.config["SLOTS_DAYS_TO_MAINTAIN"]).days
    jobs.save(job_id, status="running", days_total=days, heartbeat=clock.now().isoformat())
    options = PassOptions(app.config["SLOTS_DAYS_TO_MAINTAIN"], repair=True, batch_games=1, days_per_batch=1,
                          progress=_DayProgress(jobs, job_id, clock))
    try:
        run, _ = generate_slots(session, clock=clock, trigger=RunTrigger.ADMIN, options=options, game_ids=[game_id])
    except Exception as exc:  # generate_slots logged it and stored it on its run
        jobs.save(job_id, status="failed", error=str(exc) or type(exc).__name__)
        return
    forget_game_check(game)
    jobs.save(job_id, status="done", run_id=run.id)


class _DayProgress:
    """Told after each day the job writes: moves the progress bar, keeps the heartbeat."""

    def __init__(self, jobs: JobStore, job_id: str, clock):
        self.jobs, self.job_id, self.clock, self.days_done = jobs, job_id, clock, 0

    def __call__(self, session, result) -> None:
        self.days_done += 1
        self.jobs.save(self.job_id, days_done=self.days_done, slots_created=result.slots_created,
                       heartbeat=self.clock.now().isoformat())


def _fail(jobs: JobStore, job_id: str, exc: Exception, at: datetime) -> None:
    log.error("Error auto-generating slots: %s", exc)
    jobs.save(job_id, status="failed", error=str(exc), heartbeat=at.isoformat())


def job_status(job_id: str) -> dict[str, Any] | None:
    """What a poll answers about a job, or None for an unknown id."""
    try:
        uuid.UUID(hex=job_id)
    except ValueError:
        return None
    return store().load(job_id)
