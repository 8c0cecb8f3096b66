"""What staff see at a glance: each game's window and the bookings ahead of it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookingapp.models import Booking, BookingStatus, Game, Slot
from bookingapp.services.status import WindowStatus, window_status


@dataclass(frozen=True)
class GameOverview:
    game: Game
    window: WindowStatus
    bookings_ahead: int
    seats_ahead: int


@dataclass(frozen=True)
class OverviewPage:
    rows: list[GameOverview]
    page: int
    pages: int
    total: int


def games_overview(session: Session, *, now: datetime, default_days: int, page: int = 1, per_page: int = 50) -> OverviewPage:
    """One page of every game (active first, then by name) with its window status and future bookings."""
    total = session.scalar(select(func.count()).select_from(Game)) or 0
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    games = session.scalars(
        select(Game).order_by(Game.is_active.desc(), Game.name, Game.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    ahead = _bookings_ahead(session, now, [game.id for game in games])
    rows = [
        GameOverview(game, window_status(session, game, now=now, default_days=default_days), *ahead.get(game.id, (0, 0)))
        for game in games
    ]
    return OverviewPage(rows, page, pages, total)


def _bookings_ahead(session: Session, now: datetime, game_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    rows = session.execute(
        select(Slot.game_id, func.count(Booking.id), func.coalesce(func.sum(Booking.party_size), 0))
        .join(Booking, Booking.slot_id == Slot.id)
        .where(Slot.game_id.in_(game_ids), Slot.starts_at > now, Booking.status == BookingStatus.CONFIRMED)
        .group_by(Slot.game_id)
    )
    return {game_id: (count, seats) for game_id, count, seats in rows}


def get_game(session: Session, game_id: str | uuid.UUID) -> Game | None:
    """The game with this id (a malformed id finds nothing)."""
    try:
        return session.get(Game, game_id if isinstance(game_id, uuid.UUID) else uuid.UUID(str(game_id)))
    except ValueError:
        return None
