"""Reading a request body as a JSON object."""
from __future__ import annotations

from typing import Any

from flask import request

from bookingapp.errors import ValidationError


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a ValidationError saying what is wrong with it."""
    if not request.is_json:
        raise ValidationError({"_": "send a JSON object with Content-Type: application/json"}, "Expected JSON.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError({"_": "the body must be a JSON object"}, "Malformed JSON body.")
    return body
