"""Write the slots the engine computes: set-based, idempotent, resumable.

The engine decides which slots a game should have; this module decides which local
days still need writing (from each game's ``generated_through`` watermark, or the
whole window in repair mode) and writes them in bulk with ``INSERT … ON CONFLICT DO
NOTHING``, rows sorted by ``(game_id, starts_at)`` so racing writers never deadlock.
The unique ``(game_id, starts_at)`` constraint, not any lock, is what keeps slots
from being duplicated. A lock on each batch's game rows is what keeps a pass from
writing a schedule that a staff edit replaced after the pass read it.

On PostgreSQL, days past the watermark (nothing of them written yet: the daily
top-up, a new game) are streamed with COPY straight into the table while the engine
computes the next game; should a racing writer have got there first, the unique
constraint refuses the COPY, it is undone, and the rows are merged in instead.
"""
from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable, Iterator, Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from bookingapp.core import engine
from bookingapp.core.spans import SpanIndex
from bookingapp.core.window import DayRange, local_today, window_dates
from bookingapp.models import Game
from bookingapp.services import bulk
from bookingapp.services.bulk import SlotRow
from bookingapp.services.slots import booked_spans

log = logging.getLogger("bookingapp.slots")

# Games written per transaction: small enough that a killed worker loses little,
# large enough that a daily top-up of many games costs few round trips.
BATCH_GAMES = 200
# Games read per query when a pass goes over the table: a pass holds this many at a time.
STREAM_GAMES = 1000
# What planning a game reads of its row.
PLAN_COLUMNS = ("id", "name", "capacity", "timezone", "slot_minutes", "gap_minutes", "weekly_hours",
                "closures", "days_ahead", "generated_through", "updated_at")


@dataclass(frozen=True)
class KeyRange:
    """Games whose id is at least ``first`` and below ``end`` (None: unbounded), e.g. one unit of a daily run."""

    first: uuid.UUID | None = None
    end: uuid.UUID | None = None

    def where(self, query, column):
        if self.first is not None:
            query = query.where(column >= self.first)
        if self.end is not None:
            query = query.where(column < self.end)
        return query

@dataclass
class GenerationResult:
    """What a pass over some games did."""

    games_checked: int = 0
    slots_created: int = 0
    created_by_game: dict[uuid.UUID, int] = field(default_factory=dict)
    stopped_early: bool = False


@dataclass(frozen=True)
class PassOptions:
    """How one generation pass runs; only ``default_days`` (the site's window length) is needed.

    ``days`` overrides each game's own window length; ``repair`` rewrites whole windows so
    holes anywhere are filled. ``keep_going`` is asked before each batch (the daily run's
    pacing and its lease); when it answers False the pass stops and what was committed
    stays. ``progress`` is told the running totals inside each batch's transaction, so
    what it records commits with the slots it counts.
    """

    default_days: int
    days: int | None = None
    repair: bool = False
    keep_going: Callable[[], bool] = lambda: True
    progress: Callable[[Session, GenerationResult], None] = lambda session, result: None
    batch_games: int = BATCH_GAMES
    days_per_batch: int | None = None  # split each game's days into batches of this many (a staff job: 1)


def days_to_write(game: Game, *, today: date, days: int, repair: bool) -> DayRange | None:
    """The local days of ``game``'s window still to write, or None when it is full.

    Normally that is the days after the watermark; ``repair`` rewrites the whole
    window so holes anywhere in it are filled.
    """
    first, last = window_dates(today, days)
    if not repair and game.generated_through is not None:
        first = max(first, game.generated_through + timedelta(days=1))
    return DayRange(first, last) if first <= last else None


@dataclass(frozen=True)
class GamePlan:
    """What one game still needs written, read off its row before any commit expires it.

    ``fresh`` means none of these days was written before (they lie past the
    watermark), so no slot of them should exist yet. ``version`` is the row's
    ``updated_at`` as read, so ``ensure_games`` can tell whether an edit committed
    since; callers of ``write_slots`` that lock the row themselves leave it None.
    """

    game_id: uuid.UUID
    name: str
    capacity: int
    schedule: engine.Schedule
    days: DayRange
    fresh: bool = False
    version: datetime | None = None
    continues: bool = False  # a later part of a split plan: its game is counted once, by the first

    def split(self, days: int | None) -> list[GamePlan]:
        """This plan as consecutive plans of at most ``days`` local days each (None: whole)."""
        if days is None:
            return [self]
        starts = self.days.dates()[::days]
        return [
            replace(self, days=DayRange(first, min(first + timedelta(days=days - 1), self.days.last)),
                    continues=first != self.days.first)
            for first in starts
        ]

    def rows(self) -> list[SlotRow]:
        """The rows the engine wants for this game over ``days``."""
        return [
            (self.game_id, s.starts_at, s.ends_at, self.capacity)
            for s in engine.slots_between(self.schedule, self.days.first, self.days.last)
        ]


def plan_game(
    game: Game, *, now: datetime, default_days: int, days: int | None = None, repair: bool = False
) -> GamePlan | None:
    """The plan for ``game`` at ``now``, or None when its window is full.

    It reads only the PLAN_COLUMNS, so a row of them serves as well as a Game.
    """
    today = local_today(now, game.timezone)
    todo = days_to_write(game, today=today, days=days or Game.window_days(game, default_days), repair=repair)
    if todo is None:
        return None
    fresh = game.generated_through is None or todo.first > game.generated_through
    return GamePlan(game.id, game.name, game.capacity, Game.schedule(game), todo, fresh, game.updated_at)


def write_slots(session: Session, plans: Sequence[GamePlan]) -> Counter[uuid.UUID]:
    """Insert the planned slots that are not there yet; return how many were created per game.

    Rows go in ``(game_id, starts_at)`` order. Runs inside the caller's transaction;
    the caller commits.
    """
    ordered = sorted(plans, key=lambda p: p.game_id)
    if not ordered:
        return Counter()
    booked = _booked_index(session, ordered)
    if session.get_bind().dialect.name != "postgresql":
        return bulk.insert_rows(session, _rows(ordered, booked))
    with session.connection().connection.driver_connection.cursor() as cursor:
        # Only when the whole batch is fresh, so every writer inserts in one key order.
        if all(plan.fresh for plan in ordered):
            created = bulk.copy_fresh(cursor, _rows(ordered, booked))
            if created is not None:
                return created
        return bulk.merge_rows(cursor, _rows(ordered, booked))


def _rows(plans: Iterable[GamePlan], booked: dict[uuid.UUID, SpanIndex]) -> Iterator[SlotRow]:
    # A generator: COPY streams each game's rows while the server inserts the last ones.
    for plan in plans:
        index = booked.get(plan.game_id)
        if index is None:
            yield from plan.rows()
        else:
            yield from (row for row in plan.rows() if not index.overlaps(row[1], row[2]))


def _booked_index(session: Session, plans: Sequence[GamePlan]) -> dict[uuid.UUID, SpanIndex]:
    """Booked slots the plans' rows could overlap, per game (usually none: one cheap query).

    After a schedule edit, booked slots that no longer fit are kept (off-schedule); a
    repair pass must not put a second session in the same room at the same time.
    """
    # Local dates sit within a day of UTC, and a past-midnight range runs into the next date.
    first = datetime.combine(min(p.days.first for p in plans) - timedelta(days=1), time(0), timezone.utc)
    last = datetime.combine(max(p.days.last for p in plans) + timedelta(days=3), time(0), timezone.utc)
    by_game = booked_spans(session, [p.game_id for p in plans], first, last)
    return {game_id: SpanIndex(game_spans) for game_id, game_spans in by_game.items()}


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


def ensure_games(session: Session, games: Iterable[Game], *, now: datetime, options: PassOptions) -> GenerationResult:
    """Fill the window of each of ``games``, committing a batch of games at a time."""
    ordered = sorted(games, key=lambda g: g.id)
    return _write_plans(session, _plans(ordered, now, options), options, GenerationResult())


def ensure_active_games(
    session: Session, *, now: datetime, options: PassOptions,
    game_ids: Sequence[uuid.UUID] | None = None, key_range: KeyRange = KeyRange(),
) -> GenerationResult:
    """Fill the window of every active game (only ``game_ids``, or those in ``key_range``).

    The games are read STREAM_GAMES at a time by key range, as plain rows: memory holds one
    stretch of the table, never all of it, and no commit has loaded objects to expire.
    """
    result = GenerationResult()
    for count, games in _active_games(session, now, options, game_ids, key_range):
        result.games_checked += count - len(games)  # their windows are full already
        _write_plans(session, _plans(games, now, options), options, result)
        if result.stopped_early:
            break
    return result


def _active_games(
    session: Session, now: datetime, options: PassOptions, game_ids: Sequence[uuid.UUID] | None, key_range: KeyRange
) -> Iterator[tuple[int, list]]:
    """Each stretch of active games: how many it held, and the rows of those with days to write.

    A stretch is read in two steps: the few columns that tell whether a window is full,
    then the rest only for the games that need writing, so a pass with nothing to do
    decodes no weekly hours.
    """
    table = Game.__table__
    active = key_range.where(select(table.c.id).where(table.c.is_active.is_(True)), table.c.id)
    if game_ids is not None:
        active = active.where(table.c.id.in_(game_ids))
    light = active.add_columns(table.c.timezone, table.c.days_ahead, table.c.generated_through)
    after = None
    while True:
        page = light if after is None else light.where(table.c.id > after)
        stretch = session.execute(page.order_by(table.c.id).limit(STREAM_GAMES)).all()
        if not stretch:
            return
        due = [game.id for game in stretch if _has_days_to_write(game, now, options)]
        full = select(*(table.c[name] for name in PLAN_COLUMNS)).where(table.c.is_active.is_(True), table.c.id.in_(due))
        yield len(stretch), session.execute(full.order_by(table.c.id)).all() if due else []
        after = stretch[-1].id


def _has_days_to_write(game, now: datetime, options: PassOptions) -> bool:
    days = options.days or Game.window_days(game, options.default_days)
    return days_to_write(game, today=local_today(now, game.timezone), days=days, repair=options.repair) is not None


def _plans(games: Iterable, now: datetime, options: PassOptions) -> list[GamePlan | None]:
    # Read every game before the first commit: committing expires ORM objects, and
    # touching one afterwards would reload it with a query of its own.
    return [
        part
        for game in games
        for plan in [plan_game(game, now=now, default_days=options.default_days, days=options.days,
                               repair=options.repair)]
        for part in (plan.split(options.days_per_batch) if plan else [None])
    ]


def _write_plans(session: Session, plans: Sequence[GamePlan | None], options: PassOptions,
                 result: GenerationResult) -> GenerationResult:
    for start in range(0, len(plans), options.batch_games):
        if not options.keep_going():
            result.stopped_early = True
            log.warning("Slot generation stopped early after %d games", result.games_checked)
            break
        _ensure_batch(session, plans[start:start + options.batch_games], result, options.progress)
    return result


def _ensure_batch(session: Session, plans: Sequence[GamePlan | None], result: GenerationResult, progress) -> None:
    todo = _still_current(session, [plan for plan in plans if plan is not None])
    for plan in todo:
        log.info("Auto-generating slots for %s (%s..%s)", plan.name, plan.days.first, plan.days.last)
    created = write_slots(session, todo)
    _advance_watermarks(session, {plan.game_id: plan.days.last for plan in todo})
    result.games_checked += sum(1 for plan in plans if plan is None or not plan.continues)
    for plan in todo:
        count = created.get(plan.game_id, 0)
        result.created_by_game[plan.game_id] = count
        result.slots_created += count
        log.info("Created %d slots for %s", count, plan.name)
    progress(session, result)
    session.commit()


def _still_current(session: Session, plans: Sequence[GamePlan]) -> list[GamePlan]:
    """The plans whose game is unchanged since it was planned, its row locked until the caller commits.

    A staff edit (``games.reconcile``) locks the game row, rewrites its future slots to
    the new schedule, advances the watermark and commits; a plan read before that commit
    describes the old schedule and would put back what the edit removed. Such a game
    (or a deleted one) is dropped, not re-planned: the edit has written its window
    already, and the next pass reads the fresh row. Plans are in game-id order, so
    passes lock rows in one order and never deadlock.
    """
    if not plans:
        return []
    table = Game.__table__
    ids = [plan.game_id for plan in plans]
    query = select(table.c.id, table.c.updated_at).where(table.c.id.in_(ids)).order_by(table.c.id)
    if session.get_bind().dialect.name == "postgresql":
        # FOR NO KEY UPDATE, the lock the watermark UPDATE takes at the end anyway. With
        # FOR SHARE, two passes over one game would both hold it and deadlock upgrading it.
        query = query.with_for_update(key_share=True)
    else:
        # SQLite has no row locks: take its database write lock before reading the versions.
        session.execute(update(table).where(table.c.id.in_(ids)).values(updated_at=table.c.updated_at))
    versions = dict(session.execute(query).all())
    stale = [plan.name for plan in plans if versions.get(plan.game_id) != plan.version]
    if stale:
        log.info("Skipping games edited or removed since this pass read them: %s", ", ".join(stale))
    return [plan for plan in plans if versions.get(plan.game_id) == plan.version]


def ensure_window(
    session: Session, game: Game, *, now: datetime, default_days: int, repair: bool = False
) -> int:
    """Fill one game's window; return the number of slots created."""
    return ensure_games(session, [game], now=now, options=PassOptions(default_days, repair=repair)).slots_created
