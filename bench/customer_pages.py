"""What the customer pages cost: server time and bytes of the game page and the home page.

On a throw-away PostgreSQL database (bench/support.py), in process (Flask's test client,
so "server time" is the whole WSGI request without a network):
1. the game page of a game with a 7-day and with a 366-day window (12 slots a day);
2. the home page with ``--games`` active games (default 10,000), each with a day of slots
   (and, where the home page pages and searches, its last page and a search).

    .venv/bin/python bench/customer_pages.py [--rounds 30] [--games 10000]

Prints p50 and p95 milliseconds and the page's bytes for each.
"""
from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import datetime, timezone

from support import throwaway_database, migrate, whole_number  # noqa: I001  (puts the repo on sys.path)

from bookingapp import create_app
from bookingapp.core.clock import ManualClock
from bookingapp.extensions import db
from bookingapp.models import Game
from bookingapp.services.games import create_game
from bookingapp.services.generation import PassOptions, ensure_games
from config import TestConfig

NOW = datetime(2027, 1, 13, 9, 30, tzinfo=timezone.utc)
HOURS = {d: [["10:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _settings(url: str) -> dict:
    base = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    return {**base, "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "WTF_CSRF_ENABLED": False}


def _measure(client, path: str, rounds: int) -> tuple[float, float, int]:
    """p50 and p95 milliseconds of ``rounds`` GETs of ``path`` (after one warm-up), and its bytes."""
    size = len(client.get(path).get_data())
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], size


def _line(label: str, figures: tuple[float, float, int]) -> None:
    p50, p95, size = figures
    print(f"{label:40s} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  {size:>10,} bytes")


def _game(days: int) -> Game:
    game = create_game(db.session, {"name": f"Window {days}", "timezone": "Europe/London", "slot_minutes": 60,
                                    "capacity": 4, "days_ahead": days, "weekly_hours": HOURS})
    ensure_games(db.session, [game], now=NOW, options=PassOptions(7))
    return game


def _many_games(count: int) -> None:
    """``count`` active games inserted directly (the same defaults create_game writes), a day of slots each."""
    games = [
        Game(id=uuid.uuid4(), name=f"Room {i:05d}", slug=f"room-{i:05d}", description="A room to escape from.",
             timezone="Europe/London", slot_minutes=60, gap_minutes=0, capacity=4, days_ahead=1,
             min_notice_minutes=0, weekly_hours=HOURS, closures=[], is_active=True)
        for i in range(count)
    ]
    db.session.add_all(games)
    db.session.commit()
    ensure_games(db.session, games, now=NOW, options=PassOptions(1))


def _has_paging(client) -> bool:
    # Before issue 12 the home page had neither search nor pages (the same page for any query).
    return b'name="q"' in client.get("/").get_data()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=whole_number(1, 10_000), default=30, help="requests per page")
    parser.add_argument("--games", type=whole_number(1, 100_000), default=10_000, help="games on the home page")
    args = parser.parse_args()
    with throwaway_database() as url:
        app = create_app(_settings(url), clock=ManualClock(NOW))
        with app.app_context():
            migrate()
            client = app.test_client()
            for days in (7, 366):
                game = _game(days)
                _line(f"game page, {days}-day window", _measure(client, f"/games/{game.slug}", args.rounds))
            _many_games(args.games)
            rounds = max(3, args.rounds // 5)
            _line(f"home page, {args.games:,} games", _measure(client, "/", rounds))
            if _has_paging(client):
                _line("  its last page", _measure(client, f"/?page={-(-args.games // 50)}", rounds))
                _line("  a search (?q=room 09)", _measure(client, "/?q=room%2009", rounds))
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
