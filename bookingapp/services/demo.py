"""Example games for the quick start."""
from __future__ import annotations

import secrets
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from bookingapp.core.hours import WEEKDAYS
from bookingapp.models import Game
from bookingapp.services.accounts import create_staff_user, staff_user_exists
from bookingapp.services.games import create_game


# One venue in one zone (Berlin), each game with its price, place and what to know.
DEMO_ZONE = "Europe/Berlin"
DEMO_GAMES = [
    {
        "name": "The Lost Pharaoh",
        "description": "An escape room: one hour to get out of the tomb. Private sessions for 2-6 players.",
        "slot_minutes": 60,
        "gap_minutes": 15,
        "capacity": 6,
        "booking_mode": "private",
        "min_party": 2,
        "price": 8900,
        "price_per": "session",
        "cancel_cutoff_minutes": 24 * 60,
        "location": "Room 1, ground floor",
        "instructions": "Arrive 15 minutes early for the briefing. Lockers for bags and coats are on site.",
        "weekly_hours": {
            **{d: [["10:00", "22:00"]] for d in WEEKDAYS[:5]},
            "fri": [["10:00", "14:00"], ["16:00", "01:00"]],
            "sat": [["09:00", "01:00"]],
            "sun": [["10:00", "20:00"]],
        },
    },
    {
        "name": "Starship VR Arena",
        "description": "Free-roam virtual reality for up to 8 players; book seats, share the arena.",
        "slot_minutes": 30,
        "capacity": 8,
        "min_notice_minutes": 60,
        "price": 1900,
        "price_per": "player",
        "cancel_cutoff_minutes": 120,
        "location": "Arena, first floor",
        "instructions": "Wear comfortable shoes. Not suitable under 12. Glasses fit under the headsets.",
        "weekly_hours": {d: [["12:00", "23:00"]] for d in WEEKDAYS},
    },
    {
        "name": "Centre Court",
        "description": "A padel court by the hour, for 4 players.",
        "slot_minutes": 60,
        "capacity": 4,
        "booking_mode": "private",
        "days_ahead": 14,
        "price": 3600,
        "price_per": "session",
        "location": "Court 3, behind the café",
        "instructions": "Indoor shoes only. Rackets and balls can be borrowed at the desk.",
        "weekly_hours": {d: [["07:00", "22:00"]] for d in WEEKDAYS},
    },
]
DEMO_GAMES = [{"timezone": DEMO_ZONE, "currency": "EUR", **game} for game in DEMO_GAMES]


DEMO_STAFF_USERNAME = "staff"


def seed_demo(session: Session) -> Iterator[str]:
    """Create the demo games that are missing and a demo staff login; yield a line for each."""
    for data in DEMO_GAMES:
        name = data["name"]
        if session.scalar(select(Game.id).where(Game.name == name)) is not None:
            yield f"{name}: already there"
            continue
        game = create_game(session, data)
        yield f"{name}: created (/games/{game.slug}, id {game.id})"
    yield seed_demo_staff(session)


def seed_demo_staff(session: Session) -> str:
    """Create the demo staff login with a fresh random password, unless it exists."""
    if staff_user_exists(session, DEMO_STAFF_USERNAME):
        return f"Staff login {DEMO_STAFF_USERNAME!r}: already there (flask admin create-user makes others)"
    password = secrets.token_urlsafe(9)
    create_staff_user(session, DEMO_STAFF_USERNAME, password)
    return f"Staff login: /admin/login as {DEMO_STAFF_USERNAME} / {password}"
