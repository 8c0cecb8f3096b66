"""How deep a JSON text nests, found without recursion, so a hostile body costs one pass."""
from __future__ import annotations

# No body the app reads nests more than three levels (a game's weekly hours); a bound
# well above that refuses a body of 100,000 brackets before the decoder recurses into it.
MAX_JSON_DEPTH = 32


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
