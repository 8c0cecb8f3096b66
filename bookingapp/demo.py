"""Example games for the quick start."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from .games.service import create_game
from .models import Game

EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DEMO_GAMES = [
    {
        "name": "The Lost Pharaoh",
        "description": "An escape room: one hour to get out of the tomb. Private sessions for 2-6 players.",
        "timezone": "Europe/London",
        "slot_minutes": 60,
        "gap_minutes": 15,
        "capacity": 6,
        "booking_mode": "private",
        "min_party": 2,
        "weekly_hours": {
            **{d: [["10:00", "22:00"]] for d in EVERY_DAY[:5]},
            "fri": [["10:00", "14:00"], ["16:00", "01:00"]],
            "sat": [["09:00", "01:00"]],
            "sun": [["10:00", "20:00"]],
        },
    },
    {
        "name": "Starship VR Arena",
        "description": "Free-roam virtual reality for up to 8 players; book seats, share the arena.",
        "timezone": "America/New_York",
        "slot_minutes": 30,
        "capacity": 8,
        "min_notice_minutes": 60,
        "weekly_hours": {d: [["12:00", "23:00"]] for d in EVERY_DAY},
    },
    {
        "name": "Centre Court",
        "description": "A padel court by the hour, for 4 players.",
        "timezone": "Australia/Sydney",
        "slot_minutes": 60,
        "capacity": 4,
        "booking_mode": "private",
        "days_ahead": 14,
        "weekly_hours": {d: [["07:00", "22:00"]] for d in EVERY_DAY},
    },
]


def seed_demo(session: Session) -> Iterator[str]:
    """Create the demo games that are missing; yield a line for each."""
    for data in DEMO_GAMES:
        name = data["name"]
        if session.scalar(select(Game.id).where(Game.name == name)) is not None:
            yield f"{name}: already there"
            continue
        game = create_game(session, data)
        yield f"{name}: created (/games/{game.slug}, id {game.id})"
