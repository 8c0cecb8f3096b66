"""`GET /healthz`: ok, degraded without Redis, 503 without the database."""
from __future__ import annotations

import pytest

from bookingapp.maintenance.operator import maintain_all_games
from tests.conftest import free_port


def test_healthz_is_ok_and_shows_the_last_runs(client, make_game):
    make_game()
    maintain_all_games()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"], body["redis"]) == ("ok", "ok", "ok")
    daily = body["maintenance"]["last_daily_run"]
    assert (daily["status"], daily["day_key"], daily["slots_created"]) == ("succeeded", "2027-01-13@Europe/London", 84)
    assert body["maintenance"]["last_run"]["id"] == daily["id"]


def test_healthz_before_any_run_says_so(client):
    body = client.get("/healthz").get_json()
    assert body["maintenance"]["last_run"] is None and body["maintenance"]["last_daily_run"] is None


@pytest.mark.parametrize("app_settings", [{"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}])
def test_healthz_is_degraded_but_200_while_redis_is_unreachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded" and response.get_json()["redis"] == "unreachable"


@pytest.mark.parametrize("app_settings", [{"REDIS_URL": None}])
def test_healthz_without_redis_configured_is_ok(client):
    body = client.get("/healthz").get_json()
    assert (body["status"], body["redis"]) == ("ok", "not configured")


def test_healthz_answers_503_when_the_database_is_unreachable(pg_url, redis_prefix, clock):
    from bookingapp import create_app
    from tests.conftest import settings_for

    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"
    app = create_app(settings_for(url, redis_prefix), clock=clock)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable" and response.get_json()["maintenance"] is None
