"""The unit layer: the pure core alone, with no app, database or Redis.

``make test-unit`` runs this folder with ``--confcutdir=tests/unit``, so this conftest is
the only one loaded. Run that way, the session fails if anything here pulled in the app or
a server's client library: a unit test that needs one belongs in ``tests/integration``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

UNIT_DIR = Path(__file__).resolve().parent
# What a unit test must never load: the web framework, the database layer, the cache.
SERVER_MODULES = ("flask", "flask_sqlalchemy", "flask_caching", "sqlalchemy", "redis", "psycopg", "bookingapp.extensions")


def loaded_server_modules() -> list[str]:
    """The modules of SERVER_MODULES this interpreter has imported."""
    return [name for name in SERVER_MODULES if name in sys.modules]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a unit-only run that loaded the app or a server client."""
    if Path(str(session.config.getoption("confcutdir") or "")).resolve() != UNIT_DIR:
        return  # part of a whole-suite run, where other layers load the app anyway
    loaded = loaded_server_modules()
    if loaded:
        session.config.get_terminal_writer().line(f"unit tests loaded {', '.join(loaded)}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
