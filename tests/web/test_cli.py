"""`flask slots …` and `flask demo seed`, as operators type them."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select

from bookingapp.extensions import db
from bookingapp.models import Game, MaintenanceRun, RunTrigger, Slot

UTC = timezone.utc


def _slots(game=None) -> int:
    query = select(func.count()).select_from(Slot)
    if game is not None:
        query = query.where(Slot.game_id == game.id)
    return db.session.scalar(query)


def test_generate_prints_each_game_and_the_total_and_records_a_cli_run(runner, make_game):
    make_game(name="Alpha")
    make_game(name="Beta", days_ahead=1)
    result = runner.invoke(args=["slots", "generate"])
    assert result.exit_code == 0, result.output
    assert "Alpha: 84 slots created" in result.output
    assert "Beta: 12 slots created" in result.output
    assert "Total: 96 slots created for 2 games" in result.output
    run = db.session.scalars(select(MaintenanceRun)).one()
    assert run.trigger is RunTrigger.CLI and run.slots_created == 96


def test_generate_for_one_game_leaves_the_others_alone(runner, make_game):
    wanted = make_game()
    other = make_game()
    result = runner.invoke(args=["slots", "generate", "--game-id", str(wanted.id), "--days", "2"])
    assert result.exit_code == 0, result.output
    assert (_slots(wanted), _slots(other)) == (24, 0)


def test_generate_repairs_holes_the_watermark_would_skip(runner, make_game, clock):
    game = make_game()
    runner.invoke(args=["slots", "generate"])
    day = datetime(2027, 1, 16, tzinfo=UTC)
    db.session.execute(delete(Slot).where(Slot.starts_at.between(day, day + timedelta(days=1))))
    db.session.commit()
    result = runner.invoke(args=["slots", "generate"])
    assert "12 slots created" in result.output
    assert _slots(game) == 84


@pytest.mark.parametrize(
    "args, message",
    [
        (["--game-id", "not-a-uuid"], "is not a UUID"),  # malformed
        (["--game-id", str(uuid.UUID(int=7))], "no game with id"),  # well-formed, unknown
    ],
)
def test_bad_game_id_is_one_clear_line_and_exit_1(runner, make_game, args, message):
    make_game()
    result = runner.invoke(args=["slots", "generate", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert _slots() == 0


def test_inactive_game_is_refused_by_id(runner, make_game):
    game = make_game(is_active=False)
    result = runner.invoke(args=["slots", "generate", "--game-id", str(game.id)])
    assert result.exit_code == 1 and "inactive" in result.output


@pytest.mark.parametrize("days", ["0", "367", "-3", "seven"])
def test_days_outside_1_to_366_is_a_usage_error(runner, make_game, days):
    make_game()
    result = runner.invoke(args=["slots", "generate", "--days", days])
    assert result.exit_code == 2
    assert "--days" in result.output
    assert _slots() == 0 and db.session.scalar(select(func.count()).select_from(MaintenanceRun)) == 0


def test_status_names_missing_days_and_the_next_slot(runner, make_game):
    make_game(name="Alpha", timezone="America/New_York")
    runner.invoke(args=["slots", "generate"])
    day = datetime(2027, 1, 17, 17, tzinfo=UTC)  # noon in New York
    db.session.execute(delete(Slot).where(Slot.starts_at.between(day, day + timedelta(hours=2))))
    db.session.commit()
    result = runner.invoke(args=["slots", "status"])
    assert result.exit_code == 0, result.output
    assert "Alpha [America/New_York] window 2027-01-13..2027-01-19" in result.output
    assert "missing days: 1: 2027-01-17" in result.output
    assert "next slot: 2027-01-13 10:00 EST" in result.output
    assert "cli succeeded" in result.output


def test_demo_seed_creates_games_once(runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    count = db.session.scalar(select(func.count()).select_from(Game))
    assert count >= 3
    second = runner.invoke(args=["demo", "seed"])
    assert "already there" in second.output
    assert db.session.scalar(select(func.count()).select_from(Game)) == count


def test_the_demo_is_one_venue_in_one_zone_with_prices_and_instructions(runner):
    runner.invoke(args=["demo", "seed"])
    games = db.session.query(Game).all()
    assert len(games) == 3 and {g.timezone for g in games} == {"Europe/Berlin"} and {g.currency for g in games} == {"EUR"}
    assert all(g.price > 0 and g.instructions and g.location for g in games)
