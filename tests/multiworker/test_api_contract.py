"""The OpenAPI contract, fuzzed with schemathesis against a live gunicorn: no 5xx, no answer
that breaks the schema, on every operation."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bookingapp.extensions import db
from bookingapp.services.accounts import create_api_token
from tests.booking_helpers import fill
from tests.multiworker.gunicorn_server import Gunicorn

pytestmark = pytest.mark.slow
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def _schemathesis(server: Gunicorn, *extra: str) -> subprocess.CompletedProcess:
    binary = Path(sys.executable).with_name("schemathesis")
    args = [str(binary), "run", f"{server.url}/api/openapi.json", "--url", server.url, "--checks", CHECKS,
            "--max-examples", "25", "--workers", "2", "--seed", "1", "--request-timeout", "20", "--phases", "examples,fuzzing", *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


def test_every_operation_holds_to_the_contract_for_customers_and_staff(app, pg_url, tmp_path, make_game, clock):
    fill(make_game(name="Laser Maze"), clock)
    token = create_api_token(db.session, "schemathesis")
    with Gunicorn(tmp_path, pg_url, maintenance=False) as server:
        server.set_clock(clock.now())
        server.start(workers=4)
        anonymous = _schemathesis(server)
        staff = _schemathesis(server, "-H", f"Authorization: Bearer {token}")
    assert anonymous.returncode == 0, anonymous.stdout[-6000:]
    assert staff.returncode == 0, staff.stdout[-6000:]
