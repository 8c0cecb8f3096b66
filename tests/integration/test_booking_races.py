"""Racing bookings and cancellations on PostgreSQL: never oversold, seats freed once."""
from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from sqlalchemy import func, select

from tests.booking_helpers import fill, slot_at
from bookingapp.errors import DomainError
from bookingapp.extensions import db
from bookingapp.services.booking_input import BookingRequest
from bookingapp.models import Booking, BookingStatus
from bookingapp.services import bookings as service

TEN = datetime(2027, 1, 13, 10, 0, tzinfo=timezone.utc)


def _race(app, calls):
    """Run each call in its own thread and app context, all released at once; return outcomes."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        with app.app_context():
            barrier.wait()
            try:
                return ("ok", call())
            except DomainError as exc:
                return (exc.code, None)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _booker(slot_id, party, now):
    return lambda: service.book_slot(db.session, BookingRequest(slot_id, "Racer", "racer@example.com", party), now).booking.party_size


def _confirmed_seats(slot_id) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(Booking.party_size), 0))
        .where(Booking.slot_id == slot_id, Booking.status == BookingStatus.CONFIRMED)
    )


def test_two_hundred_single_seat_bookings_on_four_seats_confirm_exactly_four(app, clock, make_game):
    game = make_game(capacity=4)
    fill(game, clock)
    slot = slot_at(game, TEN)
    outcomes = _race(app, [_booker(slot.id, 1, clock.now()) for _ in range(200)])
    assert Counter(code for code, _ in outcomes) == {"ok": 4, "slot_full": 196}
    assert slot_at(game, TEN).booked == 4 == _confirmed_seats(slot.id)


def test_mixed_party_sizes_never_exceed_capacity_and_seats_match_bookings(app, clock, make_game):
    game = make_game(capacity=10)
    fill(game, clock)
    slot = slot_at(game, TEN)
    parties = [random.Random(n).randint(1, 4) for n in range(120)]
    outcomes = _race(app, [_booker(slot.id, p, clock.now()) for p in parties])
    taken = sum(size for code, size in outcomes if code == "ok")
    assert {code for code, _ in outcomes} <= {"ok", "slot_full"}
    assert slot_at(game, TEN).booked == taken == _confirmed_seats(slot.id)
    # Every refused party was bigger than what was left at the end: nothing was refused needlessly.
    refused = [p for (code, _), p in zip(outcomes, parties) if code == "slot_full"]
    assert all(p > 10 - taken for p in refused)


def test_many_cancellations_of_one_booking_free_its_seats_once(app, clock, make_game):
    game = make_game(capacity=8)
    fill(game, clock)
    slot = slot_at(game, TEN)
    kept = service.book_slot(db.session, BookingRequest(slot.id, "Keeps", "k@example.com", 2), clock.now())
    made = service.book_slot(db.session, BookingRequest(slot.id, "Leaves", "l@example.com", 3), clock.now())
    reference, token = made.booking.reference, made.cancel_token
    cancel = lambda: service.cancel_booking(db.session, reference, token, clock.now()).status  # noqa: E731
    outcomes = _race(app, [cancel for _ in range(50)])
    assert outcomes == [("ok", BookingStatus.CANCELLED)] * 50
    assert slot_at(game, TEN).booked == 2 == kept.booking.party_size


def test_bookings_racing_cancellations_keep_seats_equal_to_confirmed_parties(app, clock, make_game):
    game = make_game(capacity=4)
    fill(game, clock)
    slot = slot_at(game, TEN)
    made = [service.book_slot(db.session, BookingRequest(slot.id, "Early", "e@example.com", 1), clock.now()) for _ in range(4)]
    cancels = [
        (lambda m=m: service.cancel_booking(db.session, m.booking.reference, m.cancel_token, clock.now()).party_size)
        for m in made
    ]
    outcomes = _race(app, cancels + [_booker(slot.id, 1, clock.now()) for _ in range(40)])
    assert {code for code, _ in outcomes} <= {"ok", "slot_full"}
    assert slot_at(game, TEN).booked == _confirmed_seats(slot.id) <= 4


def test_private_slot_raced_by_many_groups_goes_to_exactly_one(app, clock, make_game):
    game = make_game(booking_mode="private", capacity=6, min_party=2)
    fill(game, clock)
    slot = slot_at(game, TEN)
    outcomes = _race(app, [_booker(slot.id, 2 + n % 5, clock.now()) for n in range(60)])
    winners = [size for code, size in outcomes if code == "ok"]
    assert len(winners) == 1
    assert Counter(code for code, _ in outcomes)["slot_full"] == 59
    assert slot_at(game, TEN).booked == winners[0] == _confirmed_seats(slot.id)
