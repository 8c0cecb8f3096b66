"""Fixtures for tests that need a real gunicorn with several workers."""
from __future__ import annotations

import pytest

from tests.multiworker.gunicorn_server import Gunicorn, free_port


@pytest.fixture
def gunicorn(app, pg_url, tmp_path):
    """A gunicorn (started by the test) on this session's database; stopped afterwards."""
    server = Gunicorn(tmp_path, pg_url)
    yield server
    server.stop()


@pytest.fixture
def gunicorn_without_redis(app, pg_url, tmp_path):
    """A gunicorn whose REDIS_URL points at a port nothing listens on."""
    server = Gunicorn(tmp_path, pg_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    yield server
    server.stop()
