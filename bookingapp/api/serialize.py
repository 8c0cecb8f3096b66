"""The JSON form of a game, shared by the public and the staff API."""
from __future__ import annotations

from typing import Any

from bookingapp.models import Game


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
    }
