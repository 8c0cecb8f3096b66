"""The games customers can see: active ones only, with their next free slot."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import groupby
from typing import Sequence

from sqlalchemy import Select, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from bookingapp.core.plan import fits_schedule
from bookingapp.errors import GameNotFound
from bookingapp.models import Booking, BookingMode, Game, Slot
from bookingapp.services.bookings import next_free_slots
from bookingapp.services.games import SLUG_PATTERN


def list_active_games(session: Session) -> list[Game]:
    """Active games, by name."""
    return list(session.scalars(select(Game).where(Game.is_active.is_(True)).order_by(Game.name, Game.slug)))


@dataclass(frozen=True)
class GamePage:
    """One page of a listing of games: its games, which page, and how many match in all."""

    games: list[Game]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_active_games(session: Session, text: str, *, page: int, per_page: int) -> GamePage:
    """Active games by name whose name holds ``text`` (any case; all when empty), page ``page`` of ``per_page``."""
    query = select(Game).where(Game.is_active.is_(True))
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Game.name.ilike(f"%{escaped}%", escape="\\"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(page, max(1, -(-total // per_page)))  # past the end: the last page
    games = session.scalars(query.order_by(Game.name, Game.slug).offset((page - 1) * per_page).limit(per_page))
    return GamePage(list(games), page, per_page, total)


def page_active_games(session: Session, *, after: tuple[str, str] | None, limit: int) -> list[Game]:
    """Up to ``limit`` active games by (name, slug), starting after the game ``after`` names.

    Keyset paging: a page is one index range however deep, and a game added meanwhile
    shows up on a later page or not at all, never twice.
    """
    query = select(Game).where(Game.is_active.is_(True)).order_by(Game.name, Game.slug).limit(limit)
    if after is not None:
        query = query.where(tuple_(Game.name, Game.slug) > tuple_(*after))
    return list(session.scalars(query))


def get_active_game(session: Session, *, slug: object = None, game_id: object = None) -> Game:
    """The active game with this slug or id (any text accepted); GameNotFound otherwise."""
    game = None
    if isinstance(slug, str) and SLUG_PATTERN.fullmatch(slug):
        # Only a well-formed slug is looked up: PostgreSQL refuses some text (a NUL) outright.
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
    """The start of each game's next slot with a free seat that its schedule still offers, where it has one.

    One query per distinct minimum notice (usually one or two), not one per game; each
    game's answer is a walk along its (game_id, starts_at) index that stops at the first
    free slot, so the cost does not grow with the length of the windows. Where that slot
    is one kept off-schedule after an edit (rare), that game alone is walked on past it.
    """
    found: dict[uuid.UUID, datetime] = {}
    by_id = {game.id: game for game in games}
    by_notice = sorted(games, key=lambda g: g.min_notice_minutes or 0)
    for notice, group in groupby(by_notice, key=lambda g: g.min_notice_minutes or 0):
        query = _first_free_query([g.id for g in group], now + timedelta(minutes=notice))
        for game_id, starts_at, booked_ends_at in session.execute(query):
            if starts_at is None:
                continue
            game = by_id[game_id]
            if booked_ends_at is None or fits_schedule(game.schedule(), starts_at, booked_ends_at):
                found[game_id] = starts_at
            elif offers := next_free_slots(session, game, now, limit=1):
                found[game_id] = offers[0].starts_at.astimezone(timezone.utc)
    return found


def _first_free_query(game_ids: Sequence[uuid.UUID], earliest: datetime) -> Select:
    """Each game's first slot from ``earliest`` with a seat free: (game id, its start, its end if it has bookings)."""
    free = aliased(Slot)
    first_start = (
        select(func.min(free.starts_at))
        .where(free.game_id == Game.id, free.starts_at >= earliest)
        .where(free.booked < free.capacity, free.blocked.is_(False))
        .where(or_(Game.booking_mode != BookingMode.PRIVATE, free.booked == 0))
        .correlate(Game)
        .scalar_subquery()
    )
    # Only a slot with bookings on record can be off-schedule: an edit deletes the others
    # that no longer fit, and the generator writes only what the current schedule has.
    # So the end (to check the slot against the schedule) is read for those alone, and
    # the schedule is worked out only for games whose first free slot is partly booked.
    booked_end = (
        select(Slot.ends_at)
        .where(Slot.game_id == Game.id, Slot.starts_at == first_start)
        .where(exists().where(Booking.slot_id == Slot.id))
        .correlate(Game)
        .scalar_subquery()
    )
    return select(Game.id, first_start, booked_end).where(Game.id.in_(game_ids))
