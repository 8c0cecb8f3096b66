"""The JSON API. Every error answers ``{"error": {"code", "message", "fields"}}``."""
from flask import Blueprint

from bookingapp.errors import json_errors

bp = Blueprint("api", __name__, url_prefix="/api")
json_errors(bp)

from bookingapp.api import staff  # noqa: E402,F401  (the staff endpoints, behind bearer tokens)
from bookingapp.api import bookings_staff  # noqa: E402,F401  (bookings, slots and audit for staff)
from bookingapp.api import public  # noqa: E402,F401  (games, slots and bookings for customers)
from bookingapp.api import webhooks  # noqa: E402,F401  (webhook endpoints and their deliveries, for staff)
from bookingapp.api import openapi  # noqa: E402,F401  (the contract, at /api/openapi.json)
