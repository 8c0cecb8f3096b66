"""Staff roles: a desk login runs the day but cannot edit games, users or tokens; admins manage users."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import AuditEvent, Game, StaffRole, StaffUser
from bookingapp.services.accounts import authenticate

from tests.staff_helpers import post_form
from tests.web.staff.test_staff_games import VALID


def test_a_desk_user_gets_403_on_game_edits_users_and_tokens(desk_client, make_game):
    game = make_game()
    for url in ("/admin/games/new", f"/admin/games/{game.id}/edit", "/admin/users", "/admin/tokens"):
        assert desk_client.get(url).status_code == 403, url
    response = post_form(desk_client, "/admin/bookings", {**VALID, "action": "save", "name": "Hijacked"},
                         url=f"/admin/games/{game.id}/edit")
    assert response.status_code == 403
    post_form(desk_client, "/admin/bookings", {"active": "0"}, url=f"/admin/games/{game.id}/active")
    db.session.expire_all()
    assert db.session.get(Game, game.id).name != "Hijacked" and db.session.get(Game, game.id).is_active
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_a_desk_user_runs_the_day(desk_client, make_game):
    make_game(name="Crypt")
    assert desk_client.get("/admin/bookings").status_code == 200
    assert desk_client.get("/admin/bookings/search?q=x").status_code == 200
    html = desk_client.get("/admin/").get_data(as_text=True)
    assert "Crypt" in html and "New game" not in html and "Deactivate" not in html


def test_admins_create_deactivate_and_reset_staff_users(staff_client, clock):
    response = post_form(staff_client, "/admin/users", {"username": "dana", "password": "long enough pw", "role": "desk"})
    assert response.status_code == 302
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == "dana"))
    assert user.role is StaffRole.DESK
    post_form(staff_client, "/admin/users", {"active": "0"}, url="/admin/users/dana/active")
    post_form(staff_client, "/admin/users", {"password": "another long pw"}, url="/admin/users/dana/password")
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).active is False
    assert authenticate(db.session, "dana", "another long pw", now=clock.now()) is None  # deactivated
    db.session.get(StaffUser, user.id).active = True
    assert authenticate(db.session, "dana", "another long pw", now=clock.now()) is not None  # the new password
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["user.create", "user.deactivate", "user.reset_password"]
    assert "password" not in str([e.after for e in db.session.scalars(select(AuditEvent))])


def test_bad_user_input_is_refused_and_changes_nothing(staff_client):
    for data in ({"username": "bad name!", "password": "long enough pw", "role": "desk"},
                 {"username": "ok", "password": "short", "role": "desk"},
                 {"username": "ok", "password": "long enough pw", "role": "boss"}):
        assert post_form(staff_client, "/admin/users", data).status_code == 422
    assert post_form(staff_client, "/admin/users", {"active": "0"}, url="/admin/users/alice/active").status_code == 422
    assert post_form(staff_client, "/admin/users", {"active": "0"}, url="/admin/users/ghost/active").status_code == 404
    assert [u.username for u in db.session.scalars(select(StaffUser))] == ["alice"]
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_token_changes_from_the_page_are_audited(staff_client):
    post_form(staff_client, "/admin/tokens", {"name": "partner"})
    post_form(staff_client, "/admin/tokens", {"name": "partner"}, url="/admin/tokens/revoke")
    assert [(e.action, e.target_id) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        ("token.create", "partner"), ("token.revoke", "partner"),
    ]


def test_create_user_command_takes_a_role(runner):
    result = runner.invoke(args=["admin", "create-user", "dana", "--role", "desk", "--password", "long enough pw"])
    assert result.exit_code == 0 and "Role: desk" in result.output
    assert db.session.scalar(select(StaffUser.role).where(StaffUser.username == "dana")) is StaffRole.DESK
    bad = runner.invoke(args=["admin", "create-user", "erin", "--role", "boss", "--password", "long enough pw"])
    assert bad.exit_code != 0 and "boss" in bad.output
