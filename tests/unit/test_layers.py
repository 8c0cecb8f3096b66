"""The layers hold: the core imports nothing of the app."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "bookingapp"
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_caching", "redis", "sqlalchemy", "bookingapp.extensions")


def core_modules() -> list[str]:
    return sorted(f"bookingapp.core.{path.stem}" for path in (PACKAGE / "core").glob("*.py") if path.stem != "__init__")


def test_importing_every_core_module_in_a_fresh_interpreter_loads_no_framework_database_or_cache():
    imports = "; ".join(f"import {name}" for name in core_modules())
    check = f"import sys; {imports}; print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=PACKAGE.parent, capture_output=True, text=True, check=True
    )
    assert len(core_modules()) >= 8
    assert result.stdout.strip() == ""


def test_importing_the_package_alone_loads_no_framework():
    check = "import sys, bookingapp; print('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", check], cwd=PACKAGE.parent, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
