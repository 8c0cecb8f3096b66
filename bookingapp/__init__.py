"""bookingapp: a booking site whose games always show a rolling window of slots.

Importing the package loads nothing else, so ``bookingapp.core`` stays importable without
Flask or a database; ``create_app`` loads the app (``bookingapp.app``) when called.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask


def create_app(config: Any = None, *, clock: Any = None) -> "Flask":
    """Build the app: settings, extensions, blueprints, commands (see ``bookingapp.app``)."""
    from bookingapp.app import create_app as build

    return build(config, clock=clock)
