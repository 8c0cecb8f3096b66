"""Slot blocks and capacity: a block survives generation, repair and edits that keep the slot."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select

from bookingapp.errors import DomainError, SlotNotFound, ValidationError
from bookingapp.extensions import db
from bookingapp.models import AuditEvent, BookingSource, Slot
from bookingapp.services import bookings as service
from bookingapp.services.audit import Actor
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.reconcile import update_game
from bookingapp.services.slot_admin import set_slot_blocked, set_slot_capacity

from tests.booking_helpers import fill, slot_at

UTC = timezone.utc
TEN = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)
STAFF = Actor("alice", "user")


def _audit_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_a_blocked_slot_is_never_offered_nor_bookable(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    slot = slot_at(game, TEN)
    set_slot_blocked(db.session, slot.id, True, "Broken door", STAFF, clock.now())
    offers = service.list_bookable_slots(db.session, game, TEN.date(), TEN.date(), clock.now())
    assert slot.id not in [o.id for o in offers]
    assert service.next_free_slots(db.session, game, clock.now(), limit=1)[0].id != slot.id
    for source in ("online", "staff"):
        with pytest.raises(SlotNotFound):
            request = BookingRequest(slot.id, "Ada", "a@example.com", 1, source=BookingSource(source))
            service.book_slot(db.session, request, clock.now())
    set_slot_blocked(db.session, slot.id, False, None, STAFF, clock.now())
    assert service.book_slot(db.session, BookingRequest(slot.id, "Ada", "a@example.com", 1), clock.now()).booking


def test_blocking_twice_records_once_and_a_bad_reason_changes_nothing(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    slot = slot_at(game, TEN)
    set_slot_blocked(db.session, slot.id, True, "Private party", STAFF, clock.now())
    set_slot_blocked(db.session, slot.id, True, "Private party", STAFF, clock.now())
    with pytest.raises(ValidationError):
        set_slot_blocked(db.session, slot.id, True, "x" * 201, STAFF, clock.now())
    assert _audit_rows() == 1 and slot_at(game, TEN).block_reason == "Private party"


def test_a_block_survives_generate_repair_and_an_edit_that_keeps_the_slot(app, runner, clock, make_game):
    game = make_game()
    fill(game, clock)
    slot = slot_at(game, TEN + timedelta(hours=2))
    set_slot_blocked(db.session, slot.id, True, "Maintenance", STAFF, clock.now())
    # A hole elsewhere makes the repair write rows on that day.
    db.session.execute(delete(Slot).where(Slot.game_id == game.id, Slot.starts_at == TEN + timedelta(hours=3)))
    db.session.commit()
    assert runner.invoke(args=["slots", "generate"]).exit_code == 0
    update_game(db.session, db.session.get(type(game), game.id), {"name": "Renamed", "capacity": 6},
                now=clock.now(), default_days=7)
    kept = slot_at(game, TEN + timedelta(hours=2))
    assert (kept.id, kept.blocked, kept.block_reason) == (slot.id, True, "Maintenance")
    assert slot_at(game, TEN + timedelta(hours=3)).blocked is False  # the re-created hole is open


def test_capacity_is_never_set_below_the_seats_booked(any_app, clock, make_game):
    game = make_game(capacity=6)
    fill(game, clock)
    slot = slot_at(game, TEN)
    service.book_slot(db.session, BookingRequest(slot.id, "Ada", "a@example.com", 4), clock.now())
    with pytest.raises(DomainError) as refused:
        set_slot_capacity(db.session, slot.id, 3, STAFF, clock.now())
    assert refused.value.code == "capacity_below_booked" and slot_at(game, TEN).capacity == 6
    assert set_slot_capacity(db.session, slot.id, 4, STAFF, clock.now()).capacity == 4
    with pytest.raises(ValidationError):
        set_slot_capacity(db.session, slot.id, "ten", STAFF, clock.now())
    assert _audit_rows() == 1


def test_a_slots_own_capacity_stands_through_an_edit_that_keeps_the_games(any_app, clock, make_game):
    game = make_game(capacity=6)
    fill(game, clock)
    slot = slot_at(game, TEN + timedelta(hours=1))
    set_slot_capacity(db.session, slot.id, 2, STAFF, clock.now())
    update_game(db.session, game, {"name": "Renamed"}, now=clock.now(), default_days=7)
    assert slot_at(game, TEN + timedelta(hours=1)).capacity == 2
