"""The bookings CSV: one row per booking in a range of local dates, streamed in constant memory.

Rows come from a server-side cursor a batch at a time and are written out as they come,
so memory does not grow with the number of bookings. Times are ISO 8601 with the offset
of the game's zone; every text cell is made inert for spreadsheets (``core.csvcells``).
"""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from bookingapp.core.csvcells import inert
from bookingapp.core.window import local_days_bounds
from bookingapp.errors import ValidationError
from bookingapp.models import Booking, Game, Slot
from bookingapp.services.money import to_major

MAX_DAYS = 366
BATCH = 2000
HEADER = (
    "starts_at", "ends_at", "game", "game_slug", "reference", "name", "email", "phone", "party_size",
    "status", "source", "attendance", "note", "created_at", "cancelled_at", "amount", "currency",
)


@dataclass(frozen=True)
class ExportQuery:
    """Bookings of slots starting on local dates ``first..last`` (each game's zone), of one game or all."""

    first: date
    last: date
    game_id: uuid.UUID | None = None


def check_export(query: ExportQuery) -> None:
    """Refuse a range that is backwards or longer than MAX_DAYS."""
    if query.last < query.first:
        raise ValidationError({"to": "must not be before 'from'"}, "Bad date range.")
    if (query.last - query.first).days + 1 > MAX_DAYS:
        raise ValidationError({"to": f"the range may cover at most {MAX_DAYS} days"}, "Bad date range.")


def export_csv(session: Session, query: ExportQuery) -> Iterator[str]:
    """The CSV text in chunks: the header line, then the bookings by slot start."""
    check_export(query)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    zones: dict[str, ZoneInfo] = {}
    for n, row in enumerate(session.execute(_rows_query(session, query).execution_options(yield_per=BATCH)), 1):
        writer.writerow(_cells(row, zones.setdefault(row.timezone, ZoneInfo(row.timezone))))
        if n % 500 == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _rows_query(session: Session, query: ExportQuery):
    statement = (
        select(
            Slot.starts_at, Slot.ends_at, Game.name.label("game"), Game.slug, Game.timezone, Booking.reference,
            Booking.customer_name, Booking.email, Booking.phone, Booking.party_size, Booking.status,
            Booking.source, Booking.attendance, Booking.note, Booking.created_at, Booking.cancelled_at,
            Booking.amount, Booking.currency,
        )
        .join(Slot, Booking.slot_id == Slot.id).join(Game, Slot.game_id == Game.id)
        .order_by(Slot.starts_at, Booking.id)
    )
    zones = session.scalars(select(Game.timezone).distinct()).all()
    if query.game_id is not None:
        statement = statement.where(Game.id == query.game_id)
    ranges = []
    for zone in zones:
        lower, upper = local_days_bounds(zone, query.first, query.last)
        ranges.append((Game.timezone == zone) & (Slot.starts_at >= lower) & (Slot.starts_at < upper))
    return statement.where(or_(*ranges) if ranges else false())


def _cells(row, tz: ZoneInfo) -> list[str]:
    return [
        row.starts_at.astimezone(tz).isoformat(), row.ends_at.astimezone(tz).isoformat(),
        inert(row.game), row.slug, row.reference, inert(row.customer_name), inert(row.email), inert(row.phone),
        str(row.party_size), row.status.value, row.source.value, row.attendance.value, inert(row.note),
        row.created_at.astimezone(tz).isoformat(), row.cancelled_at.astimezone(tz).isoformat() if row.cancelled_at else "",
        _amount_cell(row.amount, row.currency), row.currency or "",
    ]


def _amount_cell(minor: int | None, currency: str | None) -> str:
    """An amount in minor units as a plain decimal a spreadsheet reads as a number: 2500 EUR -> "25.00"."""
    if minor is None or not currency:
        return ""
    return str(to_major(minor, currency))
