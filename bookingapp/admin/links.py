"""Links a page repeats for every row: built by ``url_for`` once, then joined per row.

A day sheet holds a link or two for each of hundreds of slots and bookings; building
each with ``url_for`` cost a third of the page. A ``LinkPattern`` asks the router once
for the address with a stand-in value and keeps the text around it, so each row's link
is two string joins, and the address stays whatever the router says (blueprint prefix,
``SCRIPT_NAME``, converters).
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import url_for

# Stand-ins the router accepts for each kind of argument and that appear nowhere else in an address.
_STAND_INS = {int: 918_273_645_546_372_819, str: "LINKPATTERNVALUE"}


@dataclass(frozen=True)
class LinkPattern:
    """``endpoint``'s address with one argument left open: ``pattern(value)`` is ``url_for(endpoint, arg=value)``."""

    prefix: str
    suffix: str

    @classmethod
    def of(cls, endpoint: str, argument: str, kind: type = str) -> "LinkPattern":
        stand_in = str(_STAND_INS[kind])
        parts = url_for(endpoint, **{argument: _STAND_INS[kind]}).split(stand_in)
        if len(parts) != 2:
            raise ValueError(f"{endpoint}'s address does not hold {argument} exactly once")
        return cls(*parts)

    def __call__(self, value: object) -> str:
        text = str(value)
        if not (text.isascii() and text.isalnum()):  # ids and references are; anything else is quoted
            text = quote(text, safe="")
        return f"{self.prefix}{text}{self.suffix}"
