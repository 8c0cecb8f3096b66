"""Bulk generation on PostgreSQL and SQLite: windows, watermarks, repair, runs."""
from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, event, func, select

from tests.race_helpers import assert_only_the_new_schedule, edit, in_app, wait_until_waiting_on_a_lock_or_done
from bookingapp.core import engine
from bookingapp.extensions import db
from bookingapp.models import Game, MaintenanceRun, RunStatus, RunTrigger, Slot
from bookingapp.services import generation as generator
from bookingapp.services.generation import PassOptions, ensure_games, ensure_window
from bookingapp.services.catalog import list_active_games
from bookingapp.services.runs import generate_slots

UTC = timezone.utc
SLOTS_PER_DAY = 12  # 10:00-22:00, 60-minute slots (make_game's default)


def _count(game=None) -> int:
    query = select(func.count()).select_from(Slot)
    if game is not None:
        query = query.where(Slot.game_id == game.id)
    return db.session.scalar(query)


def _fill(clock, games=None, **kwargs):
    if games is None:
        return generator.ensure_active_games(db.session, now=clock.now(), options=PassOptions(7, **kwargs))
    return ensure_games(db.session, games, now=clock.now(), options=PassOptions(7, **kwargs))


def test_first_fill_writes_every_slot_of_the_window(any_app, clock, make_game):
    game = make_game()
    result = _fill(clock)
    assert result.slots_created == 7 * SLOTS_PER_DAY
    assert _count(game) == 7 * SLOTS_PER_DAY
    db.session.refresh(game)
    assert game.generated_through == date(2027, 1, 19)


def test_second_pass_on_the_same_day_writes_nothing(any_app, clock, make_game):
    make_game()
    _fill(clock)
    assert _fill(clock).slots_created == 0
    assert _count() == 7 * SLOTS_PER_DAY


def test_next_day_top_up_writes_only_the_new_day(any_app, clock, make_game):
    game = make_game()
    _fill(clock)
    clock.advance(days=1)
    result = _fill(clock)
    assert result.created_by_game == {game.id: SLOTS_PER_DAY}
    newest = db.session.scalar(select(func.max(Slot.starts_at)))
    assert newest == datetime(2027, 1, 20, 21, 0, tzinfo=UTC)


def test_top_up_trusts_the_watermark_and_repair_fills_holes(any_app, clock, make_game):
    game = make_game()
    _fill(clock)
    hole_start = datetime(2027, 1, 15, tzinfo=UTC)
    db.session.execute(
        delete(Slot).where(Slot.starts_at >= hole_start, Slot.starts_at < hole_start + timedelta(days=1))
    )
    db.session.commit()
    assert _fill(clock).slots_created == 0
    assert _fill(clock, repair=True).created_by_game == {game.id: SLOTS_PER_DAY}
    assert _count(game) == 7 * SLOTS_PER_DAY


def test_each_game_keeps_its_own_window_length(any_app, clock, make_game):
    short = make_game(days_ahead=2)
    default = make_game()
    _fill(clock)
    assert _count(short) == 2 * SLOTS_PER_DAY
    assert _count(default) == 7 * SLOTS_PER_DAY


def test_days_override_lengthens_every_window(any_app, clock, make_game):
    game = make_game(days_ahead=2)
    _fill(clock, days=10)
    assert _count(game) == 10 * SLOTS_PER_DAY


def test_inactive_games_get_no_slots(any_app, clock, make_game):
    make_game(is_active=False)
    assert _fill(clock).games_checked == 0
    assert _count() == 0


def test_window_starts_on_the_games_local_today(any_app, clock, make_game):
    # 23:30 UTC on the 13th is already the 14th in Auckland (UTC+13 in summer).
    clock.set(datetime(2027, 1, 13, 23, 30, tzinfo=UTC))
    game = make_game(timezone="Pacific/Auckland", days_ahead=1)
    _fill(clock)
    first = db.session.scalar(select(func.min(Slot.starts_at)).where(Slot.game_id == game.id))
    assert first == datetime(2027, 1, 13, 21, 0, tzinfo=UTC)  # 10:00 on the 14th, NZDT


def test_slots_come_back_as_aware_utc_with_the_games_capacity(any_app, clock, make_game):
    make_game(capacity=6)
    _fill(clock)
    slot = db.session.scalars(select(Slot).order_by(Slot.starts_at)).first()
    assert slot.starts_at == datetime(2027, 1, 13, 10, 0, tzinfo=UTC)
    assert slot.ends_at - slot.starts_at == timedelta(minutes=60)
    assert (slot.capacity, slot.booked, slot.available) == (6, 0, 6)


def test_past_slots_of_today_are_stored_too(any_app, clock, make_game):
    clock.set(datetime(2027, 1, 13, 18, 0, tzinfo=UTC))
    game = make_game(days_ahead=1)
    _fill(clock)
    assert _count(game) == SLOTS_PER_DAY


def test_a_run_is_recorded_with_its_counts(any_app, clock, make_game):
    make_game()
    make_game()
    run, result = generate_slots(db.session, clock=clock, trigger=RunTrigger.CLI, options=PassOptions(7))
    stored = db.session.get(MaintenanceRun, run.id)
    assert (stored.trigger, stored.status) == (RunTrigger.CLI, RunStatus.SUCCEEDED)
    assert (stored.games_checked, stored.slots_created) == (2, 2 * 7 * SLOTS_PER_DAY)
    assert stored.finished_at is not None and stored.error is None


def test_a_failing_run_is_logged_and_stored_then_raised(any_app, clock, make_game, monkeypatch, caplog):
    make_game()

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(generator, "write_slots", broken)
    with caplog.at_level(logging.ERROR, logger="bookingapp.slots"), pytest.raises(RuntimeError):
        generate_slots(db.session, clock=clock, trigger=RunTrigger.DAILY, options=PassOptions(7))
    run = db.session.scalars(select(MaintenanceRun)).one()
    assert run.status is RunStatus.FAILED
    assert "disk on fire" in run.error
    assert any(r.getMessage() == "Error auto-generating slots" and r.exc_info for r in caplog.records)
    assert _count() == 0


def test_a_run_row_shows_what_it_wrote_while_running_and_after_dying(any_app, clock, make_game):
    for _ in range(3):
        make_game()
    seen = []

    def look_then_die():
        # A second connection reads the row, as an operator's `slots status` would.
        with db.engine.connect() as other:
            seen.append(tuple(other.execute(
                select(MaintenanceRun.games_checked, MaintenanceRun.slots_created)
            ).one()))
        if len(seen) == 3:
            raise SystemExit("worker killed")
        return True

    with pytest.raises(SystemExit):
        generate_slots(db.session, clock=clock, trigger=RunTrigger.CLI,
                       options=PassOptions(7, keep_going=look_then_die, batch_games=1))
    one_game = 7 * SLOTS_PER_DAY
    assert seen == [(0, 0), (1, one_game), (2, 2 * one_game)]
    db.session.rollback()
    stored = db.session.scalars(select(MaintenanceRun)).one()
    assert (stored.games_checked, stored.slots_created) == (2, 2 * one_game) == (2, _count())


def test_losing_the_lock_stops_between_batches_and_keeps_what_was_written(any_app, clock, make_game):
    games = [make_game() for _ in range(3)]
    answers = iter([True, False])
    result = _fill(clock, keep_going=lambda: next(answers), batch_games=1)
    assert result.stopped_early and result.games_checked == 1
    assert _count() == 7 * SLOTS_PER_DAY
    written = {g.id for g in games if db.session.get(Game, g.id).generated_through}
    assert len(written) == 1
    assert _fill(clock).slots_created == 2 * 7 * SLOTS_PER_DAY  # the next pass resumes


def test_fresh_days_that_hold_slots_after_all_are_merged_not_duplicated(any_app, clock, make_game):
    game = make_game()
    _fill(clock)
    db.session.execute(delete(Slot).where(Slot.starts_at < datetime(2027, 1, 14, tzinfo=UTC)))
    game.generated_through = None  # the watermark says "nothing written": wrong for 6 days
    db.session.commit()
    result = _fill(clock)
    assert result.created_by_game == {game.id: SLOTS_PER_DAY}
    assert _count(game) == 7 * SLOTS_PER_DAY
    assert db.session.get(Game, game.id).generated_through == date(2027, 1, 19)


def test_a_batch_planned_before_a_commit_never_reloads_its_games(app, clock, make_game):
    for _ in range(5):
        make_game()
    games = list_active_games(db.session)
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    _fill(clock, games, batch_games=1)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "games" in s]
    # Only each batch's lock on its rows, which reads their versions and nothing else.
    assert len(reads) == 5
    assert all(s.startswith("SELECT games.id, games.updated_at \nFROM games") for s in reads)


def test_a_pass_over_the_table_reads_it_a_stretch_at_a_time(any_app, clock, make_game, monkeypatch):
    ids = {make_game().id for _ in range(5)}
    make_game(is_active=False)
    monkeypatch.setattr(generator, "STREAM_GAMES", 2)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    db.session.expunge_all()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = _fill(clock)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    pages = [s for s in statements if "LIMIT" in s.upper() and "games.generated_through" in s]
    full_reads = [s for s in statements if "games.weekly_hours" in s]
    assert len(pages) == 4  # 2 + 2 + 1 games, then an empty page
    assert len(full_reads) == 3  # each stretch's games that have days to write
    assert result.games_checked == 5
    assert set(result.created_by_game) == ids
    assert all(count == 7 * SLOTS_PER_DAY for count in result.created_by_game.values())
    assert len(db.session.identity_map) == 0  # rows, not objects: nothing for a commit to expire
    statements.clear()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        again = _fill(clock)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert (again.games_checked, again.slots_created) == (5, 0)
    assert not [s for s in statements if "games.weekly_hours" in s]  # nothing to write: no schedule read


def test_a_key_range_fills_only_its_games(any_app, clock, make_game):
    ids = sorted(make_game().id for _ in range(4))
    key_range = generator.KeyRange(first=ids[1], end=ids[3])
    result = generator.ensure_active_games(db.session, now=clock.now(), options=PassOptions(7), key_range=key_range)
    assert set(result.created_by_game) == {ids[1], ids[2]}
    assert _count() == 2 * 7 * SLOTS_PER_DAY


def test_ensure_window_fills_one_game(any_app, clock, make_game):
    game = make_game()
    other = make_game()
    assert ensure_window(db.session, game, now=clock.now(), default_days=3) == 3 * SLOTS_PER_DAY
    assert _count(other) == 0


@pytest.mark.parametrize("repair", [True, False], ids=["repair", "top-up"])
def test_racing_writers_never_duplicate_or_deadlock(app, clock, make_game, repair):
    """Several threads filling the same 40 games at once (PostgreSQL)."""
    games = [make_game(slot_minutes=15) for _ in range(40)]
    ids = [g.id for g in games]
    errors, created = [], []

    def fill():
        with app.app_context():
            try:
                own = db.session.scalars(select(Game).where(Game.id.in_(ids))).all()
                created.append(_fill(clock, own, repair=repair, batch_games=7).slots_created)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=fill) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    expected = 40 * 7 * 48
    assert sum(created) == expected
    assert _count() == expected


def test_a_pass_over_days_without_opening_hours_writes_nothing_and_fails_nothing(any_app, clock, make_game):
    # Mondays only: the top-up's new day (Wednesday 20th) has no slot to write.
    game = make_game(weekly_hours={"mon": [["10:00", "12:00"]]})
    _fill(clock)
    clock.advance(days=1)
    assert _fill(clock).slots_created == 0
    assert _count(game) == 2



def test_a_pass_that_read_a_game_before_an_edit_committed_leaves_the_edited_schedule_alone(app, clock, make_game):
    game = make_game()

    def edit_then_go_on() -> bool:  # asked between planning and the batch's transaction
        edit(clock, game.id)
        return True

    result = _fill(clock, [game], keep_going=edit_then_go_on)
    assert result.slots_created == 0
    assert_only_the_new_schedule(game)
    assert len(engine.slots_between(game.schedule(), date(2027, 1, 13), date(2027, 1, 13))) == 5


def test_an_edit_saved_while_a_pass_writes_waits_for_it_then_reconciles_its_slots(app, clock, make_game, monkeypatch):
    game_id = make_game().id
    locked, go, errors = threading.Event(), threading.Event(), []
    write_slots = generator.write_slots

    def paused_write_slots(session, plans):
        locked.set()
        go.wait(timeout=30)
        return write_slots(session, plans)

    monkeypatch.setattr(generator, "write_slots", paused_write_slots)
    pass_thread = in_app(app, lambda: _fill(clock, [db.session.get(Game, game_id)]), errors)
    pass_thread.start()
    assert locked.wait(timeout=30)
    edit_thread = in_app(app, lambda: edit(clock, game_id), errors)
    edit_thread.start()
    wait_until_waiting_on_a_lock_or_done(edit_thread)
    go.set()
    for thread in (pass_thread, edit_thread):
        thread.join(timeout=30)
    assert errors == []
    assert_only_the_new_schedule(db.session.get(Game, game_id))
