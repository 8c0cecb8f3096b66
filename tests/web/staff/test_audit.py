"""Every staff write leaves exactly one audit row, with who, what and the values before and after."""
from __future__ import annotations

from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import AuditEvent, Game

from tests.staff_helpers import post_form
from tests.web.staff.test_staff_games import VALID


def _events():
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


def test_game_create_edit_and_deactivate_from_the_pages_each_leave_one_row(staff_client):
    post_form(staff_client, "/admin/games/new", VALID)
    game = db.session.scalar(select(Game))
    edit = f"/admin/games/{game.id}/edit"
    post_form(staff_client, edit, {**VALID, "name": "Dragon's Den", "action": "save"})
    post_form(staff_client, edit, {**VALID, "name": "Never saved", "action": "preview"})  # a preview writes nothing
    post_form(staff_client, "/admin/", {"active": "0"}, url=f"/admin/games/{game.id}/active")
    events = _events()
    assert [(e.action, e.actor, e.target_id) for e in events] == [
        ("game.create", "alice", str(game.id)), ("game.edit", "alice", str(game.id)), ("game.deactivate", "alice", str(game.id)),
    ]
    assert events[1].before["name"] == "Dragon's Lair" and events[1].after["name"] == "Dragon's Den"
    assert "capacity" not in events[1].after  # only what changed
    assert events[2].after == {"is_active": False}


def test_an_edit_that_fails_validation_leaves_no_row(staff_client, make_game):
    game = make_game()
    post_form(staff_client, f"/admin/games/{game.id}/edit", {**VALID, "capacity": "0", "action": "save"})
    assert _events() == []


def test_api_writes_are_recorded_under_the_tokens_name(api, make_game):
    created = api.post("/api/games", {"name": "Vault", "timezone": "Europe/London", "slot_minutes": 60, "capacity": 4})
    assert created.status_code == 201
    api.patch(f"/api/games/{created.get_json()['id']}", {"capacity": 6})
    api.patch(f"/api/games/{created.get_json()['id']}?dry_run=1", {"capacity": 8})
    events = _events()
    assert [(e.action, e.actor, e.actor_kind) for e in events] == [("game.create", "tests", "token"), ("game.edit", "tests", "token")]
    assert events[1].before == {"capacity": 4} and events[1].after == {"capacity": 6}
