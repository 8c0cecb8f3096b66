"""Reading a request body as a JSON object, nested no deeper than ``MAX_JSON_DEPTH``."""
from __future__ import annotations

import json
from typing import Any

from flask import request

from bookingapp.errors import ValidationError

# No body this API reads nests more than three levels (a game's weekly hours); a bound
# well above that refuses a body of 100,000 brackets before the decoder recurses into it.
MAX_JSON_DEPTH = 32


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


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text``, brackets inside strings not counted.

    One pass over the text, no recursion, whatever the text holds: it need not be valid
    JSON (the decoder judges that afterwards).
    """
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
