"""`flask slots …`: generate and inspect slots, and the daily run's records."""
from __future__ import annotations

import uuid

import click
from flask import current_app
from flask.cli import with_appcontext

from bookingapp.core import engine
from bookingapp.extensions import app_clock, db
from bookingapp.maintenance.operator import describe_today, reset_markers, run_state
from bookingapp.models import Game, MaintenanceRun, RunTrigger
from bookingapp.services.generation import PassOptions
from bookingapp.services.leases import REDIS_ERRORS
from bookingapp.services.runs import error_line, generate_slots, recent_runs
from bookingapp.services.status import WindowStatus, window_status


def _parse_game_id(raw: str | None) -> uuid.UUID | None:
    if raw is None:
        return None
    try:
        game_id = uuid.UUID(raw)
    except ValueError:
        raise click.ClickException(f"--game-id {raw[:40]!r} is not a UUID") from None
    game = db.session.get(Game, game_id)
    if game is None:
        raise click.ClickException(f"no game with id {game_id}")
    if not game.is_active:
        raise click.ClickException(f"game {game.name!r} ({game_id}) is inactive; reactivate it first")
    return game_id


@click.group("slots", help="Generate and inspect bookable slots.")
def slots_cli():
    pass


@slots_cli.command("generate")
@click.option("--game-id", metavar="UUID", help="Only this game (default: every active game).")
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    help="Window length in days for this run (default: each game's own, or SLOTS_DAYS_TO_MAINTAIN).",
)
@with_appcontext
def generate_command(game_id: str | None, days: int | None):
    """Fill every active game's window now, repairing holes; record a `cli` run."""
    wanted = _parse_game_id(game_id)
    names = {g.id: g.name for g in db.session.query(Game.id, Game.name)}
    run, result = generate_slots(
        db.session,
        clock=app_clock(),
        trigger=RunTrigger.CLI,
        options=PassOptions(current_app.config["SLOTS_DAYS_TO_MAINTAIN"], days=days, repair=True),
        game_ids=[wanted] if wanted else None,
    )
    for gid, created in sorted(result.created_by_game.items(), key=lambda kv: names.get(kv[0], "")):
        click.echo(f"{names.get(gid, gid)}: {created} slots created")
    click.echo(f"Total: {result.slots_created} slots created for {result.games_checked} games (run {run.id})")


@slots_cli.command("status")
@with_appcontext
def status_command():
    """Show each active game's window: through which date, missing days, next slot, last runs."""
    now = app_clock().now()
    default_days = current_app.config["SLOTS_DAYS_TO_MAINTAIN"]
    games = db.session.query(Game).filter(Game.is_active.is_(True)).order_by(Game.name).all()
    if not games:
        click.echo("No active games.")
    for game in games:
        click.echo(_window_line(game, window_status(db.session, game, now=now, default_days=default_days)))
    click.echo(describe_today())
    runs = recent_runs(db.session, limit=5)
    click.echo("Last runs:" if runs else "Last runs: none yet")
    for run in runs:
        click.echo(_run_line(run))


def _window_line(game: Game, status: WindowStatus) -> str:
    missing = ", ".join(d.isoformat() for d in status.missing_days[:5])
    more = f" (+{len(status.missing_days) - 5} more)" if len(status.missing_days) > 5 else ""
    next_slot = (
        status.next_slot.astimezone(engine.ZoneInfo(game.timezone)).strftime("%Y-%m-%d %H:%M %Z")
        if status.next_slot
        else "none"
    )
    return (
        f"{game.name} [{game.timezone}] window {status.first}..{status.last}, "
        f"generated through {status.generated_through or 'never'}; "
        f"missing days: {len(status.missing_days)}{': ' + missing + more if missing else ''}; "
        f"next slot: {next_slot}"
    )


def _run_line(run: MaintenanceRun) -> str:
    finished = run.finished_at.isoformat(timespec="seconds") if run.finished_at else "-"
    error = error_line(run.error)
    return (
        f"  #{run.id} {run.trigger.value} {run_state(run)} started {run.started_at.isoformat(timespec='seconds')}"
        f" finished {finished}: {run.games_checked} games, {run.slots_created} slots"
        + (f"; error: {error}" if error else "")
    )


@slots_cli.command("reset-markers")
@with_appcontext
def reset_markers_command():
    """Forget that today's daily run is done and when each game was last checked."""
    try:
        days, games = reset_markers()
    except REDIS_ERRORS as exc:
        raise click.ClickException(
            f"Redis is unreachable ({exc}): the database's daily records are cleared, Redis's are not. "
            "Run this again once Redis answers."
        ) from None
    click.echo(f"Cleared {days} daily record(s) and the checks of {games} game(s).")
    click.echo("The next look of each worker (within the hour) runs the day again; `slots generate` runs now.")
