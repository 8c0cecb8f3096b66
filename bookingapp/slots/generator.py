"""Write the slots the engine computes: set-based, idempotent, resumable.

The engine decides which slots a game should have; this module decides which local
days still need writing (from each game's ``generated_through`` watermark, or the
whole window in repair mode) and writes them in bulk with ``INSERT … ON CONFLICT DO
NOTHING``, rows sorted by ``(game_id, starts_at)`` so racing writers never deadlock.
The unique ``(game_id, starts_at)`` constraint, not any lock, is what keeps slots
from being duplicated.
"""
from __future__ import annotations

import bisect
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Game, Slot
from . import engine

log = logging.getLogger("bookingapp.slots")

# Games written per transaction: small enough that a killed worker loses little,
# large enough that a daily top-up of many games costs few round trips.
BATCH_GAMES = 200
_LONGEST_SLOT = timedelta(minutes=engine.MAX_SLOT_MINUTES)
_LONGEST_SLOT_S = _LONGEST_SLOT.total_seconds()

SlotRow = tuple[uuid.UUID, datetime, datetime, int]


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass
class GenerationResult:
    """What a pass over some games did."""

    games_checked: int = 0
    slots_created: int = 0
    created_by_game: dict[uuid.UUID, int] = field(default_factory=dict)
    stopped_early: bool = False


def days_to_write(game: Game, *, today: date, days: int, repair: bool) -> DayRange | None:
    """The local days of ``game``'s window still to write, or None when it is full.

    Normally that is the days after the watermark; ``repair`` rewrites the whole
    window so holes anywhere in it are filled.
    """
    first, last = engine.window_dates(today, days)
    if not repair and game.generated_through is not None:
        first = max(first, game.generated_through + timedelta(days=1))
    return DayRange(first, last) if first <= last else None


def slot_rows(game: Game, days: DayRange) -> list[SlotRow]:
    """The rows the engine wants for ``game`` over ``days``."""
    return [
        (game.id, s.starts_at, s.ends_at, game.capacity)
        for s in engine.slots_between(game.schedule(), days.first, days.last)
    ]


def write_slots(session: Session, rows: Sequence[SlotRow]) -> Counter[uuid.UUID]:
    """Insert ``rows`` that are not there yet; return how many were created per game.

    Runs inside the caller's transaction; the caller commits.
    """
    rows = _clear_of_booked_slots(session, rows)
    if not rows:
        return Counter()
    ordered = sorted(rows, key=lambda r: (r[0], r[1]))
    if session.get_bind().dialect.name == "postgresql":
        return _write_postgresql(session, ordered)
    return _write_generic(session, ordered)


def _clear_of_booked_slots(session: Session, rows: Sequence[SlotRow]) -> Sequence[SlotRow]:
    """Drop rows that would share the room with a booked slot at other times.

    After a schedule edit, booked slots that no longer fit are kept (off-schedule); a
    repair pass must not put a new session in the same room at the same time.
    """
    if not rows:
        return rows
    booked = booked_spans(session, {r[0] for r in rows}, min(r[1] for r in rows), max(r[2] for r in rows))
    if not booked:
        return rows
    index = {game_id: SpanIndex(spans) for game_id, spans in booked.items()}
    return [r for r in rows if r[0] not in index or not index[r[0]].overlaps(r[1], r[2])]


def booked_spans(
    session: Session, game_ids: Iterable[uuid.UUID], first: datetime, last: datetime
) -> dict[uuid.UUID, list[tuple[datetime, datetime]]]:
    """``(starts_at, ends_at)`` of booked slots that may overlap ``first..last``, per game, by start."""
    spans: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
    for game_id, starts_at, ends_at in session.execute(
        select(Slot.game_id, Slot.starts_at, Slot.ends_at)
        .where(Slot.game_id.in_(set(game_ids)), Slot.booked > 0)
        .where(Slot.starts_at >= first - _LONGEST_SLOT, Slot.starts_at < last)
        .order_by(Slot.starts_at)
    ):
        spans.setdefault(game_id, []).append((starts_at, ends_at))
    return spans


class SpanIndex:
    """Spans sorted by start (each under a day long), asked "does this interval meet one?"."""

    def __init__(self, spans: Sequence[tuple[datetime, datetime]]):
        # Plain floats: bisect over them runs in C, tuples of datetimes would not.
        self._starts = [s.timestamp() for s, _ in spans]
        self._ends = [e.timestamp() for _, e in spans]

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        start, end = starts_at.timestamp(), ends_at.timestamp()
        low = bisect.bisect_left(self._starts, start - _LONGEST_SLOT_S)
        high = bisect.bisect_left(self._starts, end, low)
        return any(self._ends[i] > start for i in range(low, high))


def _write_postgresql(session: Session, rows: Sequence[SlotRow]) -> Counter[uuid.UUID]:
    # COPY into a per-connection staging table, then one set-based insert: several
    # times faster than any multi-row INSERT, and still one transaction.
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS slot_stage "
            "(game_id uuid, starts_at timestamptz, ends_at timestamptz, capacity int) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE slot_stage")
        with cursor.copy("COPY slot_stage (game_id, starts_at, ends_at, capacity) FROM STDIN") as copy:
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


def _write_generic(session: Session, rows: Sequence[SlotRow]) -> Counter[uuid.UUID]:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Slot)
        .on_conflict_do_nothing(index_elements=["game_id", "starts_at"])
        .returning(Slot.game_id)
    )
    params = [
        {"game_id": g, "starts_at": s, "ends_at": e, "capacity": c, "booked": 0} for g, s, e, c in rows
    ]
    return Counter(session.scalars(statement, params).all())


def _advance_watermarks(session: Session, through: dict[uuid.UUID, date]) -> None:
    if not through:
        return
    table = Game.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("gid"))
        .where((table.c.generated_through.is_(None)) | (table.c.generated_through < bindparam("through")))
        .values(generated_through=bindparam("through"), updated_at=table.c.updated_at)
    )
    session.connection().execute(statement, [{"gid": g, "through": d} for g, d in through.items()])


def ensure_games(
    session: Session,
    games: Iterable[Game],
    *,
    now: datetime,
    default_days: int,
    days: int | None = None,
    repair: bool = False,
    keep_going: Callable[[], bool] = lambda: True,
    batch_games: int = BATCH_GAMES,
) -> GenerationResult:
    """Fill the window of each game, committing a batch of games at a time.

    ``days`` overrides each game's own window length. ``keep_going`` is asked before
    each batch; when it answers False the pass stops, and what was committed stays
    (a later pass resumes from the watermarks).
    """
    result = GenerationResult()
    ordered = sorted(games, key=lambda g: g.id)
    for start in range(0, len(ordered), batch_games):
        if not keep_going():
            result.stopped_early = True
            log.warning("Slot generation stopped early after %d games", result.games_checked)
            break
        _ensure_batch(session, ordered[start:start + batch_games], now, default_days, days, repair, result)
    return result


def _ensure_batch(session, games, now, default_days, days, repair, result) -> None:
    rows: list[SlotRow] = []
    through: dict[uuid.UUID, date] = {}
    names = {}
    for game in games:
        today = engine.local_today(now, game.timezone)
        todo = days_to_write(game, today=today, days=days or game.window_days(default_days), repair=repair)
        result.games_checked += 1
        if todo is None:
            continue
        log.info("Auto-generating slots for %s (%s..%s)", game.name, todo.first, todo.last)
        rows.extend(slot_rows(game, todo))
        through[game.id] = todo.last
        names[game.id] = game.name
    created = write_slots(session, rows)
    _advance_watermarks(session, through)
    session.commit()
    for game_id, name in names.items():
        count = created.get(game_id, 0)
        result.created_by_game[game_id] = count
        result.slots_created += count
        log.info("Created %d slots for %s", count, name)


def ensure_window(
    session: Session, game: Game, *, now: datetime, default_days: int, repair: bool = False
) -> int:
    """Fill one game's window; return the number of slots created."""
    return ensure_games(session, [game], now=now, default_days=default_days, repair=repair).slots_created


def active_games(session: Session, game_ids: Sequence[uuid.UUID] | None = None) -> list[Game]:
    """Active games (optionally only those ids), in id order."""
    query = select(Game).where(Game.is_active.is_(True)).order_by(Game.id)
    if game_ids is not None:
        query = query.where(Game.id.in_(game_ids))
    return list(session.scalars(query))
