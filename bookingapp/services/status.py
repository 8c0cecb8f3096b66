"""How full each game's window is: what operators and staff read before acting."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookingapp.core import engine
from bookingapp.core.spans import SpanIndex
from bookingapp.models import Game, Slot
from bookingapp.services.slots import booked_spans


@dataclass(frozen=True)
class WindowStatus:
    first: date
    last: date
    generated_through: date | None
    missing_days: tuple[date, ...]
    next_slot: datetime | None

    @property
    def is_full(self) -> bool:
        return not self.missing_days


def window_status(session: Session, game: Game, *, now: datetime, default_days: int) -> WindowStatus:
    """Compare the slots a game's window should have with those stored."""
    days = game.window(now, default_days)
    first, last = days.first, days.last
    schedule = game.schedule()
    wanted = {day: engine.slots_for_day(schedule, day) for day in days.dates()}
    starts = [s.starts_at for day_slots in wanted.values() for s in day_slots]
    stored: set[datetime] = set()
    if starts:
        stored = set(
            session.scalars(
                select(Slot.starts_at).where(
                    Slot.game_id == game.id, Slot.starts_at.between(min(starts), max(starts))
                )
            )
        )
    missing = _missing_days(session, game, wanted, stored)
    next_slot = session.scalar(
        select(func.min(Slot.starts_at)).where(Slot.game_id == game.id, Slot.starts_at > now)
    )
    return WindowStatus(first, last, game.generated_through, missing, next_slot)


def _missing_days(session: Session, game: Game, wanted: dict, stored: set[datetime]) -> tuple[date, ...]:
    """Days with a wanted slot not stored, unless a booked slot kept after an edit holds its room."""
    absent = {day: [s for s in slots if s.starts_at not in stored] for day, slots in wanted.items()}
    absent = {day: slots for day, slots in absent.items() if slots}
    if not absent:
        return ()
    all_absent = [s for slots in absent.values() for s in slots]
    spans = SpanIndex(booked_spans(
        session, [game.id], min(s.starts_at for s in all_absent), max(s.ends_at for s in all_absent)
    ).get(game.id, []))
    return tuple(day for day, slots in absent.items() if not all(spans.overlaps(s.starts_at, s.ends_at) for s in slots))
