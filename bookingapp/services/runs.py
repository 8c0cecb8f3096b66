"""Maintenance runs: a generation pass recorded as a row operators (and tests) can read."""
from __future__ import annotations

import logging
import traceback
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Callable, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bookingapp.core.clock import Clock
from bookingapp.models import MaintenanceRun, MaintenanceUnit, RunStatus, RunTrigger
from bookingapp.services.generation import GenerationResult, PassOptions, ensure_active_games

# No cli, view or admin run lasts this long; one still "running" after it has died.
STALE_RUN_AGE = timedelta(hours=6)

log = logging.getLogger("bookingapp.slots")


def generate_slots(
    session: Session,
    *,
    clock: Clock,
    trigger: RunTrigger,
    options: PassOptions,
    game_ids: Sequence[uuid.UUID] | None = None,
    day_key: str | None = None,
) -> tuple[MaintenanceRun, GenerationResult]:
    """Fill the windows of active games and record it as a maintenance run.

    The run's row carries the totals so far, committed with each batch (a killed run shows
    what it wrote). A failure is logged with its traceback, stored on the row and re-raised.
    """
    run = start_run(session, clock=clock, trigger=trigger, day_key=day_key)
    options = replace(options, progress=partial(_record_progress, run.id, options.progress))
    try:
        result = ensure_active_games(session, now=clock.now(), options=options, game_ids=game_ids)
    except Exception as exc:
        session.rollback()
        log.exception("Error auto-generating slots")
        finish_run(session, run, clock=clock, status=RunStatus.FAILED, error="".join(traceback.format_exception(exc)))
        raise
    lost_lease = result.stopped_early
    finish_run(session, run, clock=clock, status=RunStatus.FAILED if lost_lease else RunStatus.SUCCEEDED,
               games_checked=result.games_checked, slots_created=result.slots_created,
               error="stopped early: lost the daily lease" if lost_lease else None)
    return run, result


def _record_progress(run_id: int, also: Callable, session: Session, result: GenerationResult) -> None:
    also(session, result)
    table = MaintenanceRun.__table__
    session.execute(
        update(table).where(table.c.id == run_id)
        .values(games_checked=result.games_checked, slots_created=result.slots_created)
    )


def start_run(session: Session, *, clock: Clock, trigger: RunTrigger, day_key: str | None = None) -> MaintenanceRun:
    """Record a run as started now; committed, so operators see it while it runs."""
    run = MaintenanceRun(trigger=trigger, status=RunStatus.RUNNING, started_at=clock.now(), day_key=day_key)
    session.add(run)
    session.commit()
    return run


def finish_run(session: Session, run: MaintenanceRun, *, clock: Clock, status: RunStatus, **fields: Any) -> None:
    """Record how a run ended (``fields``: games_checked, slots_created, error)."""
    run.status = status
    run.finished_at = clock.now()
    for name, value in fields.items():
        setattr(run, name, value)
    session.commit()


def error_line(error: str | None) -> str | None:
    """The last line of a stored error (a traceback ends with the exception), or None."""
    return error.strip().splitlines()[-1] if error and error.strip() else None


def run_to_json(run: MaintenanceRun) -> dict[str, Any]:
    """A run as the staff API answers it."""
    return {
        "id": run.id, "trigger": run.trigger.value, "status": run.status.value,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "games_checked": run.games_checked, "slots_created": run.slots_created, "error": run.error,
        "units": [unit_to_json(unit) for unit in run.units],
    }


def unit_to_json(unit: MaintenanceUnit) -> dict[str, Any]:
    """One part of a daily run: its key range of games, who did it, and how it went."""
    return {
        "id": unit.id, "status": unit.status.value, "first_game_id": str(unit.first_id) if unit.first_id else None,
        "end_game_id": str(unit.end_id) if unit.end_id else None, "attempts": unit.attempts,
        "worker": unit.holder, "games_checked": unit.games_checked, "slots_created": unit.slots_created,
        "error": unit.error, "finished_at": unit.finished_at.isoformat() if unit.finished_at else None,
    }


def recent_runs(session: Session, limit: int = 20) -> list[MaintenanceRun]:
    """The newest runs first."""
    return list(session.scalars(select(MaintenanceRun).order_by(MaintenanceRun.id.desc()).limit(limit)))


def abandon_runs(session: Session, run_ids: Sequence[int], *, clock: Clock, reason: str) -> int:
    """Mark runs still shown as running as failed, because whoever ran them is gone."""
    if not run_ids:
        return 0
    table = MaintenanceRun.__table__
    count = session.execute(
        update(table)
        .where(table.c.id.in_(run_ids), table.c.status == RunStatus.RUNNING)
        .values(status=RunStatus.FAILED, finished_at=clock.now(), error=f"abandoned: {reason}")
    ).rowcount
    session.commit()
    if count:
        log.warning("Marked %d maintenance run(s) as abandoned: %s", count, reason)
    return count


def stale_runs(session: Session, now: datetime) -> list[MaintenanceRun]:
    """Runs other than daily ones still "running" long after any of them would have ended.

    A cli, view or admin pass writes one game or a few windows in seconds; a row still
    running hours later lost its process (killed, recycled, host gone) with no lease to
    tell. Daily runs have their lease and are judged by it.
    """
    return list(
        session.scalars(
            select(MaintenanceRun).where(
                MaintenanceRun.trigger != RunTrigger.DAILY,
                MaintenanceRun.status == RunStatus.RUNNING,
                MaintenanceRun.started_at < now - STALE_RUN_AGE,
            )
        )
    )


def running_runs(session: Session, trigger: RunTrigger) -> list[MaintenanceRun]:
    """Runs of ``trigger`` whose row still says running."""
    return list(
        session.scalars(
            select(MaintenanceRun).where(MaintenanceRun.trigger == trigger, MaintenanceRun.status == RunStatus.RUNNING)
        )
    )
