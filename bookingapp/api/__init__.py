"""The JSON API. Every error answers ``{"error": {"code", "message", "fields"}}``."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import errors  # noqa: E402,F401  (registers the error handlers on bp)
from . import staff  # noqa: E402,F401  (the staff endpoints, behind bearer tokens)
from . import public  # noqa: E402,F401  (games, slots and bookings for customers)
