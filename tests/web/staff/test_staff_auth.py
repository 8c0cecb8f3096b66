"""Every staff page and API call is refused without a login or a token; forms need CSRF."""
from __future__ import annotations

import pytest

from bookingapp.extensions import db
from bookingapp.models import ApiToken, StaffUser
from bookingapp.services.accounts import create_api_token

from tests.staff_helpers import PASSWORD, csrf_from, post_form

PAGES = ["/admin/", "/admin/games/new", "/admin/runs", "/admin/games/00000000-0000-0000-0000-000000000000/edit"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_send_a_stranger_to_the_login_form(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


def test_a_poll_without_a_login_gets_a_401_json_answer(client):
    response = client.get("/admin/jobs/" + "a" * 32, headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_a_post_without_a_login_is_refused(client, make_game):
    game = make_game()
    response = client.post(f"/admin/games/{game.id}/active", data={"active": "0"})
    assert response.status_code in (302, 400)
    db.session.refresh(game)
    assert game.is_active


def test_staff_log_in_and_land_where_they_were_going(app, client, staff_user):
    response = post_form(client, "/admin/login?next=/admin/runs", {"username": "alice", "password": PASSWORD, "next": "/admin/runs"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/runs"
    assert client.get("/admin/runs").status_code == 200
    assert db.session.get(StaffUser, staff_user.id).last_login_at is not None


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_login_never_redirects_off_the_site(client, staff_user, target):
    response = post_form(client, "/admin/login", {"username": "alice", "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("username, password", [("alice", "wrong password"), ("nobody", PASSWORD), ("", ""), ("ali\x00ce", PASSWORD)])
def test_wrong_credentials_are_refused_with_one_message(client, staff_user, username, password):
    response = post_form(client, "/admin/login", {"username": username, "password": password})
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_a_deactivated_staff_user_cannot_log_in(client, staff_user):
    staff_user.active = False
    db.session.commit()
    assert post_form(client, "/admin/login", {"username": "alice", "password": PASSWORD}).status_code == 401


def test_a_login_post_without_the_csrf_token_is_refused(client, staff_user):
    response = client.post("/admin/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_a_staff_form_post_without_the_csrf_token_changes_nothing(staff_client, make_game):
    game = make_game()
    response = staff_client.post(f"/admin/games/{game.id}/active", data={"active": "0"})
    assert response.status_code == 400
    db.session.refresh(game)
    assert game.is_active


def test_logout_ends_the_session(staff_client):
    page = staff_client.get("/admin/").get_data(as_text=True)
    response = staff_client.post("/admin/logout", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert staff_client.get("/admin/").status_code == 302


def test_the_session_cookie_is_http_only_and_same_site_lax(client, staff_user):
    response = post_form(client, "/admin/login", {"username": "alice", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer not-a-token", "Basic YWxpY2U6cGFzcw==", "bk_whatever"],
)
@pytest.mark.parametrize("method, url", [("get", "/api/runs"), ("post", "/api/games"), ("patch", "/api/games/x")])
def test_the_staff_api_answers_401_json_without_a_valid_token(client, method, url, header):
    headers = {"Authorization": header} if header else {}
    response = getattr(client, method)(url, json={}, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused(app, client):
    raw = create_api_token(db.session, "old")
    token = db.session.query(ApiToken).one()
    assert client.get("/api/runs", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    token.revoked_at = token.created_at
    db.session.commit()
    assert client.get("/api/runs", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_tokens_are_stored_only_as_their_sha256(app):
    import hashlib

    raw = create_api_token(db.session, "ci")
    stored = db.session.query(ApiToken).one()
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in stored.token_hash


def test_a_refused_csrf_token_gets_a_page_that_says_nothing_changed(staff_client, make_game):
    game = make_game()
    response = staff_client.post(f"/admin/games/{game.id}/active", data={"csrf_token": "forged", "active": "0"})
    assert response.status_code == 400
    assert "Nothing was changed" in response.get_data(as_text=True)
