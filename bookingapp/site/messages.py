"""Services speak English (the JSON API keeps it); customer pages say the same in the reader's language.

Whole messages are looked up in the catalog as they are (``N_`` marks them for extraction);
the few that carry numbers are matched by pattern and rebuilt with those numbers.
"""
from __future__ import annotations

import re
from typing import Callable

from flask_babel import get_locale, gettext, ngettext


def N_(message: str) -> str:  # noqa: N802  (the name pybabel looks for)
    """Mark a message for extraction; translated where it is shown."""
    return message


SERVICE_MESSAGES = (
    N_("There is no such game."),
    N_("There is no such slot open for booking."),
    N_("There is no booking with this reference."),
    N_("This link or token does not match the booking."),
    N_("This slot has already started."),
    N_("This slot starts too soon to be booked online."),
    N_("This session has already started; it can no longer be cancelled."),
    N_("This session starts too soon to be cancelled online; please call the venue."),
    N_("This session starts too soon to be moved online; please call the venue."),
    N_("This booking is cancelled; make a new one instead."),
    N_("This booking was changed at the same moment; reload it and try again."),
    N_("This party size cannot be booked for this game."),
    N_("Some fields are not valid."),
    N_("Too many tries from here in a short time. Please wait a little and try again."),
    N_("The booking system is briefly unavailable. Please try again in a few seconds."),
    N_("is required"),
    N_("no such slot"),
    N_("this slot is blocked"),
    N_("no seats are left"),
    N_("another group has booked this session"),
    N_("must not contain control characters"),
    N_("must be the id of a slot (a positive whole number)"),
)

_PATTERNS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"only (\d+) seats? left"),
     lambda m: ngettext("only %(num)d seat left", "only %(num)d seats left", int(m[1]))),
    (re.compile(r"must be between (\d+) and (\d+) for this game"),
     lambda m: gettext("must be between %(low)s and %(high)s for this game", low=m[1], high=m[2])),
    (re.compile(r"must be exactly (\d+) for this game"),
     lambda m: gettext("must be exactly %(num)s for this game", num=m[1])),
    (re.compile(r"must be at most (\d+) characters"),
     lambda m: gettext("must be at most %(num)s characters", num=m[1])),
    (re.compile(r"must be a whole number from (\d+) to (\d+)"),
     lambda m: gettext("must be a whole number from %(low)s to %(high)s", low=m[1], high=m[2])),
    (re.compile(r"is not a valid email address \((.*)\)", re.S), lambda m: _email_problem(m[1])),
    (re.compile(r"This slot is full for your party: (.*)\.", re.S),
     lambda m: gettext("This slot is full for your party: %(detail)s.", detail=page_message(m[1]))),
]


def _email_problem(detail: str) -> str:
    # email-validator explains in English only; other languages get the short form.
    if str(get_locale()) == "en":
        return gettext("is not a valid email address (%(detail)s)", detail=detail)
    return gettext("is not a valid email address")


def page_message(message: str) -> str:
    """A service's English message in the reader's language (itself where the catalog has no entry)."""
    for pattern, rebuild in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return rebuild(match)
    return gettext(message)
