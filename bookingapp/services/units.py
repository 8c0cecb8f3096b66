"""The daily run's units: the day's games cut into key ranges that any worker can take.

The worker that wins the day's lease writes the run row and its units in one transaction
(``open_daily_run``). From then on every worker that serves requests while units are open
takes one (``take_unit``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, where each worker skips
the rows another is taking; on SQLite one writer at a time does the same), fills its games'
windows under a lease of its own renewed between batches, and records it done
(``finish_unit``). Whoever finishes the last unit closes the run. A unit whose worker died
is taken again once its lease has run out; one that failed waits for its retry time.
"""
from __future__ import annotations

import os
import secrets
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from bookingapp.models import Game, MaintenanceRun, MaintenanceUnit, RunStatus, RunTrigger, UnitStatus
from bookingapp.services.generation import KeyRange
from bookingapp.services.leases import wall_now

UNITS = MaintenanceUnit.__table__
RUNS = MaintenanceRun.__table__


@dataclass(frozen=True)
class UnitLease:
    """The right to work one unit, held by one token until ``ttl`` seconds after its last renewal."""

    id: int
    run_id: int
    key_range: KeyRange
    token: str
    engine: Engine
    ttl: int

    def still_held(self) -> bool:
        """Renew the lease; False when the unit is no longer ours (it ran out and was taken)."""
        with self.engine.begin() as conn:
            return conn.execute(
                update(UNITS).where(UNITS.c.id == self.id, UNITS.c.token == self.token,
                                    UNITS.c.status == UnitStatus.RUNNING)
                .values(lease_until=wall_now() + timedelta(seconds=self.ttl))
            ).rowcount == 1


def open_daily_run(session: Session, *, day_key: str, now: datetime, unit_games: int) -> int:
    """The id of ``day_key``'s daily run, written with its units unless a live one has them already."""
    live = session.scalar(
        select(RUNS.c.id).where(RUNS.c.trigger == RunTrigger.DAILY, RUNS.c.day_key == day_key,
                                RUNS.c.status == RunStatus.RUNNING).order_by(RUNS.c.id.desc()).limit(1)
    )
    if live is not None:
        return live
    run = MaintenanceRun(trigger=RunTrigger.DAILY, status=RunStatus.RUNNING, started_at=now, day_key=day_key)
    session.add(run)
    session.flush()
    bounds = _unit_bounds(session, unit_games)
    session.execute(insert(UNITS), [
        {"run_id": run.id, "day_key": day_key, "first_id": first, "end_id": end, "status": UnitStatus.OPEN,
         "attempts": 0, "games_checked": 0, "slots_created": 0}
        for first, end in bounds
    ])
    session.commit()
    return run.id


def _unit_bounds(session: Session, unit_games: int) -> list[tuple[uuid.UUID | None, uuid.UUID | None]]:
    # Every unit_games-th active id starts a unit; the first runs from the beginning and the
    # last to the end, so a game added while the run goes is still someone's.
    table = Game.__table__
    numbered = select(table.c.id, func.row_number().over(order_by=table.c.id).label("n")).where(
        table.c.is_active.is_(True)).subquery()
    starts = list(session.scalars(
        select(numbered.c.id).where((numbered.c.n - 1) % unit_games == 0).order_by(numbered.c.id)))[1:]
    return list(zip([None, *starts], [*starts, None]))


def take_unit(engine: Engine, *, day_key: str, ttl: int) -> UnitLease | None:
    """Lease the first unit of ``day_key`` that nobody holds and is due; None when there is none."""
    now, token = wall_now(), secrets.token_hex(16)
    due = and_(UNITS.c.day_key == day_key, UNITS.c.status.in_([UnitStatus.OPEN, UnitStatus.RUNNING]),
               or_(UNITS.c.lease_until.is_(None), UNITS.c.lease_until <= now))
    query = select(UNITS.c.id, UNITS.c.run_id, UNITS.c.first_id, UNITS.c.end_id).where(due).order_by(UNITS.c.id)
    if engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    with engine.begin() as conn:
        unit = conn.execute(query.limit(1)).first()
        if unit is None:
            return None
        taken = conn.execute(
            update(UNITS).where(UNITS.c.id == unit.id, due)
            .values(status=UnitStatus.RUNNING, token=token, lease_until=now + timedelta(seconds=ttl),
                    holder=f"{socket.gethostname()}:{os.getpid()}"[:120], attempts=UNITS.c.attempts + 1)
        ).rowcount
    if taken != 1:
        return None  # SQLite: another process took it between the two statements
    return UnitLease(unit.id, unit.run_id, KeyRange(unit.first_id, unit.end_id), token, engine, ttl)


def record_unit_progress(session: Session, unit: UnitLease, games_checked: int, slots_created: int) -> None:
    """Store a unit's running totals inside the batch's transaction, so they commit with its slots."""
    session.execute(update(UNITS).where(UNITS.c.id == unit.id, UNITS.c.token == unit.token)
                    .values(games_checked=games_checked, slots_created=slots_created))


def finish_unit(engine: Engine, unit: UnitLease, *, now: datetime, games_checked: int, slots_created: int) -> bool:
    """Record ``unit`` done with its totals and add them to its run's; True when it was the run's last (the run is closed).

    The run row is locked first, so two workers finishing the last two units one after
    the other see each other's and exactly one of them closes the run.
    """
    with engine.begin() as conn:
        _lock_run(conn, unit.run_id)
        conn.execute(update(UNITS).where(UNITS.c.id == unit.id, UNITS.c.token == unit.token)
                     .values(status=UnitStatus.DONE, finished_at=now, token=None, lease_until=None, error=None,
                             games_checked=games_checked, slots_created=slots_created))
        return _total_run(conn, unit.run_id, now)


def fail_unit(engine: Engine, unit: UnitLease, *, error: str, retry_after: int) -> None:
    """Give a unit back after an error, to be taken again after ``retry_after`` seconds."""
    with engine.begin() as conn:
        conn.execute(update(UNITS).where(UNITS.c.id == unit.id, UNITS.c.token == unit.token)
                     .values(status=UnitStatus.OPEN, token=None, error=error,
                             lease_until=wall_now() + timedelta(seconds=retry_after)))


def _lock_run(conn: Connection, run_id: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(select(RUNS.c.id).where(RUNS.c.id == run_id).with_for_update())
    else:  # SQLite: a write takes the database's one write lock
        conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(id=RUNS.c.id))


def _total_run(conn: Connection, run_id: int, now: datetime) -> bool:
    games, slots, left = conn.execute(
        select(func.coalesce(func.sum(UNITS.c.games_checked), 0), func.coalesce(func.sum(UNITS.c.slots_created), 0),
               func.count().filter(UNITS.c.status != UnitStatus.DONE)).where(UNITS.c.run_id == run_id)
    ).one()
    values = {"games_checked": games, "slots_created": slots}
    if not left:
        values |= {"status": RunStatus.SUCCEEDED, "finished_at": now}
    closed = conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == RunStatus.RUNNING)
                          .values(**values)).rowcount
    return not left and closed == 1


def abandon_units(session: Session, run_ids: Sequence[int]) -> None:
    """Stop offering the units of runs that were given up; the caller commits."""
    if run_ids:
        session.execute(update(UNITS).where(UNITS.c.run_id.in_(run_ids), UNITS.c.status != UnitStatus.DONE)
                        .values(status=UnitStatus.ABANDONED, token=None))
