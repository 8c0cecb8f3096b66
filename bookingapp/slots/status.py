"""How full each game's window is: what operators and staff read before acting."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Game, Slot
from . import engine


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
    first, last = engine.window_dates(engine.local_today(now, game.timezone), game.window_days(default_days))
    schedule = game.schedule()
    wanted = {first + timedelta(days=i): [] for i in range((last - first).days + 1)}
    for day in wanted:
        wanted[day] = [s.starts_at for s in engine.slots_for_day(schedule, day)]
    starts = [s for day_starts in wanted.values() for s in day_starts]
    stored: set[datetime] = set()
    if starts:
        stored = set(
            session.scalars(
                select(Slot.starts_at).where(
                    Slot.game_id == game.id, Slot.starts_at.between(min(starts), max(starts))
                )
            )
        )
    missing = tuple(day for day, day_starts in wanted.items() if not stored.issuperset(day_starts))
    next_slot = session.scalar(
        select(func.min(Slot.starts_at)).where(Slot.game_id == game.id, Slot.starts_at > now)
    )
    return WindowStatus(first, last, game.generated_through, missing, next_slot)
