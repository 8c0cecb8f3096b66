"""The staff JSON API: create games, edit them (with a dry run), read maintenance runs."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from bookingapp.extensions import db
from bookingapp.models import Game, MaintenanceRun, RunTrigger, Slot
from bookingapp.services.generation import PassOptions, ensure_window
from bookingapp.services.runs import generate_slots
from bookingapp.services.units import finish_unit, open_daily_run, take_unit
from tests.conftest import free_port

from bookingapp.core.hours import WEEKDAYS
BODY = {
    "name": "Laser Maze",
    "timezone": "America/New_York",
    "slot_minutes": 30,
    "capacity": 8,
    "weekly_hours": {"mon": [["10:00", "22:00"]], "sat": [["18:00", "02:00"]]},
}


def _slots(game_id) -> int:
    return db.session.scalar(select(func.count()).select_from(Slot).where(Slot.game_id == game_id))


def test_post_creates_a_game_with_a_slug_derived_from_its_name(api):
    response = api.post("/api/games", BODY)
    assert response.status_code == 201
    body = response.json
    assert body["slug"] == "laser-maze" and body["booking_mode"] == "shared" and body["is_active"] is True
    assert body["weekly_hours"]["sat"] == [["18:00", "02:00"]] and body["weekly_hours"]["tue"] == []
    assert db.session.get(Game, __import__("uuid").UUID(body["id"])).name == "Laser Maze"


def test_post_with_a_taken_slug_answers_409_slug_taken(api):
    api.post("/api/games", {**BODY, "slug": "maze"})
    response = api.post("/api/games", {**BODY, "name": "Other", "slug": "maze"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "slug_taken"


# field: bad JSON value (each alone); the error names the field
BAD_VALUES = [
    ("name", 42),
    ("name", "Nul\x00Room"),  # PostgreSQL refuses NUL in text: a 422, never a 500
    ("description", "a bell\x07"),
    ("name", "Half \ud800 a character"),  # a lone surrogate cannot be stored as UTF-8
    ("slug", "UPPER CASE"),
    ("slug", "trailing-newline\n"),
    ("description", ["not", "text"]),
    ("timezone", "Europe/Atlantis"),
    ("slot_minutes", "60"),
    ("slot_minutes", True),
    ("gap_minutes", 721),
    ("capacity", 0),
    ("days_ahead", 0),
    ("min_notice_minutes", -1),
    ("booking_mode", "exclusive"),
    ("booking_mode", ["private"]),
    ("min_party", 9),
    ("weekly_hours", [["10:00", "12:00"]]),
    ("closures", "2027-12-25"),
    ("is_active", "yes"),
]


@pytest.mark.parametrize("field, value", BAD_VALUES)
def test_post_refuses_each_bad_field_with_422_naming_it(api, field, value):
    response = api.post("/api/games", {**BODY, field: value})
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Game)) == 0


@pytest.mark.parametrize(
    "hours, key",
    [
        ({"mon": [["10:00", "12:00"], ["11:00", "13:00"]]}, "weekly_hours.mon"),
        ({"mon": [["10:00", "10:15"]]}, "weekly_hours.mon"),
        ({"funday": [["10:00", "12:00"]]}, "weekly_hours"),
        ({"tue": [["9:00", "12:00"]]}, "weekly_hours.tue"),
        ({"wed": [["24:00", "02:00"]]}, "weekly_hours.wed"),
    ],
)
def test_post_refuses_bad_weekly_hours_naming_the_day(api, hours, key):
    response = api.post("/api/games", {**BODY, "weekly_hours": hours})
    assert response.status_code == 422
    assert key in response.json["error"]["fields"]


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", ""])
def test_post_refuses_a_body_that_is_not_a_json_object(app, api_token, raw):
    client = app.test_client()
    response = client.post("/api/games", data=raw, headers={"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"})
    assert response.status_code == 422


def test_post_keeps_line_breaks_and_tabs_in_a_description(api):
    response = api.post("/api/games", {**BODY, "description": "Two rooms:\n\tthe tomb\r\n\tthe vault"})
    assert response.status_code == 201
    assert response.json["description"] == "Two rooms:\n\tthe tomb\r\n\tthe vault"


def test_post_refuses_unknown_fields(api):
    response = api.post("/api/games", {**BODY, "colour": "red"})
    assert response.status_code == 422 and "colour" in response.json["error"]["fields"]["_"]


def _filled_game(make_game, clock):
    game = make_game()
    ensure_window(db.session, game, now=clock.now(), default_days=7)
    return game


def test_patch_dry_run_answers_the_plan_and_changes_nothing(api, make_game, clock):
    game = _filled_game(make_game, clock)
    hours = {d: [["10:00", "18:00"]] for d in WEEKDAYS}
    response = api.patch(f"/api/games/{game.id}?dry_run=1", {"weekly_hours": hours, "capacity": 2})
    assert response.status_code == 200
    body = response.json
    assert body["dry_run"] is True and body["game"]["capacity"] == 2
    assert body["changes"]["removed"] == 28 and body["changes"]["added"] == 0
    assert body["changes"]["summary"].startswith("28 unbooked slots removed, 0 added")
    db.session.refresh(game)
    assert game.capacity == 4 and _slots(game.id) == 84


def test_patch_saves_and_reconciles(api, make_game, clock):
    game = _filled_game(make_game, clock)
    response = api.patch(f"/api/games/{game.id}", {"slot_minutes": 120})
    assert response.status_code == 200
    assert response.json["game"]["slot_minutes"] == 120
    assert response.json["changes"]["added"] == 7 * 6
    assert _slots(game.id) == 7 * 6


def test_patch_refuses_bad_fields_and_writes_nothing(api, make_game, clock):
    game = _filled_game(make_game, clock)
    response = api.patch(f"/api/games/{game.id}", {"capacity": 2, "timezone": "Nowhere/Land"})
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"timezone"}
    db.session.refresh(game)
    assert game.capacity == 4


@pytest.mark.parametrize("game_id", ["00000000-0000-0000-0000-000000000000", "nope"])
def test_patch_of_an_unknown_game_answers_404(api, game_id):
    response = api.patch(f"/api/games/{game_id}", {"capacity": 2})
    assert response.status_code == 404 and response.json["error"]["code"] == "game_not_found"


def test_patch_refuses_a_bad_dry_run_flag(api, make_game):
    game = make_game()
    response = api.patch(f"/api/games/{game.id}?dry_run=maybe", {"capacity": 2})
    assert response.status_code == 422 and "dry_run" in response.json["error"]["fields"]


def test_patch_to_a_taken_slug_answers_409(api, make_game):
    make_game(slug="first")
    game = make_game()
    assert api.patch(f"/api/games/{game.id}", {"slug": "first"}).status_code == 409


def test_runs_are_listed_newest_first_with_every_field(api, make_game, clock):
    make_game()
    generate_slots(db.session, clock=clock, trigger=RunTrigger.CLI, options=PassOptions(7))
    clock.advance(minutes=5)
    generate_slots(db.session, clock=clock, trigger=RunTrigger.ADMIN, options=PassOptions(7))
    runs = api.get("/api/runs").json["runs"]
    assert [r["trigger"] for r in runs] == ["admin", "cli"]
    assert set(runs[0]) == {"id", "trigger", "status", "started_at", "finished_at", "games_checked", "slots_created", "error",
                            "units"}
    assert runs[0]["units"] == []  # only a daily run has units
    assert runs[1]["slots_created"] == 84 and runs[1]["status"] == "succeeded"
    assert runs[0]["started_at"] == "2027-01-13T09:35:00+00:00"


def test_a_daily_run_is_listed_with_its_units(api, make_game, clock):
    make_game(), make_game()
    open_daily_run(db.session, day_key="2027-01-13@Europe/London", now=clock.now(), unit_games=1)
    unit = take_unit(db.engine, day_key="2027-01-13@Europe/London", ttl=60)
    finish_unit(db.engine, unit, now=clock.now(), games_checked=1, slots_created=84)
    (run,) = api.get("/api/runs").json["runs"]
    assert run["trigger"] == "daily" and run["status"] == "running"
    done, waiting = run["units"]
    assert done["status"] == "done" and done["attempts"] == 1 and done["worker"].endswith(f":{os.getpid()}")
    assert done["first_game_id"] is None and done["end_game_id"] == waiting["first_game_id"]
    assert waiting == {**waiting, "status": "open", "attempts": 0, "worker": None, "end_game_id": None}


@pytest.mark.parametrize("limit", ["0", "501", "ten", "²", "9" * 5000, "-1"])
def test_runs_refuse_a_bad_limit(api, limit):
    assert api.get(f"/api/runs?limit={limit}").status_code == 422


@pytest.mark.parametrize("app_settings", [{"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}])
def test_patch_saves_while_redis_is_unreachable(api, make_game, clock):
    # The edit is committed before the game's cached check is forgotten: a Redis outage
    # there must not turn a saved change into a 500.
    game = _filled_game(make_game, clock)
    response = api.patch(f"/api/games/{game.id}", {"slot_minutes": 120})
    assert response.status_code == 200
    assert _slots(game.id) == 7 * 6


def test_a_game_created_through_the_api_lists_its_window_without_a_page_visit(api, drain_pool, client):
    created = api.post("/api/games", {**BODY, "days_ahead": 7}).json
    drain_pool()
    slots = client.get(f"/api/games/{created['id']}/slots").json["slots"]
    # Monday 10:00-22:00 and Saturday 18:00-02:00 in New York, half-hour slots.
    assert len(slots) == 24 + 16
    run = db.session.scalar(select(MaintenanceRun))
    assert run.trigger is RunTrigger.ADMIN and run.slots_created == len(slots)


def test_an_inactive_game_created_through_the_api_gets_no_slots(api, drain_pool, client):
    created = api.post("/api/games", {**BODY, "is_active": False}).json
    drain_pool()
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 0


def test_post_and_patch_take_a_price_and_refuse_a_bad_one(api):
    made = api.post("/api/games", {**BODY, "price": 1800, "currency": "GBP", "price_per": "player",
                                   "location": "Basement", "instructions": "Wear trainers."})
    assert made.status_code == 201
    assert (made.json["price"], made.json["currency"], made.json["price_per"]) == (1800, "GBP", "player")
    assert made.json["location"] == "Basement"
    changed = api.patch(f"/api/games/{made.json['id']}", {"price": 2000, "price_per": "session"})
    assert (changed.json["game"]["price"], changed.json["game"]["price_per"]) == (2000, "session")
    for bad, field in (({"price": -1}, "price"), ({"price": 12.5}, "price"), ({"currency": "XYZW"}, "currency"),
                       ({"price_per": "team"}, "price_per"), ({"location": "x" * 201}, "location")):
        refused = api.patch(f"/api/games/{made.json['id']}", bad)
        assert refused.status_code == 422 and field in refused.json["error"]["fields"], bad
