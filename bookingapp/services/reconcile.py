"""Editing a game: preview what it does to future slots, then apply it in one transaction.

The diff itself is pure (``plan.plan_reconcile``); this module loads the stored future
slots, asks the engine for the wanted ones under the new settings and writes the plan.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import case, delete, exists, select, update
from sqlalchemy.orm import Session

from bookingapp.core import engine
from bookingapp.core import hours
from bookingapp.core.plan import ReconcilePlan, StoredSlot, plan_reconcile, scheduled_times
from bookingapp.core.window import window
from bookingapp.errors import SlugTaken
from bookingapp.models import Booking, Game, Slot
from bookingapp.services.bulk import write_rows
from bookingapp.services.checks import forget_game_check
from bookingapp.services import audit, webhooks
from bookingapp.services.audit import Actor
from bookingapp.services.games import game_facts, validate_game

# SQLite refuses statements with more than 32766 parameters; stay well below.
_CHUNK = 1000


@dataclass(frozen=True)
class Horizon:
    """The local dates reconciled: from yesterday (its past-midnight tail) to ``last``."""

    first: date
    last: date


def preview_game_change(
    session: Session, game: Game, data: Mapping[str, Any], *, now: datetime, default_days: int
) -> tuple[dict[str, Any], ReconcilePlan]:
    """Validate a change to ``game`` and plan its effect on future slots; change nothing."""
    fields = validate_game(data, current=game)
    _check_slug_free(session, game, fields["slug"])
    return fields, _plan(session, game, fields, now=now, default_days=default_days)


def update_game(
    session: Session, game: Game, data: Mapping[str, Any], *, now: datetime, default_days: int, actor: Actor | None = None,
) -> ReconcilePlan:
    """Save a change to ``game`` and reconcile its future slots at once; return what was done.

    With ``actor`` the change is audited in the same transaction.
    """
    session.execute(select(Game.id).where(Game.id == game.id).with_for_update())
    fields, plan = preview_game_change(session, game, data, now=now, default_days=default_days)
    before = game_facts(game)
    horizon = _horizon(session, game, fields, now=now, default_days=default_days)
    # A capacity staff set on one slot stands until the game's own capacity changes.
    reset_capacity = fields["capacity"] != game.capacity
    for name, value in fields.items():
        setattr(game, name, value)
    _apply(session, game, plan, now=now, reset_capacity=reset_capacity)
    if game.is_active:
        game.generated_through = max(game.generated_through or horizon.last, horizon.last)
    if actor is not None:
        _audit_edit(session, actor, game, before, now)
    if game_facts(game) != before:
        webhooks.game_event(session, webhooks.GAME_UPDATED, game, now)
    session.commit()
    forget_game_check(game)
    return plan


def _audit_edit(session: Session, actor: Actor, game: Game, before: dict[str, Any], now: datetime) -> None:
    after = game_facts(game)
    changed = [k for k in after if after[k] != before.get(k)]
    if not changed:
        return
    action = "game.edit"
    if changed == ["is_active"]:
        action = "game.activate" if game.is_active else "game.deactivate"
    audit.record(session, actor, audit.Change(
        action, "game", str(game.id), {k: before[k] for k in changed}, {k: after[k] for k in changed}
    ), now)


def set_game_active(
    session: Session, game: Game, active: bool, *, now: datetime, default_days: int, actor: Actor | None = None,
) -> ReconcilePlan:
    """Deactivate (hide, stop generating; bookings stand) or reactivate and refill a game."""
    return update_game(session, game, {"is_active": active}, now=now, default_days=default_days, actor=actor)


def _check_slug_free(session: Session, game: Game, slug: str) -> None:
    other = session.scalar(select(Game.id).where(Game.slug == slug, Game.id != game.id))
    if other is not None:
        raise SlugTaken(f"the slug {slug!r} is taken", {"slug": "is taken"})


def _plan(session: Session, game: Game, fields: Mapping[str, Any], *, now: datetime, default_days: int) -> ReconcilePlan:
    stored = _stored_future_slots(session, game, now)
    horizon = _horizon(session, game, fields, now=now, default_days=default_days, stored=stored)
    wanted = [
        s for s in engine.slots_between(engine.schedule_from(fields), horizon.first, horizon.last) if s.starts_at > now
    ]
    return plan_reconcile(stored, wanted, capacity=fields["capacity"], create=fields["is_active"])


def _horizon(session, game, fields, *, now, default_days, stored: Sequence[StoredSlot] | None = None) -> Horizon:
    """Yesterday through the end of the new window, or further if slots are already stored further."""
    zone = hours.validate_timezone(fields["timezone"])
    days = window(now, zone, fields["days_ahead"] or default_days)
    today, last = days.first, days.last
    if game.generated_through is not None:
        last = max(last, game.generated_through)
    if stored is None:
        stored = _stored_future_slots(session, game, now)
    if stored:
        last = max(last, stored[-1].starts_at.astimezone(zone).date())
    return Horizon(today - timedelta(days=1), last)


def _stored_future_slots(session: Session, game: Game, now: datetime) -> list[StoredSlot]:
    has_bookings = exists().where(Booking.slot_id == Slot.id)
    rows = session.execute(
        select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.capacity, Slot.booked, has_bookings)
        .where(Slot.game_id == game.id, Slot.starts_at > now)
        .order_by(Slot.starts_at)
    )
    return [StoredSlot(*row) for row in rows]


def _apply(session: Session, game: Game, plan: ReconcilePlan, *, now: datetime, reset_capacity: bool) -> None:
    """Write a plan inside the caller's transaction (slot blocks are left as they are)."""
    for chunk in _chunks(plan.remove):
        # Re-checked in the statement: a booking that landed since the plan keeps its slot.
        session.execute(
            delete(Slot)
            .where(Slot.id.in_(chunk), Slot.booked == 0, ~exists().where(Booking.slot_id == Slot.id))
            .execution_options(synchronize_session=False)
        )
    for slot_id, times in plan.refit:
        session.execute(
            update(Slot)
            .where(Slot.id == slot_id, Slot.booked == 0)
            .values(ends_at=times.ends_at)
            .execution_options(synchronize_session=False)
        )
    if reset_capacity:
        session.execute(
            update(Slot)
            .where(Slot.game_id == game.id, Slot.starts_at > now)
            .values(capacity=case((Slot.booked > plan.capacity, Slot.booked), else_=plan.capacity))
            .execution_options(synchronize_session=False)
        )
    write_rows(session, [(game.id, s.starts_at, s.ends_at, plan.capacity) for s in plan.add])


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def off_schedule_slots(session: Session, game: Game, *, now: datetime) -> list[StoredSlot]:
    """Future booked slots the game's schedule no longer creates (kept for their bookings)."""
    stored = [s for s in _stored_future_slots(session, game, now) if s.booked > 0]
    wanted = scheduled_times(game.schedule(), [s.starts_at for s in stored])
    return [s for s in stored if s.times not in wanted]
