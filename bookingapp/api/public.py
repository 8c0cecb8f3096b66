"""The public JSON API: games, their slots, bookings."""
from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Any

from flask import current_app, jsonify, request, url_for
from flask_babel import get_locale

from bookingapp.api import bp
from bookingapp.api.body import json_object
from bookingapp.api import bookings_staff
from bookingapp.services.serialize import booking_to_json, game_to_json
from bookingapp.api.staff import int_arg, sends_credentials
from bookingapp.core.window import local_today, parse_date
from bookingapp.errors import ValidationError
from bookingapp.extensions import db, now
from bookingapp.models import Game
from bookingapp.ratelimit import limit_booking_writes, limit_lookups
from bookingapp.services import bookings as service
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.catalog import get_active_game, page_active_games

MAX_RANGE_DAYS = 366
GAMES_PAGE, MAX_GAMES_PAGE = 100, 500
BOOKING_FIELDS = {"slot_id", "name", "email", "party_size"}


@bp.get("/games")
def games():
    """The active games with every setting, by name, a page at a time (?limit=1..500, ?cursor=)."""
    limit = int_arg("limit", GAMES_PAGE, 1, MAX_GAMES_PAGE)
    found = page_active_games(db.session, after=_games_cursor(request.args.get("cursor")), limit=limit + 1)
    page = found[:limit]
    next_cursor = _encode_cursor(page[-1]) if len(found) > limit else None
    return jsonify({"games": [game_to_json(g) for g in page], "next_cursor": next_cursor})


def _encode_cursor(game: Game) -> str:
    return base64.urlsafe_b64encode(json.dumps([game.name, game.slug]).encode()).decode().rstrip("=")


def _games_cursor(raw: str | None) -> tuple[str, str] | None:
    if not raw:
        return None
    try:
        name, slug = json.loads(base64.urlsafe_b64decode(raw[:2000] + "=" * (-len(raw[:2000]) % 4)))
        if isinstance(name, str) and isinstance(slug, str):
            return name, slug
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    raise ValidationError({"cursor": "must be a next_cursor this API gave"}, "Bad query string.")


@bp.get("/games/<game_id>/slots")
def game_slots(game_id: str):
    """List a game's open slots between two local dates (full ones with available 0)."""
    game, at = get_active_game(db.session, game_id=game_id), now()
    day_from, day_to = _date_range(game, at, request.args.get("from"), request.args.get("to"))
    offers = service.list_bookable_slots(db.session, game, day_from, day_to, at)
    return jsonify({
        "game_id": str(game.id), "timezone": game.timezone,
        "from": day_from.isoformat(), "to": day_to.isoformat(),
        "slots": [_offer_json(o) for o in offers],
    })


@bp.post("/bookings")
@limit_booking_writes
def create_booking():
    """Book seats; answer the booking with its cancel token (shown only here). With a bearer token: a staff booking."""
    if sends_credentials():
        return bookings_staff.create_staff_booking()
    body = json_object()
    unknown = sorted(map(str, set(body) - BOOKING_FIELDS))
    if unknown:
        raise ValidationError({"_": f"unknown field(s): {', '.join(unknown)[:200]}"})
    request_ = BookingRequest(body.get("slot_id"), body.get("name"), body.get("email"), body.get("party_size"),
                              locale=str(get_locale()))  # from Accept-Language: the booking's later messages
    made = service.book_slot(db.session, request_, now())
    response = jsonify({**booking_to_json(made.booking), "cancel_token": made.cancel_token})
    response.status_code = 201
    response.headers["Location"] = url_for(".booking", reference=made.booking.reference)
    return response


@bp.get("/bookings/<reference>")
@limit_lookups
def booking(reference: str):
    """Show a booking to whoever holds its cancel token (staff with a bearer token need none)."""
    if sends_credentials():
        return bookings_staff.show_booking_as_staff(reference)
    found = service.get_booking(db.session, reference, request.headers.get("X-Cancel-Token"))
    return jsonify(booking_to_json(found))


@bp.delete("/bookings/<reference>")
@limit_booking_writes
def cancel_booking(reference: str):
    """Cancel a booking and free its seats; cancelling again changes nothing (staff: bearer token, no cut-off)."""
    if sends_credentials():
        return bookings_staff.cancel_booking_as_staff(reference)
    found = service.cancel_booking(db.session, reference, request.headers.get("X-Cancel-Token"), now())
    return jsonify(booking_to_json(found))


def _date_range(game: Game, at: datetime, raw_from: str | None, raw_to: str | None) -> tuple[date, date]:
    problems: dict[str, str] = {}
    today = local_today(at, game.timezone)
    day_from = _parse_date(raw_from, "from", problems) or today
    window_end = game.window(at, current_app.config["SLOTS_DAYS_TO_MAINTAIN"]).last
    day_to = _parse_date(raw_to, "to", problems) or max(window_end, day_from)
    if not problems and day_from > day_to:
        problems["to"] = "must not be before 'from'"
    elif not problems and (day_to - day_from).days + 1 > MAX_RANGE_DAYS:
        problems["to"] = f"the range may cover at most {MAX_RANGE_DAYS} days"
    if problems:
        raise ValidationError(problems, "Bad date range.")
    return day_from, day_to


def _parse_date(raw: str | None, name: str, problems: dict[str, str]) -> date | None:
    if raw is None:
        return None
    try:
        return parse_date(raw)
    except ValueError as exc:
        problems[name] = str(exc)
        return None


def _offer_json(offer: service.SlotOffer) -> dict[str, Any]:
    return {
        "id": offer.id, "starts_at": offer.starts_at.isoformat(), "ends_at": offer.ends_at.isoformat(),
        "capacity": offer.capacity, "available": offer.available,
    }
