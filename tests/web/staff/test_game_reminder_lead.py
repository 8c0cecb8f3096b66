"""A game's own reminder lead (hours before the start; empty/null: the site's setting; 0: none), on the form and the API."""
from __future__ import annotations

import uuid

import pytest

from bookingapp.extensions import db
from bookingapp.models import Game

from tests.staff_helpers import csrf_from
from tests.web.staff.test_staff_api import BODY
from tests.web.staff.test_staff_games import VALID


def _game(game_id) -> Game:
    db.session.expire_all()
    return db.session.get(Game, uuid.UUID(str(game_id)))


def test_api_creates_changes_and_clears_the_lead(api):
    made = api.post("/api/games", {**BODY, "reminder_hours": 2})
    assert made.status_code == 201 and made.json["reminder_hours"] == 2
    game_id = made.json["id"]
    assert api.patch(f"/api/games/{game_id}", {"reminder_hours": 0}).json["game"]["reminder_hours"] == 0
    assert api.patch(f"/api/games/{game_id}", {"reminder_hours": None}).json["game"]["reminder_hours"] is None
    assert _game(game_id).reminder_hours is None
    listed = api.get("/api/games").json["games"]
    assert listed[0]["reminder_hours"] is None
    assert api.post("/api/games", {**BODY, "name": "Other"}).json["reminder_hours"] is None


@pytest.mark.parametrize("value", [-1, 721, "6", 2.5, True])
def test_api_refuses_a_bad_lead(api, value):
    response = api.post("/api/games", {**BODY, "reminder_hours": value})
    assert response.status_code == 422
    assert "reminder_hours" in response.json["error"]["fields"]


def _post(client, url, **changes):
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from(page), **VALID, **changes})


def test_the_game_form_takes_the_lead_and_an_empty_box_follows_the_setting(staff_client):
    assert _post(staff_client, "/admin/games/new", reminder_hours="6").status_code == 302
    game = db.session.query(Game).one()
    assert game.reminder_hours == 6
    page = staff_client.get(f"/admin/games/{game.id}/edit").get_data(as_text=True)
    assert 'name="reminder_hours"' in page and 'value="6"' in page
    _post(staff_client, f"/admin/games/{game.id}/edit", reminder_hours="", action="save")
    assert _game(game.id).reminder_hours is None
    refused = _post(staff_client, f"/admin/games/{game.id}/edit", reminder_hours="999", action="save")
    assert refused.status_code == 422 and "must be between 0 and 720" in refused.get_data(as_text=True)
    refused = _post(staff_client, f"/admin/games/{game.id}/edit", reminder_hours="soon", action="save")
    assert refused.status_code == 422 and "must be a whole number" in refused.get_data(as_text=True)
    assert _game(game.id).reminder_hours is None
