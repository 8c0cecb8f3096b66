"""Database connections terminated under load: a 503 in the app's shape, never a bare 500."""
from __future__ import annotations

import threading
import time
from collections import Counter

import psycopg
import pytest
import requests

from tests.booking_helpers import fill
from tests.conftest import PG_ADMIN_URL
from tests.multiworker.gunicorn_server import GUNICORN_APP_NAME, Gunicorn

pytestmark = pytest.mark.slow


def _terminate_workers_connections(database: str) -> int:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            (database, GUNICORN_APP_NAME),
        ).fetchall()
    return len(rows)


def _load(url: str, paths: list[str], stop: threading.Event, answers: list) -> None:
    session, n = requests.Session(), 0
    while not stop.is_set():
        path = paths[n % len(paths)]
        n += 1
        response = session.get(url + path, timeout=30)
        answers.append((path, response.status_code, response.headers.get("Content-Type", ""),
                        response.headers.get("Retry-After"), response.text[:300]))


def test_terminated_connections_under_load_answer_503_in_the_apps_shape_and_recover(
    app, pg_url, tmp_path, make_game, clock
):
    game = make_game(name="Laser Maze")
    fill(game, clock)
    database = pg_url.rsplit("/", 1)[1]
    paths = ["/api/games", f"/api/games/{game.id}/slots", "/", f"/games/{game.slug}"]
    answers: list = []
    with Gunicorn(tmp_path, pg_url, maintenance=False) as server:
        server.set_clock(clock.now())
        server.start(workers=4)
        stop = threading.Event()
        clients = [threading.Thread(target=_load, args=(server.url, paths, stop, answers)) for _ in range(8)]
        for client in clients:
            client.start()
        terminated = 0
        for _ in range(4):
            time.sleep(0.4)
            terminated += _terminate_workers_connections(database)
        time.sleep(0.4)
        stop.set()
        for client in clients:
            client.join()
        after = [requests.get(server.url + path, timeout=10).status_code for path in paths * 3]
    codes = Counter(code for _, code, *_ in answers)
    assert terminated > 0 and len(answers) > 100
    assert set(codes) <= {200, 503}, codes
    for path, code, content_type, retry_after, body in answers:
        if code == 503:
            assert retry_after == "5"
            if path.startswith("/api/"):
                assert content_type.startswith("application/json") and '"unavailable"' in body
            else:
                assert content_type.startswith("text/html") and "briefly unavailable" in body
    assert after == [200] * len(after)
