"""The JSON form of games, bookings and slots: shared by the API and the webhooks that tell of them."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bookingapp.models import Booking, Game, Slot


def game_to_json(game: Game) -> dict[str, Any]:
    """Every setting of a game with its id and slug, as JSON-ready values."""
    return {
        "id": str(game.id),
        "slug": game.slug,
        "name": game.name,
        "description": game.description,
        "timezone": game.timezone,
        "slot_minutes": game.slot_minutes,
        "gap_minutes": game.gap_minutes,
        "capacity": game.capacity,
        "days_ahead": game.days_ahead,
        "min_notice_minutes": game.min_notice_minutes,
        "cancel_cutoff_minutes": game.cancel_cutoff_minutes,
        "booking_mode": game.booking_mode.value,
        "min_party": game.min_party,
        "weekly_hours": game.weekly_hours,
        "closures": list(game.closures or []),
        "is_active": game.is_active,
        "price": game.price,
        "currency": game.currency,
        "price_per": game.price_per.value,
        "location": game.location,
        "instructions": game.instructions,
        "reminder_hours": game.reminder_hours,
    }


def booking_to_json(booking: Booking) -> dict[str, Any]:
    """A booking as every JSON answer shows it; slot times in the game's zone."""
    slot, game = booking.slot, booking.slot.game
    tz = ZoneInfo(game.timezone)
    return {
        "reference": booking.reference,
        "status": booking.status.value,
        "party_size": booking.party_size,
        "amount": booking.amount,
        "currency": booking.currency,
        "locale": booking.locale,
        "name": booking.customer_name,
        "email": booking.email or None,
        "phone": booking.phone or None,
        "note": booking.note,
        "source": booking.source.value,
        "attendance": booking.attendance.value,
        "created_at": booking.created_at.isoformat(),
        "cancelled_at": booking.cancelled_at.isoformat() if booking.cancelled_at else None,
        "slot": {
            "id": slot.id, "game_id": str(game.id), "game_slug": game.slug, "game_name": game.name,
            "starts_at": slot.starts_at.astimezone(tz).isoformat(),
            "ends_at": slot.ends_at.astimezone(tz).isoformat(),
        },
    }


def slot_to_json(slot: Slot) -> dict[str, Any]:
    """A slot as staff see it: seats, capacity, block."""
    tz = ZoneInfo(slot.game.timezone)
    return {
        "id": slot.id, "game_id": str(slot.game_id),
        "starts_at": slot.starts_at.astimezone(tz).isoformat(), "ends_at": slot.ends_at.astimezone(tz).isoformat(),
        "capacity": slot.capacity, "booked": slot.booked, "blocked": slot.blocked, "block_reason": slot.block_reason,
    }
