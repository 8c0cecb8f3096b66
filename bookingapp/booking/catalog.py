"""The games customers can see: active ones only, with their next free slot."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from itertools import groupby
from typing import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..errors import GameNotFound
from ..models import BookingMode, Game, Slot


def list_active_games(session: Session) -> list[Game]:
    """Active games, by name."""
    return list(session.scalars(select(Game).where(Game.is_active.is_(True)).order_by(Game.name, Game.slug)))


def get_active_game(session: Session, *, slug: object = None, game_id: object = None) -> Game:
    """The active game with this slug or id (any text accepted); GameNotFound otherwise."""
    game = None
    if isinstance(slug, str) and len(slug) <= 80:
        game = session.scalar(select(Game).where(Game.slug == slug))
    elif game_id is not None:
        parsed = _uuid(game_id)
        game = session.get(Game, parsed) if parsed else None
    if game is None or not game.is_active:
        raise GameNotFound("There is no such game.")
    return game


def _uuid(raw: object) -> uuid.UUID | None:
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw)[:64])
    except ValueError:
        return None


def next_free_starts(session: Session, games: Sequence[Game], now: datetime) -> dict[uuid.UUID, datetime]:
    """The start of each game's next slot with a free seat, where it has one.

    One query per distinct minimum notice (usually one or two), not one per game; each
    game's answer is a walk along its (game_id, starts_at) index that stops at the first
    free slot, so the cost does not grow with the length of the windows.
    """
    found: dict[uuid.UUID, datetime] = {}
    by_notice = sorted(games, key=lambda g: g.min_notice_minutes or 0)
    for notice, group in groupby(by_notice, key=lambda g: g.min_notice_minutes or 0):
        first_free = (
            select(func.min(Slot.starts_at))
            .where(Slot.game_id == Game.id, Slot.starts_at >= now + timedelta(minutes=notice))
            .where(Slot.booked < Slot.capacity)
            .where(or_(Game.booking_mode != BookingMode.PRIVATE, Slot.booked == 0))
            .correlate(Game)
            .scalar_subquery()
        )
        query = select(Game.id, first_free).where(Game.id.in_([g.id for g in group]))
        found.update({game_id: start for game_id, start in session.execute(query) if start is not None})
    return found
