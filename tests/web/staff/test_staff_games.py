"""Staff game pages: create with validation of every field, edit with a preview, deactivate, runs."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bookingapp.extensions import db
from bookingapp.models import Game, MaintenanceRun, RunTrigger, Slot
from bookingapp.services.generation import PassOptions, ensure_window

from tests.staff_helpers import csrf_from

from bookingapp.core.hours import WEEKDAYS
VALID = {
    "name": "Dragon's Lair",
    "slug": "",
    "description": "Escape the dragon.",
    "timezone": "Europe/London",
    "slot_minutes": "60",
    "gap_minutes": "15",
    "capacity": "6",
    "booking_mode": "private",
    "min_party": "2",
    "days_ahead": "",
    "min_notice_minutes": "30",
    **{f"hours_{d}": "10:00-14:00, 16:00-01:00" for d in WEEKDAYS},
    "closures": "2027-12-25\n2027-12-26",
    "is_active": "y",
}


def _create(client, **changes):
    page = client.get("/admin/games/new").get_data(as_text=True)
    return client.post("/admin/games/new", data={"csrf_token": csrf_from(page), **VALID, **changes})


def _slot_count(game) -> int:
    return db.session.scalar(select(func.count()).select_from(Slot).where(Slot.game_id == game.id))


def test_the_games_list_shows_each_window_and_bookings_ahead(staff_client, make_game, clock):
    game = make_game(name="Centre Court")
    make_game(name="Empty Room")
    ensure_window(db.session, game, now=clock.now(), default_days=7)
    html = staff_client.get("/admin/").get_data(as_text=True)
    assert "Centre Court" in html and "Empty Room" in html
    assert "2027-01-13 … 2027-01-19" in html
    assert "written through 2027-01-19" in html and "written through never" in html


def test_a_valid_form_creates_the_game_and_opens_its_progress_page(staff_client):
    response = _create(staff_client)
    game = db.session.scalar(select(Game))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/games/{game.id}/progress"
    assert (game.slug, game.gap_minutes, game.capacity, game.min_party, game.days_ahead) == ("dragon-s-lair", 15, 6, 2, None)
    assert game.booking_mode.value == "private" and game.min_notice_minutes == 30
    assert game.weekly_hours["fri"] == [["10:00", "14:00"], ["16:00", "01:00"]]
    assert game.closures == ["2027-12-25", "2027-12-26"]
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'role="progressbar"' in page and "progress.js" in page


# field: bad value -> the words the page shows on that field
BAD_FIELDS = [
    ("name", "", "is required"),
    ("name", "x" * 121, "at most 120"),
    ("slug", "Not A Slug", "lowercase letters"),
    ("description", "d" * 2001, "at most 2000"),
    ("timezone", "Mars/Olympus", "not a known IANA time zone"),
    ("timezone", "", "is required"),
    ("slot_minutes", "sixty", "must be a whole number"),
    ("slot_minutes", "0", "between 5 and 1440"),
    ("gap_minutes", "-5", "between 0 and 720"),
    ("capacity", "", "must be a whole number"),
    ("capacity", "100000", "between 1 and 500"),
    ("booking_mode", "auction", "'shared' or 'private'"),
    ("min_party", "7", "cannot be more than the capacity"),
    ("days_ahead", "400", "between 1 and 366"),
    ("min_notice_minutes", "1.5", "must be a whole number"),
    ("hours_mon", "10:00-12:00, 11:00-13:00", "ranges overlap"),
    ("hours_tue", "10:00-10:30", "shorter than one 60-minute slot"),
    ("hours_wed", "25:00-26:00", "is not a time like 09:30"),
    ("hours_thu", "10:00", "pair [open, close]"),
    ("closures", "christmas", "dates like 2027-12-25"),
    ("closures", "0027-12-25", "years 2000 to 2199"),
]


@pytest.mark.parametrize("field, value, message", BAD_FIELDS)
def test_each_bad_field_is_refused_with_its_message_and_nothing_is_saved(staff_client, field, value, message):
    response = _create(staff_client, **{field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html.replace("&#39;", "'").replace("&amp;", "&")
    assert db.session.scalar(select(func.count()).select_from(Game)) == 0


def test_a_sunday_past_midnight_range_running_into_monday_is_refused(staff_client):
    response = _create(staff_client, hours_mon="00:30-10:00", hours_sun="20:00-02:00")
    assert response.status_code == 422
    assert "ranges overlap (with sun)" in response.get_data(as_text=True)


def test_a_taken_slug_is_refused_on_the_form(staff_client, make_game):
    make_game(slug="dragon")
    response = _create(staff_client, slug="dragon")
    assert response.status_code == 422 and "is taken" in response.get_data(as_text=True)


def _edit_page(client, game):
    return client.get(f"/admin/games/{game.id}/edit").get_data(as_text=True)


def _edit(client, game, action, **changes):
    page = _edit_page(client, game)
    data = {**VALID, "name": game.name, "slug": game.slug, "booking_mode": "shared", "min_party": "1",
            "gap_minutes": "0", "capacity": "4", "min_notice_minutes": "0", "closures": "",
            **{f"hours_{d}": "10:00-22:00" for d in WEEKDAYS}, **changes}
    data.pop("is_active")  # as the browser sends it: the edit form has no such box
    return client.post(f"/admin/games/{game.id}/edit", data={"csrf_token": csrf_from(page), "action": action, **data})


def test_the_edit_form_shows_the_current_settings(staff_client, make_game):
    game = make_game(weekly_hours={"fri": [["16:00", "01:00"], ["10:00", "14:00"]]}, closures=["2027-02-01"])
    html = _edit_page(staff_client, game)
    assert 'value="10:00-14:00, 16:00-01:00"' in html and "2027-02-01" in html


def test_a_preview_says_what_saving_would_do_and_changes_nothing(staff_client, make_game, clock):
    game = make_game()
    ensure_window(db.session, game, now=clock.now(), default_days=7)
    response = _edit(staff_client, game, "preview", **{f"hours_{d}": "10:00-18:00" for d in WEEKDAYS})
    assert response.status_code == 200
    html = " ".join(response.get_data(as_text=True).split())
    assert "28 unbooked slots removed, 0 added, 0 booked slots kept off-schedule." in html
    # Which ones, by day: 18:00-22:00 go each day, from today (Wed 13) on.
    assert ("<li><strong>Wed 2027-01-13</strong>: <span class=\"change change-removed\">18:00–19:00 removed</span>, "
            "<span class=\"change change-removed\">19:00–20:00 removed</span>") in html
    assert "<strong>Tue 2027-01-19</strong>" in html and "more slot change" not in html  # 28 fit under 50
    assert _slot_count(game) == 84
    db.session.refresh(game)
    assert game.weekly_hours["mon"] == [["10:00", "22:00"]]


def test_a_big_preview_lists_the_first_fifty_changes_and_counts_the_rest(staff_client, make_game, clock):
    game = make_game()
    ensure_window(db.session, game, now=clock.now(), default_days=7)
    html = _edit(staff_client, game, "preview", **{f"hours_{d}": "10:30-22:30" for d in WEEKDAYS}).get_data(as_text=True)
    # Every slot moves half an hour: 84 removed and 84 added, of which 50 are listed.
    assert html.count('class="change ') == 50
    assert "… and 118 more slot changes after these." in html


def test_saving_an_edit_reconciles_the_slots_at_once(staff_client, make_game, clock):
    game = make_game()
    ensure_window(db.session, game, now=clock.now(), default_days=7)
    response = _edit(staff_client, game, "save", **{f"hours_{d}": "10:00-18:00" for d in WEEKDAYS})
    assert response.status_code == 302
    assert _slot_count(game) == 56
    db.session.refresh(game)
    assert game.is_active  # the edit form has no such box; saving must not read it as "off"
    followed = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "saved. 28 unbooked slots removed" in followed


def test_a_bad_edit_is_refused_and_writes_nothing(staff_client, make_game, clock):
    game = make_game()
    ensure_window(db.session, game, now=clock.now(), default_days=7)
    response = _edit(staff_client, game, "save", capacity="0", hours_mon="10:00-18:00")
    assert response.status_code == 422
    db.session.refresh(game)
    assert game.capacity == 4 and _slot_count(game) == 84


def test_deactivate_then_reactivate_from_the_games_list(staff_client, make_game):
    game = make_game()
    token = csrf_from(staff_client.get("/admin/").get_data(as_text=True))
    staff_client.post(f"/admin/games/{game.id}/active", data={"csrf_token": token, "active": "0"})
    db.session.refresh(game)
    assert not game.is_active
    staff_client.post(f"/admin/games/{game.id}/active", data={"csrf_token": token, "active": "1"})
    db.session.refresh(game)
    assert game.is_active and _slot_count(game) == 84


def test_an_unknown_or_malformed_game_id_answers_404(staff_client):
    assert staff_client.get("/admin/games/not-a-uuid/edit").status_code == 404
    assert staff_client.get("/admin/games/00000000-0000-0000-0000-000000000000/progress").status_code == 404


def test_generate_now_without_javascript_runs_a_job_and_the_page_says_when_done(staff_client, make_game, drain_pool):
    game = make_game()
    token = csrf_from(staff_client.get("/admin/").get_data(as_text=True))
    response = staff_client.post(f"/admin/games/{game.id}/jobs", data={"csrf_token": token})
    assert response.status_code == 302 and "job=" in response.headers["Location"]
    drain_pool()
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "100 % · done: 7 of 7 days, 84 slots created." in page
    assert 'http-equiv="refresh"' not in page
    run = db.session.scalar(select(MaintenanceRun))
    assert (run.trigger, run.slots_created, run.games_checked) == (RunTrigger.ADMIN, 84, 1)


def test_the_run_history_lists_runs_newest_first(staff_client, make_game, drain_pool):
    from bookingapp.services.runs import generate_slots
    from bookingapp.models import RunTrigger as T

    make_game()
    clock = staff_client.application.extensions["clock"]
    generate_slots(db.session, clock=clock, trigger=T.CLI, options=PassOptions(7))
    generate_slots(db.session, clock=clock, trigger=T.ADMIN, options=PassOptions(7))
    html = staff_client.get("/admin/runs").get_data(as_text=True)
    assert html.index("<td>admin</td>") < html.index("<td>cli</td>")


def test_the_run_history_shows_a_daily_run_with_its_units(staff_client, make_game):
    from bookingapp.services.units import fail_unit, finish_unit, open_daily_run, take_unit

    make_game(), make_game()
    clock = staff_client.application.extensions["clock"]
    open_daily_run(db.session, day_key="2027-01-13@Europe/London", now=clock.now(), unit_games=1)
    unit = take_unit(db.engine, day_key="2027-01-13@Europe/London", ttl=60)
    finish_unit(db.engine, unit, now=clock.now(), games_checked=1, slots_created=84)
    failed = take_unit(db.engine, day_key="2027-01-13@Europe/London", ttl=60)
    fail_unit(db.engine, failed, error="Traceback …\nOSError: disk full", retry_after=60)
    html = staff_client.get("/admin/runs").get_data(as_text=True)
    assert "<summary>1 of 2 done</summary>" in html
    assert "<td>open</td>" in html and "OSError: disk full" in html


def test_the_run_history_sums_up_a_failed_run_by_its_errors_last_line(staff_client):
    from bookingapp.models import MaintenanceRun, RunStatus, RunTrigger

    now = staff_client.application.extensions["clock"].now()
    traceback = 'Traceback (most recent call last):\n  File "generator.py", line 1\nValueError: boom\n'
    db.session.add_all([
        MaintenanceRun(trigger=RunTrigger.DAILY, status=RunStatus.FAILED, started_at=now, error=traceback),
        MaintenanceRun(trigger=RunTrigger.CLI, status=RunStatus.FAILED, started_at=now, error="  \n"),
    ])
    db.session.commit()
    response = staff_client.get("/admin/runs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<summary>ValueError: boom</summary>" in html and "File &#34;generator.py&#34;, line 1" in html
    assert html.count("<details>") == 1  # a blank error has nothing to show


def test_deactivating_asks_first_and_the_question_changes_nothing(staff_client, make_game):
    game = make_game(name="Crypt")
    listing = staff_client.get("/admin/").get_data(as_text=True)
    assert f'href="/admin/games/{game.id}/deactivate"' in listing
    question = staff_client.get(f"/admin/games/{game.id}/deactivate")
    assert question.status_code == 200 and "Deactivate Crypt?" in question.get_data(as_text=True)
    db.session.refresh(game)
    assert game.is_active
    staff_client.post(f"/admin/games/{game.id}/active",
                      data={"csrf_token": csrf_from(question.get_data(as_text=True)), "active": "0"})
    db.session.refresh(game)
    assert not game.is_active


def test_the_games_list_pages_fifty_at_a_time(staff_client, make_game):
    for n in range(51):
        make_game(name=f"Room {n:02d}", weekly_hours={})
    first = staff_client.get("/admin/").get_data(as_text=True)
    assert "Room 49" in first and "Room 50" not in first and "Page 1 of 2" in first
    second = staff_client.get("/admin/?page=2").get_data(as_text=True)
    assert "Room 50" in second and "Room 00" not in second
    assert staff_client.get("/admin/?page=junk").status_code == 200


def test_a_games_price_location_and_instructions_are_edited_on_its_form(staff_client):
    response = _create(staff_client, price="25,50", currency="eur", price_per="player",
                       location="Room 2, first floor", instructions="Arrive 15 minutes early.")
    assert response.status_code == 302
    game = db.session.scalar(select(Game))
    assert (game.price, game.currency, game.price_per.value) == (2550, "EUR", "player")
    assert (game.location, game.instructions) == ("Room 2, first floor", "Arrive 15 minutes early.")
    page = _edit_page(staff_client, game)
    assert 'value="25.50"' in page and 'value="Room 2, first floor"' in page


@pytest.mark.parametrize("changes, field", [
    ({"price": "twenty"}, "Price"),
    ({"price": "1.234"}, "Price"),
    ({"currency": "EURO"}, "Currency"),
    ({"price_per": "group"}, "Price is"),
])
def test_a_bad_price_is_refused_on_the_form(staff_client, changes, field):
    response = _create(staff_client, **changes)
    assert response.status_code == 422
    assert f"{field}: must" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Game)) == 0
