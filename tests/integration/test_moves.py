"""Moving bookings: never oversold, private rules kept, a full target changes nothing; races on PostgreSQL."""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bookingapp.errors import DomainError, SlotClosed, SlotFull, SlotNotFound
from bookingapp.extensions import db
from bookingapp.models import AuditEvent, Booking, BookingStatus, Slot
from bookingapp.services import bookings as service
from bookingapp.services.audit import Actor
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.moves import MoveRequest, move_booking
from bookingapp.services.slot_admin import set_slot_blocked

from tests.booking_helpers import fill, slot_at

UTC = timezone.utc
TEN = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)
STAFF = Actor("alice", "user")


def _book(slot, clock, party=1, name="Ada"):
    return service.book_slot(db.session, BookingRequest(slot.id, name, "ada@example.com", party), clock.now())


def _state(*slots):
    db.session.expire_all()
    return [db.session.get(Slot, s.id).booked for s in slots]


def test_staff_move_takes_new_seats_frees_old_ones_and_keeps_reference_and_token(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    old, new = slot_at(game, TEN), slot_at(game, TEN + timedelta(hours=3))
    made = _book(old, clock, party=3)
    moved = move_booking(db.session, MoveRequest(made.booking.reference, new.id, actor=STAFF), clock.now())
    assert moved.slot_id == new.id and moved.reference == made.booking.reference
    assert _state(old, new) == [0, 3]
    assert service.get_booking(db.session, made.booking.reference, made.cancel_token).slot_id == new.id
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.action, event.before, event.after) == ("booking.move", {"slot_id": old.id}, {"slot_id": new.id})


def test_staff_move_to_another_active_game(any_app, clock, make_game):
    game, other = make_game(), make_game()
    fill(game, clock), fill(other, clock)
    made = _book(slot_at(game, TEN), clock, party=2)
    target = slot_at(other, TEN)
    move_booking(db.session, MoveRequest(made.booking.reference, target.id, actor=STAFF), clock.now())
    assert _state(slot_at(game, TEN), target) == [0, 2]


def test_a_move_into_a_full_slot_changes_nothing(any_app, clock, make_game):
    game = make_game(capacity=4)
    fill(game, clock)
    old, full = slot_at(game, TEN), slot_at(game, TEN + timedelta(hours=1))
    made = _book(old, clock, party=2)
    _book(full, clock, party=3)
    with pytest.raises(SlotFull):
        move_booking(db.session, MoveRequest(made.booking.reference, full.id, actor=STAFF), clock.now())
    assert _state(old, full) == [2, 3]
    assert db.session.get(Booking, made.booking.id).slot_id == old.id
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_move_into_a_taken_private_slot_changes_nothing(any_app, clock, make_game):
    game = make_game(capacity=6, booking_mode="private", min_party=2)
    fill(game, clock)
    old, taken = slot_at(game, TEN), slot_at(game, TEN + timedelta(hours=1))
    made = _book(old, clock, party=2)
    _book(taken, clock, party=2)
    with pytest.raises(SlotFull):
        move_booking(db.session, MoveRequest(made.booking.reference, taken.id, actor=STAFF), clock.now())
    assert _state(old, taken) == [2, 2]  # the slot already holds a group: no second one


def test_moves_never_go_to_a_blocked_or_started_slot(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN + timedelta(hours=1)), clock)
    blocked = slot_at(game, TEN + timedelta(hours=2))
    set_slot_blocked(db.session, blocked.id, True, "party", STAFF, clock.now())
    with pytest.raises(SlotNotFound):
        move_booking(db.session, MoveRequest(made.booking.reference, blocked.id, actor=STAFF), clock.now())
    clock.advance(timedelta(minutes=45))  # 10:15: the 10:00 slot has started
    with pytest.raises(SlotClosed):
        move_booking(db.session, MoveRequest(made.booking.reference, slot_at(game, TEN).id, actor=STAFF), clock.now())
    assert db.session.get(Booking, made.booking.id).slot_id == slot_at(game, TEN + timedelta(hours=1)).id


def test_customer_moves_within_the_same_game_outside_notice_and_before_the_cut_off(any_app, clock, make_game):
    game, other = make_game(min_notice_minutes=60), make_game()
    game.cancel_cutoff_minutes = 120
    db.session.commit()
    fill(game, clock), fill(other, clock)
    made = _book(slot_at(game, TEN + timedelta(hours=4)), clock)  # 14:00
    ref, token = made.booking.reference, made.cancel_token
    with pytest.raises(SlotNotFound):  # another game: staff only
        move_booking(db.session, MoveRequest(ref, slot_at(other, TEN + timedelta(hours=5)).id, token=token), clock.now())
    with pytest.raises(SlotClosed):  # 10:00 is inside the 60-minute notice at 09:30
        move_booking(db.session, MoveRequest(ref, slot_at(game, TEN).id, token=token), clock.now())
    moved = move_booking(db.session, MoveRequest(ref, slot_at(game, TEN + timedelta(hours=2)).id, token=token), clock.now())
    assert moved.slot_id == slot_at(game, TEN + timedelta(hours=2)).id  # 12:00
    clock.advance(timedelta(hours=1))  # 10:30: 12:00 is inside the 120-minute cut-off
    with pytest.raises(SlotClosed):
        move_booking(db.session, MoveRequest(ref, slot_at(game, TEN + timedelta(hours=6)).id, token=token), clock.now())
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0  # customers are not staff


def test_a_customer_needs_the_right_token(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock)
    with pytest.raises(DomainError) as refused:
        move_booking(db.session, MoveRequest(made.booking.reference, slot_at(game, TEN + timedelta(hours=1)).id, token="x"), clock.now())
    assert refused.value.code == "bad_cancel_token"


def test_a_cancelled_booking_cannot_move(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock)
    service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    with pytest.raises(DomainError) as refused:
        move_booking(db.session, MoveRequest(made.booking.reference, slot_at(game, TEN + timedelta(hours=1)).id, actor=STAFF), clock.now())
    assert refused.value.code == "booking_cancelled"


def _race(app, calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        with app.app_context():
            barrier.wait()
            try:
                call()
                return "ok"
            except DomainError as exc:
                return exc.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_a_hundred_racing_moves_and_bookings_into_three_free_seats(app, clock, make_game):
    game = make_game(capacity=60)
    fill(game, clock)
    target = slot_at(game, TEN)
    _book(target, clock, party=57)  # 3 seats left
    sources = [slot_at(game, TEN + timedelta(hours=h)) for h in range(1, 11)]
    movers = [_book(sources[n % 10], clock, name=f"Mover {n}").booking.reference for n in range(50)]
    now = clock.now()
    calls = [
        (lambda ref=ref: move_booking(db.session, MoveRequest(ref, target.id, actor=STAFF), now)) for ref in movers
    ] + [
        (lambda: service.book_slot(db.session, BookingRequest(target.id, "Racer", "r@example.com", 1), now))
        for _ in range(50)
    ]
    outcomes = _race(app, calls)
    assert Counter(outcomes) == {"ok": 3, "slot_full": 97}
    db.session.expire_all()
    confirmed = lambda slot_id: db.session.scalar(  # noqa: E731
        select(func.coalesce(func.sum(Booking.party_size), 0))
        .where(Booking.slot_id == slot_id, Booking.status == BookingStatus.CONFIRMED)
    )
    assert db.session.get(Slot, target.id).booked == 60 == confirmed(target.id)
    moved_away = sum(1 for code in outcomes[:50] if code == "ok")
    assert sum(db.session.get(Slot, s.id).booked for s in sources) == 50 - moved_away
    for source in sources:  # each source slot freed exactly once per booking that left it
        assert db.session.get(Slot, source.id).booked == confirmed(source.id)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == moved_away
