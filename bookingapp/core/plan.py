"""What a schedule change does to a game's future slots: a pure diff, no database.

Stored future slots are compared with the slots the engine wants under the new
schedule (the rules in ``engine``): unbooked ones that no longer fit go, missing ones come,
booked ones stay off-schedule, and a wanted slot that would share the room with a
kept booked slot is not created.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from bookingapp.core import engine
from bookingapp.core import hours
from bookingapp.core.engine import SlotTimes

# No slot lasts longer than this, so only slots starting this much earlier can overlap.
_LONGEST_SLOT = timedelta(minutes=hours.MAX_SLOT_MINUTES)


@dataclass(frozen=True)
class StoredSlot:
    """A future slot as stored; ``has_bookings`` counts cancelled bookings too (they pin the row)."""

    id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int
    has_bookings: bool = False

    @property
    def times(self) -> SlotTimes:
        return SlotTimes(self.starts_at, self.ends_at)


# How many changed slots a preview lists one by one; the rest are counted.
LISTED_CHANGES = 50


@dataclass(frozen=True)
class SlotChange:
    """One future slot a plan touches: ``change`` is removed, added, resized, kept (booked, off-schedule),
    hidden (only cancelled bookings) or not_created (a kept booking holds the room)."""

    starts_at: datetime
    ends_at: datetime
    change: str


@dataclass
class ReconcilePlan:
    """The changes to future slots; counts are what staff read before saving."""

    capacity: int
    remove: list[int] = field(default_factory=list)
    removed_times: list[SlotTimes] = field(default_factory=list)  # the times of ``remove``, for the preview
    add: list[SlotTimes] = field(default_factory=list)
    # Emptied slots with cancelled bookings on record: the row stays, refitted to the new length.
    refit: list[tuple[int, SlotTimes]] = field(default_factory=list)
    kept: list[StoredSlot] = field(default_factory=list)
    hidden: list[StoredSlot] = field(default_factory=list)
    blocked: list[SlotTimes] = field(default_factory=list)
    capacity_changed: int = 0
    over_capacity: list[StoredSlot] = field(default_factory=list)

    @property
    def removed_count(self) -> int:
        return len(self.remove) + len(self.refit)

    @property
    def added_count(self) -> int:
        return len(self.add) + len(self.refit)

    @property
    def changes_nothing(self) -> bool:
        return not (self.remove or self.add or self.refit or self.kept or self.hidden or self.capacity_changed)

    def summary(self) -> str:
        """One sentence for staff, e.g. "14 unbooked slots removed, 9 added, 2 booked slots kept off-schedule"."""
        if self.changes_nothing and not self.blocked:
            return "No change to future slots."
        parts = [
            f"{self.removed_count} unbooked slot{_s(self.removed_count)} removed",
            f"{self.added_count} added",
            f"{len(self.kept)} booked slot{_s(len(self.kept))} kept off-schedule",
        ]
        if self.hidden:
            parts.append(f"{len(self.hidden)} slot{_s(len(self.hidden))} with only cancelled bookings kept hidden")
        if self.blocked:
            parts.append(f"{len(self.blocked)} not created because a kept booking holds the room")
        if self.capacity_changed:
            parts.append(f"capacity set to {self.capacity} on {self.capacity_changed} slot{_s(self.capacity_changed)}")
        if self.over_capacity:
            parts.append(
                f"{len(self.over_capacity)} already booked beyond it keep their booked seats"
            )
        return ", ".join(parts) + "."

    def changes(self) -> list[SlotChange]:
        """Every slot the plan touches, by start."""
        kinds = (
            ("removed", self.removed_times), ("added", self.add), ("resized", [t for _, t in self.refit]),
            ("kept", [s.times for s in self.kept]), ("hidden", [s.times for s in self.hidden]),
            ("not_created", self.blocked),
        )
        found = [SlotChange(t.starts_at, t.ends_at, kind) for kind, times in kinds for t in times]
        return sorted(found, key=lambda c: (c.starts_at, c.change))

    def changes_by_day(self, zone: ZoneInfo, limit: int = LISTED_CHANGES) -> tuple[list[tuple[date, list[SlotChange]]], int]:
        """The first ``limit`` changes grouped by local day in ``zone``, and how many more there are."""
        changes = self.changes()
        listed = [SlotChange(c.starts_at.astimezone(zone), c.ends_at.astimezone(zone), c.change) for c in changes[:limit]]
        days = [(day, list(group)) for day, group in groupby(listed, key=lambda c: c.starts_at.date())]
        return days, max(0, len(changes) - limit)

    def as_json(self) -> dict:
        """The plan as the staff API answers it."""
        changes = self.changes()
        return {
            "summary": self.summary(),
            "changes": [{**_times_json(SlotTimes(c.starts_at, c.ends_at)), "change": c.change}
                        for c in changes[:LISTED_CHANGES]],
            "more_changes": max(0, len(changes) - LISTED_CHANGES),
            "removed": self.removed_count,
            "added": self.added_count,
            "kept_off_schedule": [_slot_json(s) for s in self.kept],
            "hidden": len(self.hidden),
            "blocked": [_times_json(t) for t in self.blocked],
            "capacity": self.capacity,
            "capacity_changed": self.capacity_changed,
            "over_capacity": [_slot_json(s) for s in self.over_capacity],
        }


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _times_json(times: SlotTimes) -> dict:
    return {"starts_at": times.starts_at.isoformat(), "ends_at": times.ends_at.isoformat()}


def _slot_json(slot: StoredSlot) -> dict:
    return {"id": slot.id, **_times_json(slot.times), "booked": slot.booked}


def plan_reconcile(
    stored: Sequence[StoredSlot], wanted: Sequence[SlotTimes], *, capacity: int, create: bool = True
) -> ReconcilePlan:
    """Diff stored future slots against the wanted ones; ``create`` False adds nothing (inactive game)."""
    plan = ReconcilePlan(capacity=capacity)
    wanted_set = set(wanted)
    wanted_by_start = {w.starts_at: w for w in wanted}
    staying: list[StoredSlot] = []
    for slot in stored:
        if slot.times in wanted_set:
            staying.append(slot)
        elif slot.booked > 0:
            plan.kept.append(slot)
        elif not slot.has_bookings:
            plan.remove.append(slot.id)
            plan.removed_times.append(slot.times)
        elif slot.starts_at in wanted_by_start:
            plan.refit.append((slot.id, wanted_by_start[slot.starts_at]))
            staying.append(slot)
        else:
            plan.hidden.append(slot)
    _count_capacity(plan, staying + plan.kept + plan.hidden, capacity)
    if create:
        _plan_additions(plan, wanted, {s.times for s in staying} | {t for _, t in plan.refit})
    return plan


def _count_capacity(plan: ReconcilePlan, remaining: Iterable[StoredSlot], capacity: int) -> None:
    for slot in remaining:
        if max(capacity, slot.booked) != slot.capacity:
            plan.capacity_changed += 1
        if slot.booked > capacity:
            plan.over_capacity.append(slot)


def _plan_additions(plan: ReconcilePlan, wanted: Sequence[SlotTimes], present: set[SlotTimes]) -> None:
    # Only a booked slot holds the room; an emptied one may overlap (it is never offered).
    occupied = sorted(s.times for s in plan.kept)
    starts = [t.starts_at for t in occupied]
    for times in wanted:
        if times in present:
            continue
        if _overlaps(times, occupied, starts):
            plan.blocked.append(times)
        else:
            plan.add.append(times)


def _overlaps(times: SlotTimes, occupied: Sequence[SlotTimes], starts: Sequence[datetime]) -> bool:
    """Whether ``times`` shares any instant with one of ``occupied`` (sorted by start)."""
    low = bisect.bisect_left(starts, times.starts_at - _LONGEST_SLOT)
    high = bisect.bisect_left(starts, times.ends_at)
    return any(occupied[i].ends_at > times.starts_at for i in range(low, high))


def fits_schedule(schedule: engine.Schedule, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether a slot is one the schedule would create (false for off-schedule slots)."""
    return SlotTimes(starts_at, ends_at) in scheduled_times(schedule, [starts_at])


def scheduled_times(schedule: engine.Schedule, instants: Sequence[datetime]) -> set[SlotTimes]:
    """Every slot the schedule creates on the opening days that can hold slots starting at ``instants``."""
    if not instants:
        return set()
    first, last = _local_span(schedule, instants)
    # A past-midnight range belongs to the day before the date its late slots start on.
    return set(engine.slots_between(schedule, first - timedelta(days=1), last))


def _local_span(schedule: engine.Schedule, instants: Sequence[datetime]) -> tuple[date, date]:
    zone = schedule.zone
    return min(instants).astimezone(zone).date(), max(instants).astimezone(zone).date()
