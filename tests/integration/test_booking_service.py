"""The booking service on PostgreSQL and SQLite: listing, booking, cancelling, both modes."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests.booking_helpers import fill, slot_at
from bookingapp.core import tokens
from bookingapp.services import bookings as service
from bookingapp.services.catalog import get_active_game, list_active_games, next_free_starts
from bookingapp.errors import (
    BadCancelToken, BookingNotFound, GameNotFound, SlotClosed, SlotFull, SlotNotFound, ValidationError,
)
from bookingapp.extensions import db
from bookingapp.services.booking_input import BookingRequest
from bookingapp.models import Booking, BookingStatus

UTC = timezone.utc
TODAY = date(2027, 1, 13)
TEN = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)  # the first slot after DEFAULT_NOW (09:30 UTC)


def _book(slot, clock, party=1, **kwargs):
    return service.book_slot(db.session, BookingRequest(slot.id, "Ada Lovelace", "ada@example.com", party), clock.now(), **kwargs)


def test_listing_shows_todays_future_slots_in_the_games_zone(any_app, clock, make_game):
    game = make_game(timezone="America/New_York")
    fill(game, clock)
    offers = service.list_bookable_slots(db.session, game, TODAY, TODAY, clock.now())
    assert [o.starts_at.hour for o in offers] == list(range(10, 22))
    assert offers[0].starts_at.isoformat() == "2027-01-13T10:00:00-05:00"
    assert all(o.available == 4 and o.capacity == 4 for o in offers)


def test_listing_hides_past_slots_and_those_inside_min_notice(any_app, clock, make_game):
    game = make_game(min_notice_minutes=120)
    fill(game, clock)
    clock.advance(hours=2)  # 11:30: 10:00 and 11:00 are past, 12:00 and 13:00 inside the notice
    offers = service.list_bookable_slots(db.session, game, TODAY, TODAY, clock.now())
    assert offers[0].starts_at == datetime(2027, 1, 13, 14, 0, tzinfo=UTC)


def test_listing_covers_whole_local_days_inclusive(any_app, clock, make_game):
    game = make_game(timezone="Pacific/Auckland", weekly_hours={d: [["00:00", "24:00"]] for d in
                     ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    fill(game, clock)
    day = date(2027, 1, 16)
    offers = service.list_bookable_slots(db.session, game, day, day + timedelta(days=1), clock.now())
    assert len(offers) == 48
    assert {o.starts_at.date() for o in offers} == {day, day + timedelta(days=1)}


def test_booking_takes_seats_and_full_slots_stay_listed_with_nothing_available(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    slot = slot_at(game, TEN)
    made = _book(slot, clock, party=4)
    assert made.booking.status is BookingStatus.CONFIRMED
    assert made.booking.party_size == 4
    assert tokens.normalize_reference(made.booking.reference) == made.booking.reference
    assert made.booking.cancel_token_hash == tokens.hash_token(made.cancel_token)
    assert slot_at(game, TEN).booked == 4
    offers = service.list_bookable_slots(db.session, game, TODAY, TODAY, clock.now())
    assert (offers[0].id, offers[0].available) == (slot.id, 0)


def test_a_party_larger_than_the_free_seats_is_refused_as_full(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    slot = slot_at(game, TEN)
    _book(slot, clock, party=3)
    with pytest.raises(SlotFull) as raised:
        _book(slot, clock, party=2)
    assert "only 1 seat left" in raised.value.message
    assert slot_at(game, TEN).booked == 3
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


@pytest.mark.parametrize("party", [0, -1, 5, True, "2", 2.0, None])
def test_party_sizes_no_slot_could_take_are_invalid(any_app, clock, make_game, party):
    game = make_game()
    fill(game, clock)
    with pytest.raises(ValidationError) as raised:
        _book(slot_at(game, TEN), clock, party=party)
    assert "party_size" in raised.value.fields
    assert slot_at(game, TEN).booked == 0


def test_bad_name_and_email_are_named_together(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    with pytest.raises(ValidationError) as raised:
        service.book_slot(db.session, BookingRequest(slot_at(game, TEN).id, " ", "not-an-email", 1), clock.now())
    assert set(raised.value.fields) == {"name", "email"}


def test_huge_and_control_character_names_are_refused(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    for name in ("x" * 121, "Ada\x00"):
        with pytest.raises(ValidationError):
            service.book_slot(db.session, BookingRequest(slot_at(game, TEN).id, name, "a@example.com", 1), clock.now())


def test_unknown_slots_and_slots_of_another_game_are_not_found(any_app, clock, make_game):
    game, other = make_game(), make_game()
    fill(game, clock)
    with pytest.raises(SlotNotFound):
        _book(type("S", (), {"id": 10**12})(), clock)
    with pytest.raises(SlotNotFound):
        _book(slot_at(game, TEN), clock, game_id=other.id)


def test_past_slots_and_slots_inside_min_notice_are_closed_on_the_server(any_app, clock, make_game):
    game = make_game(min_notice_minutes=60)
    fill(game, clock)
    with pytest.raises(SlotClosed, match="too soon"):
        _book(slot_at(game, TEN), clock)  # starts in 30 minutes
    clock.advance(hours=1)
    with pytest.raises(SlotClosed, match="already started"):
        _book(slot_at(game, TEN), clock)
    assert slot_at(game, TEN).booked == 0


def test_deactivated_games_take_no_bookings_but_theirs_stand(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock)
    game.is_active = False
    db.session.commit()
    with pytest.raises(SlotNotFound):
        _book(slot_at(game, TEN), clock)
    with pytest.raises(GameNotFound):
        get_active_game(db.session, slug=game.slug)
    assert list_active_games(db.session) == []
    booking = service.get_booking(db.session, made.booking.reference, made.cancel_token)
    assert booking.status is BookingStatus.CONFIRMED


def test_private_slot_takes_one_group_and_reopens_when_it_cancels(any_app, clock, make_game):
    game = make_game(booking_mode="private", capacity=6, min_party=2)
    fill(game, clock)
    slot = slot_at(game, TEN)
    with pytest.raises(ValidationError, match="party size"):
        _book(slot, clock, party=1)
    made = _book(slot, clock, party=2)
    with pytest.raises(SlotFull, match="another group has booked this session"):
        _book(slot, clock, party=2)
    offers = service.list_bookable_slots(db.session, game, TODAY, TODAY, clock.now())
    assert offers[0].available == 0
    service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    assert service.list_bookable_slots(db.session, game, TODAY, TODAY, clock.now())[0].available == 6
    assert _book(slot, clock, party=6).booking.party_size == 6


def test_cancelling_frees_the_seats_once_and_again_changes_nothing(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    slot = slot_at(game, TEN)
    made = _book(slot, clock, party=3)
    _book(slot, clock, party=1)
    first = service.cancel_booking(db.session, made.booking.reference.lower(), made.cancel_token, clock.now())
    again = service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    assert first.status is again.status is BookingStatus.CANCELLED
    assert again.cancelled_at == clock.now()
    assert slot_at(game, TEN).booked == 1


def test_cancelling_needs_the_right_token_and_a_known_reference(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock)
    for token in ("wrong", "", None, "x" * 10_000):
        with pytest.raises(BadCancelToken):
            service.cancel_booking(db.session, made.booking.reference, token, clock.now())
    for reference in ("AAAAAAAA", "not a ref", "0" * 8, "x" * 1000, None):
        with pytest.raises(BookingNotFound):
            service.cancel_booking(db.session, reference, made.cancel_token, clock.now())
    assert slot_at(game, TEN).booked == 1


def test_a_session_that_started_can_no_longer_be_cancelled(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock)
    clock.advance(minutes=30)
    with pytest.raises(SlotClosed):
        service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    assert slot_at(game, TEN).booked == 1


def test_a_reference_collision_is_retried_with_a_fresh_reference(any_app, clock, make_game, monkeypatch):
    game = make_game()
    fill(game, clock)
    first = _book(slot_at(game, TEN), clock)
    drawn = iter([first.booking.reference, first.booking.reference, "K7Q2M9XD"])
    monkeypatch.setattr(tokens, "new_reference", lambda: next(drawn))
    second = _book(slot_at(game, TEN), clock)
    assert second.booking.reference == "K7Q2M9XD"
    assert slot_at(game, TEN).booked == 2


def test_next_free_slots_skip_full_ones(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    _book(slot_at(game, TEN), clock, party=4)
    offers = service.next_free_slots(db.session, game, clock.now(), limit=2)
    assert [o.starts_at.hour for o in offers] == [11, 12]


def test_next_free_start_per_game_respects_mode_and_notice(any_app, clock, make_game):
    shared = make_game()
    private = make_game(booking_mode="private", capacity=4)
    noticed = make_game(min_notice_minutes=100)
    empty = make_game()
    for game in (shared, private, noticed):
        fill(game, clock)
    _book(slot_at(shared, TEN), clock, party=3)
    _book(slot_at(private, TEN), clock, party=1)
    starts = next_free_starts(db.session, [shared, private, noticed, empty], clock.now())
    assert starts == {
        shared.id: TEN,
        private.id: TEN + timedelta(hours=1),
        noticed.id: TEN + timedelta(hours=2),
    }


@pytest.mark.parametrize("zone, day, first_local_hour, count", [
    ("Europe/London", date(2027, 3, 28), 0, 23),     # spring forward at 01:00: a 23-hour day
    ("Europe/London", date(2027, 10, 31), 0, 24),    # fall back: a 25-hour day, but 01:00 starts a slot only once
    ("America/Havana", date(2027, 3, 14), 1, 23),    # the clock jumps from 00:00 to 01:00: no midnight at all
])
def test_listing_a_local_day_across_dst_takes_exactly_that_days_slots(any_app, clock, make_game, zone, day,
                                                                      first_local_hour, count):
    game = make_game(timezone=zone, weekly_hours={d: [["00:00", "24:00"]] for d in
                     ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    clock.set(datetime.combine(day, datetime.min.time(), tzinfo=UTC) - timedelta(days=2))
    fill(game, clock)
    offers = service.list_bookable_slots(db.session, game, day, day, clock.now())
    assert {o.starts_at.date() for o in offers} == {day}
    assert offers[0].starts_at.hour == first_local_hour
    assert len(offers) == count


def _kept_off_schedule(game, clock, *hours):
    """Book one seat at each of ``hours`` today, then move opening to 12:00-20:00: those slots stay, off-schedule."""
    from bookingapp.services.reconcile import update_game

    for hour in hours:
        _book(slot_at(game, TEN.replace(hour=hour)), clock)
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    plan = update_game(db.session, game, {"weekly_hours": {d: [["12:00", "20:00"]] for d in week}},
                       now=clock.now(), default_days=7)
    assert len(plan.kept) == len(hours)


def test_a_booked_off_schedule_slot_with_seats_left_is_not_a_games_next_free_slot(any_app, clock, make_game):
    game, untouched = make_game(), make_game()
    fill(game, clock)
    fill(untouched, clock)
    _kept_off_schedule(game, clock, 10, 11)
    starts = next_free_starts(db.session, [game, untouched], clock.now())
    assert starts == {game.id: TEN.replace(hour=12), untouched.id: TEN}


def test_a_booked_off_schedule_slot_is_not_offered_as_an_alternative(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    _kept_off_schedule(game, clock, 10)
    offers = service.next_free_slots(db.session, game, clock.now(), limit=3)
    assert [o.starts_at.hour for o in offers] == [12, 13, 14]


def test_alternatives_walk_past_more_off_schedule_slots_than_they_list(any_app, clock, make_game):
    game = make_game()
    fill(game, clock)
    _kept_off_schedule(game, clock, 10, 11, 20, 21)
    assert [o.starts_at.hour for o in service.next_free_slots(db.session, game, clock.now(), limit=1)] == [12]
    later = service.next_free_slots(db.session, game, clock.now(), limit=12)
    assert len(later) == 12
    assert [o.starts_at.hour for o in later] == [12, 13, 14, 15, 16, 17, 18, 19, 12, 13, 14, 15]
    assert [o.starts_at.day for o in later] == [13] * 8 + [14] * 4


def test_a_slot_emptied_by_a_cancellation_and_left_off_schedule_is_not_a_next_free_slot(any_app, clock, make_game):
    from bookingapp.services.reconcile import update_game

    game = make_game()
    fill(game, clock)
    made = _book(slot_at(game, TEN), clock)
    service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    hours = {d: [["12:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    plan = update_game(db.session, game, {"weekly_hours": hours}, now=clock.now(), default_days=7)
    assert len(plan.hidden) == 1  # kept for its cancelled booking's record, never offered
    assert next_free_starts(db.session, [game], clock.now()) == {game.id: TEN.replace(hour=12)}
    assert [o.starts_at.hour for o in service.next_free_slots(db.session, game, clock.now(), limit=2)] == [12, 13]
