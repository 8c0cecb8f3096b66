"""Shared by the booking tests: fill a game's window, find its slots."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import Slot
from bookingapp.services.generation import ensure_window


def fill(game, clock, days: int = 7) -> None:
    """Write the game's window as of the clock's now."""
    ensure_window(db.session, game, now=clock.now(), default_days=days)


def slot_at(game, starts_at: datetime) -> Slot:
    """The game's slot starting at ``starts_at`` (fresh from the database)."""
    db.session.expire_all()
    return db.session.scalars(select(Slot).where(Slot.game_id == game.id, Slot.starts_at == starts_at)).one()
