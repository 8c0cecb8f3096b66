"""Progress polls answered by any of several gunicorn workers: the job's progress lives in Redis."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from bookingapp.extensions import db
from bookingapp.models import Slot

from staff_helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[3]
WORKERS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(app):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "REDIS_PREFIX": app.config["REDIS_PREFIX"],
        "SECRET_KEY": "gunicorn-test-secret",
        "SLOTS_MAINTENANCE_ENABLED": "false",
    }
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn_bin), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(15)
        process.stderr.close()


def _wait_until_up(url: str, process) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode())
        try:
            requests.get(url + "/admin/login", timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


@pytest.mark.slow
def test_every_worker_answers_the_same_job_progress(gunicorn, staff_user, make_game):
    game = make_game(days_ahead=60)
    web = requests.Session()
    login = web.get(gunicorn + "/admin/login").text
    web.post(gunicorn + "/admin/login", data={"csrf_token": _token(login), "username": "alice", "password": PASSWORD})
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
