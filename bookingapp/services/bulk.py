"""Bulk slot writes: rows in, how many were created per game out.

Every writer inserts in ``(game_id, starts_at)`` order and leaves what is there
alone, so racing writers neither deadlock nor duplicate; the caller owns the
transaction and commits.
"""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Iterable, Sequence

import psycopg
from sqlalchemy.orm import Session

from bookingapp.extensions import insert_for
from bookingapp.models import Slot

SlotRow = tuple[uuid.UUID, datetime, datetime, int]


def write_rows(session: Session, rows: Sequence[SlotRow]) -> Counter[uuid.UUID]:
    """Insert explicit rows (e.g. what a schedule edit adds) that are not there yet.

    Merged like a repair, in ``(game_id, starts_at)`` order; the caller commits.
    """
    ordered = sorted(rows, key=lambda r: (r[0], r[1]))
    if not ordered:
        return Counter()
    if session.get_bind().dialect.name != "postgresql":
        return insert_rows(session, ordered)
    with session.connection().connection.driver_connection.cursor() as cursor:
        return merge_rows(cursor, ordered)


def copy_fresh(cursor: psycopg.Cursor, rows: Iterable[SlotRow]) -> Counter[uuid.UUID] | None:
    """COPY rows straight into slots; None (and nothing written) if one was there already."""
    created: Counter[uuid.UUID] = Counter()
    cursor.execute("SAVEPOINT slot_copy")
    try:
        with cursor.copy(
            "COPY slots (game_id, starts_at, ends_at, capacity, booked) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            # Binary COPY skips formatting every timestamp as text: several times faster.
            copy.set_types(["uuid", "timestamptz", "timestamptz", "int4", "int4"])
            for game_id, starts_at, ends_at, capacity in rows:
                copy.write_row((game_id, starts_at, ends_at, capacity, 0))
                created[game_id] += 1
    except psycopg.errors.UniqueViolation:
        # A racing writer (or a repair) got there first: undo this attempt and merge.
        cursor.execute("ROLLBACK TO SAVEPOINT slot_copy")
        return None
    cursor.execute("RELEASE SAVEPOINT slot_copy")
    return created


def merge_rows(cursor: psycopg.Cursor, rows: Iterable[SlotRow]) -> Counter[uuid.UUID]:
    """COPY rows into a staging table, then insert those missing from slots in one statement."""
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS slot_stage "
        "(game_id uuid, starts_at timestamptz, ends_at timestamptz, capacity int) "
        "ON COMMIT DELETE ROWS"
    )
    cursor.execute("TRUNCATE slot_stage")
    with cursor.copy(
        "COPY slot_stage (game_id, starts_at, ends_at, capacity) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["uuid", "timestamptz", "timestamptz", "int4"])
        for row in rows:
            copy.write_row(row)
    cursor.execute(
        "WITH created AS ("
        " INSERT INTO slots (game_id, starts_at, ends_at, capacity, booked)"
        " SELECT game_id, starts_at, ends_at, capacity, 0 FROM slot_stage"
        " ORDER BY game_id, starts_at"
        " ON CONFLICT (game_id, starts_at) DO NOTHING RETURNING game_id)"
        " SELECT game_id, count(*) FROM created GROUP BY game_id"
    )
    return Counter(dict(cursor.fetchall()))


def insert_rows(session: Session, rows: Iterable[SlotRow]) -> Counter[uuid.UUID]:
    """One executemany ``INSERT … ON CONFLICT DO NOTHING`` (SQLite; any SQLAlchemy dialect)."""
    insert = insert_for(session.get_bind())
    statement = (
        insert(Slot)
        .on_conflict_do_nothing(index_elements=["game_id", "starts_at"])
        .returning(Slot.game_id)
    )
    params = [
        {"game_id": g, "starts_at": s, "ends_at": e, "capacity": c, "booked": 0} for g, s, e, c in rows
    ]
    if not params:  # an empty executemany would run once, inserting a row of defaults
        return Counter()
    return Counter(session.scalars(statement, params).all())
