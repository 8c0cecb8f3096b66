"""Reading slots: booked ones as time spans (for "would this share the room?") and which
slots customers may book (those the game's schedule still creates)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from sqlalchemy import Float, cast, extract, select
from sqlalchemy.orm import Session

from bookingapp.core.hours import MAX_SLOT_MINUTES
from bookingapp.core.plan import scheduled_times
from bookingapp.models import Game, Slot

_LONGEST_SLOT = timedelta(minutes=MAX_SLOT_MINUTES)


def booked_spans(
    session: Session, game_ids: Iterable[uuid.UUID], first: datetime, last: datetime
) -> dict[uuid.UUID, list[tuple[float, float]]]:
    """Booked slots that may overlap ``first..last``, per game, as sorted POSIX-second spans."""
    # Read as epoch seconds: converting each row to an aware datetime cost more than the rest.
    starts, ends = (cast(extract("epoch", column), Float) for column in (Slot.starts_at, Slot.ends_at))
    spans: dict[uuid.UUID, list[tuple[float, float]]] = {}
    for game_id, start, end in session.execute(
        select(Slot.game_id, starts, ends)
        .where(Slot.game_id.in_(set(game_ids)), Slot.booked > 0)
        .where(Slot.starts_at >= first - _LONGEST_SLOT, Slot.starts_at < last)
        .order_by(Slot.starts_at)
    ):
        spans.setdefault(game_id, []).append((start, end))
    return spans


def offered_slots(game: Game, slots: Sequence[Slot]) -> list[Slot]:
    """The slots new customers may book: those the game's schedule still creates.

    Off-schedule slots (kept after an edit for the bookings they hold) stay out of listings.
    """
    wanted = scheduled_times(game.schedule(), [s.starts_at for s in slots])
    return [s for s in slots if (s.starts_at, s.ends_at) in wanted]


def slot_is_offered(game: Game, slot: Slot) -> bool:
    """Whether a new customer may book ``slot`` as far as the schedule goes."""
    return bool(offered_slots(game, [slot]))
