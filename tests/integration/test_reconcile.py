"""Editing a game reconciles its future slots at once."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select

from bookingapp.errors import SlugTaken, ValidationError
from bookingapp.extensions import db
from bookingapp.services.booking_input import BookingRequest
from bookingapp.models import Booking, BookingStatus, Slot
from bookingapp.services.generation import ensure_window
from bookingapp.services.reconcile import off_schedule_slots, preview_game_change, set_game_active, update_game
from bookingapp.services.slots import offered_slots, slot_is_offered

UTC = timezone.utc
from bookingapp.core.hours import WEEKDAYS
PER_DAY = 12  # make_game: 10:00-22:00, 60-minute slots, Europe/London (UTC in January)


def _hours(*ranges):
    return {day: [list(r) for r in ranges] for day in WEEKDAYS}


def _filled(make_game, clock, **overrides):
    game = make_game(**overrides)
    ensure_window(db.session, game, now=clock.now(), default_days=7)
    return game


def _slot(game, starts_at) -> Slot:
    return db.session.scalar(select(Slot).where(Slot.game_id == game.id, Slot.starts_at == starts_at))


def _book(slot: Slot, seats: int, status=BookingStatus.CONFIRMED) -> None:
    ref = f"R{slot.id:07d}{seats}"
    db.session.add(
        Booking(reference=ref, slot_id=slot.id, customer_name="A", email="a@example.com",
                party_size=seats, status=status, cancel_token_hash="x" * 64)
    )
    if status is BookingStatus.CONFIRMED:
        slot.booked += seats
    db.session.commit()


def _count(game) -> int:
    return db.session.scalar(select(func.count()).select_from(Slot).where(Slot.game_id == game.id))


def _update(game, clock, **data):
    return update_game(db.session, game, data, now=clock.now(), default_days=7)


def _at(day, hour, minute=0):
    return datetime(2027, 1, day, hour, minute, tzinfo=UTC)


def test_shortened_hours_remove_the_unbooked_slots_that_no_longer_fit(any_app, clock, make_game):
    game = _filled(make_game, clock)
    plan = _update(game, clock, weekly_hours=_hours(("10:00", "18:00")))
    assert (plan.removed_count, plan.added_count, len(plan.kept)) == (28, 0, 0)
    assert _count(game) == 7 * 8
    assert plan.summary().startswith("28 unbooked slots removed, 0 added, 0 booked slots kept off-schedule")


def test_shortened_hours_keep_a_booked_slot_off_schedule(any_app, clock, make_game):
    game = _filled(make_game, clock)
    booked = _slot(game, _at(14, 20))
    _book(booked, 2)
    plan = _update(game, clock, weekly_hours=_hours(("10:00", "18:00")))
    assert (plan.removed_count, len(plan.kept)) == (27, 1)
    assert _count(game) == 7 * 8 + 1
    kept = off_schedule_slots(db.session, game, now=clock.now())
    assert [s.id for s in kept] == [booked.id]
    db.session.refresh(booked)
    assert booked.booked == 2
    assert not slot_is_offered(game, booked)
    assert slot_is_offered(game, _slot(game, _at(14, 10)))


def test_longer_slots_replace_the_old_ones_but_not_over_a_kept_booking(any_app, clock, make_game):
    game = _filled(make_game, clock)
    _book(_slot(game, _at(14, 10)), 1)
    plan = _update(game, clock, slot_minutes=90)
    # 90-minute slots from 10:00: 10:00, 11:30 … 20:30, eight a day; the booked 10:00-11:00
    # stays and the new 10:00-11:30 on that day would share its room, so it is not made.
    assert (plan.removed_count, plan.added_count, len(plan.kept), len(plan.blocked)) == (83, 55, 1, 1)
    assert plan.blocked[0].starts_at == _at(14, 10)
    rows = db.session.execute(select(Slot.starts_at, Slot.ends_at).where(Slot.game_id == game.id)).all()
    assert Counter(end - start for start, end in rows) == {timedelta(minutes=90): 55, timedelta(minutes=60): 1}


def test_lower_capacity_never_goes_below_the_seats_booked(any_app, clock, make_game):
    game = _filled(make_game, clock)
    crowded = _slot(game, _at(14, 12))
    _book(crowded, 3)
    plan = _update(game, clock, capacity=2)
    assert [s.id for s in plan.over_capacity] == [crowded.id]
    assert plan.capacity_changed == 7 * PER_DAY
    capacities = dict(db.session.execute(select(Slot.id, Slot.capacity).where(Slot.game_id == game.id)).all())
    assert capacities.pop(crowded.id) == 3
    assert set(capacities.values()) == {2}


def test_capacity_changes_leave_past_slots_alone(any_app, clock, make_game):
    game = _filled(make_game, clock)
    clock.set(_at(13, 15, 30))
    _update(game, clock, capacity=6)
    past = db.session.scalars(select(Slot.capacity).where(Slot.game_id == game.id, Slot.starts_at <= clock.now()))
    assert set(past) == {4}


def test_an_added_closure_removes_that_days_unbooked_slots(any_app, clock, make_game):
    game = _filled(make_game, clock)
    _book(_slot(game, _at(15, 11)), 1)
    plan = _update(game, clock, closures=["2027-01-15"])
    assert (plan.removed_count, len(plan.kept)) == (PER_DAY - 1, 1)
    on_day = db.session.scalars(
        select(Slot.starts_at).where(Slot.game_id == game.id, Slot.starts_at.between(_at(15, 0), _at(15, 23)))
    ).all()
    assert on_day == [_at(15, 11)]


def test_a_new_time_zone_moves_every_unbooked_future_slot(any_app, clock, make_game):
    game = _filled(make_game, clock)
    plan = _update(game, clock, timezone="America/New_York")
    # 10:00-22:00 in New York is 15:00-03:00 UTC: the 15:00-21:00 UTC slots fit both zones,
    # the five earlier ones a day go and five later ones come.
    assert (plan.removed_count, plan.added_count) == (7 * 5, 7 * 5)
    first = db.session.scalar(select(func.min(Slot.starts_at)).where(Slot.game_id == game.id))
    assert first == _at(13, 15)  # 10:00 in New York
    last = db.session.scalar(select(func.max(Slot.starts_at)).where(Slot.game_id == game.id))
    assert last == _at(20, 2)  # 21:00 on the 19th in New York
    db.session.refresh(game)
    assert game.generated_through == date(2027, 1, 19)


def test_dry_run_preview_changes_nothing(any_app, clock, make_game):
    game = _filled(make_game, clock)
    fields, plan = preview_game_change(
        db.session, game, {"weekly_hours": _hours(("12:00", "14:00")), "capacity": 9}, now=clock.now(), default_days=7
    )
    assert fields["capacity"] == 9 and plan.removed_count == 70
    db.session.rollback()
    db.session.refresh(game)
    assert (game.capacity, _count(game)) == (4, 7 * PER_DAY)
    assert set(db.session.scalars(select(Slot.capacity))) == {4}


def test_an_edit_keeps_the_future_tail_of_yesterdays_past_midnight_range(any_app, clock, make_game):
    game = _filled(make_game, clock, weekly_hours=_hours(("22:00", "02:00")))
    clock.set(_at(14, 0, 30))
    plan = _update(game, clock, description="Now with snacks")
    assert plan.removed_count == 0 and plan.added_count == 4  # only the new last day of the window
    assert _slot(game, _at(14, 1)) is not None


def test_a_slot_with_only_cancelled_bookings_is_refitted_not_deleted(any_app, clock, make_game):
    game = _filled(make_game, clock)
    cancelled = _slot(game, _at(14, 10))
    _book(cancelled, 1, status=BookingStatus.CANCELLED)
    _update(game, clock, slot_minutes=90)
    db.session.refresh(cancelled)
    assert cancelled.ends_at == _at(14, 11, 30)


def test_a_booking_made_after_the_preview_keeps_its_slot(any_app, clock, make_game):
    game = _filled(make_game, clock)
    _, plan = preview_game_change(db.session, game, {"weekly_hours": _hours(("10:00", "18:00"))}, now=clock.now(), default_days=7)
    late = _slot(game, _at(16, 21))
    _book(late, 1)
    plan = _update(game, clock, weekly_hours=_hours(("10:00", "18:00")))
    assert late.id in [s.id for s in plan.kept]
    assert _slot(game, _at(16, 21)) is not None


def test_deactivating_keeps_slots_and_reactivating_refills_the_window(any_app, clock, make_game):
    game = _filled(make_game, clock)
    plan = set_game_active(db.session, game, False, now=clock.now(), default_days=7)
    assert plan.changes_nothing and not game.is_active
    clock.advance(days=3)
    plan = set_game_active(db.session, game, True, now=clock.now(), default_days=7)
    assert plan.added_count == 3 * PER_DAY
    db.session.refresh(game)
    assert game.generated_through == date(2027, 1, 22)


def test_an_edit_refuses_bad_fields_and_writes_nothing(any_app, clock, make_game):
    game = _filled(make_game, clock)
    with pytest.raises(ValidationError) as caught:
        _update(game, clock, slot_minutes=0, timezone="Mars/Olympus")
    assert set(caught.value.fields) == {"slot_minutes", "timezone"}
    db.session.rollback()
    assert _count(game) == 7 * PER_DAY


def test_an_edit_to_another_games_slug_is_refused(any_app, clock, make_game):
    make_game(slug="taken")
    game = _filled(make_game, clock)
    with pytest.raises(SlugTaken):
        _update(game, clock, slug="taken")


def test_offered_slots_hide_off_schedule_ones_from_a_listing(app, clock, make_game):
    game = _filled(make_game, clock)
    _book(_slot(game, _at(14, 21)), 1)
    _update(game, clock, weekly_hours=_hours(("10:00", "18:00")))
    slots = db.session.scalars(select(Slot).where(Slot.game_id == game.id).order_by(Slot.starts_at)).all()
    offered = offered_slots(game, slots)
    assert len(slots) - len(offered) == 1
    assert all(s.starts_at.hour < 18 for s in offered)


def test_a_repair_pass_does_not_recreate_a_slot_over_a_kept_booking(any_app, clock, make_game):
    game = _filled(make_game, clock)
    _book(_slot(game, _at(14, 11)), 1)
    plan = _update(game, clock, slot_minutes=90)
    # The kept 11:00-12:00 booking blocks both 10:00-11:30 and 11:30-13:00.
    assert [t.starts_at for t in plan.blocked] == [_at(14, 10), _at(14, 11, 30)]
    before = _count(game)
    assert ensure_window(db.session, game, now=clock.now(), default_days=7, repair=True) == 0
    assert _count(game) == before


def test_a_slot_blocked_by_a_kept_booking_does_not_count_as_a_missing_day(any_app, clock, make_game):
    from bookingapp.services.status import window_status

    game = _filled(make_game, clock)
    _book(_slot(game, _at(14, 11)), 1)
    _update(game, clock, slot_minutes=90)
    assert window_status(db.session, game, now=clock.now(), default_days=7).missing_days == ()
    db.session.execute(delete(Slot).where(Slot.game_id == game.id, Slot.starts_at == _at(15, 13)))
    db.session.commit()
    assert window_status(db.session, game, now=clock.now(), default_days=7).missing_days == (date(2027, 1, 15),)


def test_the_customer_side_neither_lists_nor_books_an_off_schedule_slot(app, clock, make_game):
    from bookingapp.services import bookings as booking
    from bookingapp.errors import SlotNotFound

    game = _filled(make_game, clock)
    kept = _slot(game, _at(14, 20))
    _book(kept, 1)
    _update(game, clock, weekly_hours=_hours(("10:00", "18:00")))
    listed = booking.list_bookable_slots(db.session, game, date(2027, 1, 14), date(2027, 1, 14), clock.now())
    assert [o.starts_at.hour for o in listed] == list(range(10, 18))
    with pytest.raises(SlotNotFound):
        booking.book_slot(db.session, BookingRequest(kept.id, "Late Comer", "late@example.com", 1), clock.now(), game_id=game.id)
    db.session.refresh(kept)
    assert kept.booked == 1
