"""The pure diff between stored future slots and the slots a schedule wants."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bookingapp.core import engine
from bookingapp.core import hours
from bookingapp.core.engine import SlotTimes
from bookingapp.core.plan import StoredSlot, fits_schedule, plan_reconcile

UTC = timezone.utc
BASE = datetime(2027, 1, 14, 10, tzinfo=UTC)


def _times(hour: float, minutes: int = 60) -> SlotTimes:
    start = BASE + timedelta(hours=hour - 10)
    return SlotTimes(start, start + timedelta(minutes=minutes))


def _stored(slot_id: int, hour: float, *, booked=0, capacity=4, minutes=60, history=False) -> StoredSlot:
    times = _times(hour, minutes)
    return StoredSlot(slot_id, times.starts_at, times.ends_at, capacity, booked, history or booked > 0)


def test_identical_slots_plan_no_change():
    plan = plan_reconcile([_stored(1, 10), _stored(2, 11)], [_times(10), _times(11)], capacity=4)
    assert plan.changes_nothing
    assert plan.summary() == "No change to future slots."


def test_unbooked_misfits_go_and_missing_slots_come():
    plan = plan_reconcile([_stored(1, 10), _stored(2, 11)], [_times(11), _times(12)], capacity=4)
    assert plan.remove == [1] and plan.add == [_times(12)]
    assert plan.summary() == "1 unbooked slot removed, 1 added, 0 booked slots kept off-schedule."


def test_a_booked_misfit_stays_and_blocks_every_wanted_slot_it_overlaps():
    stored = [_stored(1, 10, booked=2, minutes=90)]
    wanted = [_times(9.5), _times(10.5), _times(11.5), _times(12)]
    plan = plan_reconcile(stored, wanted, capacity=4)
    assert [s.id for s in plan.kept] == [1]
    assert plan.blocked == [_times(9.5), _times(10.5)]
    assert plan.add == [_times(11.5), _times(12)]


def test_a_wanted_slot_ending_as_a_kept_one_starts_is_not_blocked():
    plan = plan_reconcile([_stored(1, 11, booked=1, minutes=30)], [_times(10)], capacity=4)
    assert plan.add == [_times(10)] and not plan.blocked


def test_an_emptied_slot_with_history_is_refitted_or_hidden_but_never_removed():
    stored = [_stored(1, 10, history=True), _stored(2, 13, history=True)]
    plan = plan_reconcile(stored, [_times(10, 90)], capacity=4)
    assert plan.refit == [(1, _times(10, 90))]
    assert [s.id for s in plan.hidden] == [2]
    assert plan.remove == [] and plan.add == []


def test_capacity_counts_slots_changed_and_those_booked_beyond_it():
    stored = [_stored(1, 10, booked=3), _stored(2, 11), _stored(3, 12, capacity=2)]
    plan = plan_reconcile(stored, [_times(10), _times(11), _times(12)], capacity=2)
    assert plan.capacity_changed == 2  # slot 1 keeps 3 seats (4 -> 3), slot 2 goes 4 -> 2
    assert [s.id for s in plan.over_capacity] == [1]


def test_an_inactive_game_plans_removals_but_no_additions():
    plan = plan_reconcile([_stored(1, 10)], [_times(11)], capacity=4, create=False)
    assert plan.remove == [1] and plan.add == []


def test_fits_schedule_knows_a_past_midnight_slot_belongs_to_the_day_before():
    week = hours.parse_weekly_hours({"wed": [["22:00", "02:00"]]})
    schedule = engine.Schedule("Europe/London", 60, week)
    late = datetime(2027, 1, 14, 1, tzinfo=UTC)  # Thursday 01:00, from Wednesday's range
    assert fits_schedule(schedule, late, late + timedelta(hours=1))
    assert not fits_schedule(schedule, late, late + timedelta(minutes=30))
    assert not fits_schedule(schedule, late + timedelta(days=1), late + timedelta(days=1, hours=1))


def test_the_changes_are_listed_by_local_day_with_a_count_past_the_limit():
    from zoneinfo import ZoneInfo

    stored = [_stored(1, 10), _stored(2, 11, booked=1), _stored(3, 23.5, minutes=30)]  # 23:30 UTC = 08:30 in Tokyo
    plan = plan_reconcile(stored, [_times(12), _times(13)], capacity=4)
    assert [(c.starts_at.hour, c.change) for c in plan.changes()] == [
        (10, "removed"), (11, "kept"), (12, "added"), (13, "added"), (23, "removed")]
    days, more = plan.changes_by_day(ZoneInfo("Asia/Tokyo"), limit=4)
    assert [(day.isoformat(), [(c.starts_at.strftime("%H:%M"), c.change) for c in changes]) for day, changes in days] == [
        ("2027-01-14", [("19:00", "removed"), ("20:00", "kept"), ("21:00", "added"), ("22:00", "added")])]
    assert more == 1
    assert plan.as_json()["more_changes"] == 0 and len(plan.as_json()["changes"]) == 5
