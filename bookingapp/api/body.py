"""Reading a request body as a JSON object, nested no deeper than ``MAX_JSON_DEPTH``."""
from __future__ import annotations

import json
from typing import Any

from flask import request

from bookingapp.core.json_depth import MAX_JSON_DEPTH, nesting_depth
from bookingapp.errors import ValidationError


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a ValidationError saying what is wrong with it."""
    if not request.is_json:
        raise ValidationError({"_": "send a JSON object with Content-Type: application/json"}, "Expected JSON.")
    text = request.get_data(as_text=True)
    if nesting_depth(text) > MAX_JSON_DEPTH:
        raise TooDeep({"_": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}, "JSON body nested too deeply.")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValidationError({"_": "the body must be a JSON object"}, "Malformed JSON body.")
    return body


class TooDeep(ValidationError):
    code = "too_deep"
    status = 400
