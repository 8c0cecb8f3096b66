"""Weekly opening hours: parse and check what staff type, before the engine sees it.

Pure, like the engine: "HH:MM" strings in, ``OpeningRange`` values and a map of
problems (field -> message) out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from typing import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo, available_timezones

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
MAX_SLOT_MINUTES = MINUTES_PER_DAY

# ASCII digits only, and the whole string: "\d" and "$" would let "0١:00" and "09:30\n" in.
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class ScheduleError(ValueError):
    """A schedule that cannot be turned into slots; ``problems`` maps field to message."""

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


@dataclass(frozen=True)
class OpeningRange:
    """One ``[opens, closes]`` range of a weekday; ``overnight`` means it closes the next date."""

    opens: time
    closes: time
    overnight: bool = False

    @property
    def start_minute(self) -> int:
        return self.opens.hour * 60 + self.opens.minute

    @property
    def end_minute(self) -> int:
        """Minutes after the opening day's midnight at which the range closes."""
        end = self.closes.hour * 60 + self.closes.minute
        return end + MINUTES_PER_DAY if self.overnight else end

    def as_strings(self) -> list[str]:
        closes = "24:00" if self.overnight and self.closes == time(0) else self.closes.strftime("%H:%M")
        return [self.opens.strftime("%H:%M"), closes]


WeeklyHours = tuple[tuple[OpeningRange, ...], ...]


def parse_time(text: str, *, allow_24: bool = False) -> time:
    """Parse "HH:MM" (and "24:00" when allowed, returned as midnight)."""
    if not isinstance(text, str):
        raise ValueError("must be a time like 09:30")
    if allow_24 and text == "24:00":
        return time(0)
    match = _HHMM.fullmatch(text)
    if not match:
        raise ValueError(f"{text[:20]!r} is not a time like 09:30")
    return time(int(match.group(1)), int(match.group(2)))


def parse_range(pair: Sequence[str]) -> OpeningRange:
    """Parse one ``["HH:MM", "HH:MM"]`` pair into an opening range."""
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise ValueError("each range must be a pair [open, close]")
    if pair[0] == "24:00":
        raise ValueError("a range cannot open at 24:00")
    opens = parse_time(pair[0])
    closes = parse_time(pair[1], allow_24=True)
    overnight = pair[1] == "24:00" or closes <= opens
    return OpeningRange(opens, closes, overnight)


def parse_weekly_hours(raw: Mapping[str, Sequence[Sequence[str]]] | None) -> WeeklyHours:
    """Parse ``{"mon": [["10:00", "22:00"]], ...}``; missing days are closed.

    Raises ScheduleError naming each bad weekday.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ScheduleError({"weekly_hours": "must map weekdays (mon..sun) to lists of ranges"})
    problems: dict[str, str] = {}
    unknown = sorted(str(k) for k in raw if k not in WEEKDAYS)
    if unknown:
        problems["weekly_hours"] = f"unknown weekday {', '.join(unknown)[:60]}; use mon..sun"
    days: list[tuple[OpeningRange, ...]] = []
    for name in WEEKDAYS:
        ranges = raw.get(name)
        if ranges is None:
            ranges = []
        try:
            if not isinstance(ranges, (list, tuple)):
                raise ValueError("must be a list of [open, close] ranges")
            days.append(tuple(sorted((parse_range(p) for p in ranges), key=lambda r: r.opens)))
        except ValueError as exc:
            problems[f"weekly_hours.{name}"] = str(exc)
            days.append(())
    if problems:
        raise ScheduleError(problems)
    return tuple(days)


def weekly_hours_to_json(hours: WeeklyHours) -> dict[str, list[list[str]]]:
    """The JSON form of weekly hours, every weekday present."""
    return {name: [r.as_strings() for r in ranges] for name, ranges in zip(WEEKDAYS, hours)}


def validate_timezone(name: str) -> ZoneInfo:
    """Return the zone for an IANA name, or raise ScheduleError."""
    if not isinstance(name, str) or name not in _known_zones():
        raise ScheduleError({"timezone": f"{str(name)[:60]!r} is not a known IANA time zone"})
    return ZoneInfo(name)


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (read from disk once)."""
    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(zone_names())


def schedule_problems(hours: WeeklyHours, slot_minutes: int, gap_minutes: int = 0) -> dict[str, str]:
    """What is wrong with a parsed week: bad durations, overlapping ranges, ranges too short."""
    problems: dict[str, str] = {}
    if not _is_minutes(slot_minutes, 1, MAX_SLOT_MINUTES):
        problems["slot_minutes"] = f"must be a whole number of minutes from 1 to {MAX_SLOT_MINUTES}"
    if not _is_minutes(gap_minutes, 0, None):
        problems["gap_minutes"] = "must be a whole number of minutes, 0 or more"
    spans: list[tuple[int, int, str]] = []
    for day_index, (name, ranges) in enumerate(zip(WEEKDAYS, hours)):
        base = day_index * MINUTES_PER_DAY
        for rng in ranges:
            if "slot_minutes" not in problems and rng.end_minute - rng.start_minute < slot_minutes:
                problems.setdefault(
                    f"weekly_hours.{name}",
                    f"range {'-'.join(rng.as_strings())} is shorter than one {slot_minutes}-minute slot",
                )
            spans.append((base + rng.start_minute, base + rng.end_minute, name))
    for earlier, later in _overlapping_days(spans):
        problems.setdefault(f"weekly_hours.{later}", f"ranges overlap (with {earlier})")
    return problems


def _is_minutes(value: object, low: int, high: int | None) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return low <= value and (high is None or value <= high)


def _overlapping_days(spans: list[tuple[int, int, str]]) -> Iterable[tuple[str, str]]:
    """Weekday pairs of overlapping ``(start, end, day)`` spans, in minutes from Monday 00:00."""
    spans = sorted(spans)
    # Sorted by start, a span that overlaps any later one overlaps the very next one.
    for (_, end, name), (next_start, _, next_name) in zip(spans, spans[1:]):
        if next_start < end:
            yield name, next_name
    # The week is a circle: a Sunday past-midnight tail runs into Monday.
    if spans:
        first_start, _, first_name = spans[0]
        _, last_end, last_name = max(spans, key=lambda span: span[1])
        if first_start + MINUTES_PER_WEEK < last_end:
            yield last_name, first_name
