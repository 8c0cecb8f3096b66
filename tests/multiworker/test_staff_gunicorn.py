"""Progress polls answered by any of several gunicorn workers: the job's progress lives in Redis."""
from __future__ import annotations

import re
import time

import pytest
import requests
from sqlalchemy import func, select

from bookingapp.extensions import db
from bookingapp.models import Slot

from tests.staff_helpers import PASSWORD, csrf_from
from tests.multiworker.gunicorn_server import Gunicorn

WORKERS = 3


@pytest.fixture
def gunicorn(app, pg_url, tmp_path):
    """Several workers on the real clock, the daily hook off: only the job's polls matter here."""
    with Gunicorn(tmp_path, pg_url, file_clock=False, maintenance=False) as server:
        server.start(workers=WORKERS)
        yield server.url


@pytest.mark.slow
def test_every_worker_answers_the_same_job_progress(gunicorn, staff_user, make_game):
    game = make_game(days_ahead=60)
    web = requests.Session()
    login = web.get(gunicorn + "/admin/login").text
    web.post(gunicorn + "/admin/login", data={"csrf_token": csrf_from(login), "username": "alice", "password": PASSWORD})
    page = web.get(f"{gunicorn}/admin/games/{game.id}/progress").text
    csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)
    headers = {"Accept": "application/json", "X-CSRFToken": csrf, "Connection": "close"}
    started = web.post(f"{gunicorn}/admin/games/{game.id}/jobs", headers=headers)
    assert started.status_code == 202
    job_url = f"{gunicorn}/admin/jobs/{started.json()['id']}"
    answers = []
    for _ in range(200):  # each poll on a fresh connection, so the workers take turns
        answer = web.get(job_url, headers=headers)
        answers.append(answer.status_code)
        if answer.json().get("done"):
            break
        time.sleep(0.05)
    assert set(answers) == {200}
    final = answer.json()
    assert (final["status"], final["days_total"], final["percent"]) == ("done", 60, 100)
    stored = db.session.scalar(select(func.count()).select_from(Slot).where(Slot.game_id == game.id))
    assert final["slots_created"] == stored == 60 * 12
