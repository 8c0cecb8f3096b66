"""The staff API for bookings, slots and the audit log. Bearer tokens; JSON errors as everywhere.

``POST /api/bookings`` and ``GET``/``DELETE /api/bookings/<ref>`` are shared with
customers: with an ``Authorization`` header they are the staff calls below.
"""
from __future__ import annotations

import uuid

from flask import jsonify, request, url_for

from bookingapp.api import bp
from bookingapp.api.body import json_object
from bookingapp.csv_download import csv_response, export_range
from bookingapp.services.serialize import booking_to_json, slot_to_json
from bookingapp.api.staff import cursor_arg, int_arg, sends_credentials, staff_token_required, token_actor
from bookingapp.core.window import parse_date
from bookingapp.errors import ValidationError
from bookingapp.extensions import db, now
from bookingapp.models import BookingSource, BookingStatus
from bookingapp.ratelimit import limit_booking_writes
from bookingapp.services import audit
from bookingapp.services.audit import AuditFilter, event_to_json
from bookingapp.services.booking_changes import cancel_as_staff, set_attendance
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.bookings import book_slot
from bookingapp.services.daysheet import BookingFilter, find_booking, list_bookings
from bookingapp.services.export import ExportQuery
from bookingapp.services.moves import MoveRequest, move_booking
from bookingapp.services.slot_admin import set_slot_blocked, set_slot_capacity

STAFF_BOOKING_FIELDS = {"slot_id", "name", "email", "party_size", "phone", "note"}
STATUS_VALUES = tuple(s.value for s in BookingStatus)
MAX_LIMIT = 500


def _only(body: dict, allowed: set[str]) -> dict:
    unknown = sorted(map(str, set(body) - allowed))
    if unknown:
        raise ValidationError({"_": f"unknown field(s): {', '.join(unknown)[:200]}"})
    return body


def _booking_filter() -> BookingFilter:
    args, problems = request.args, {}
    day = None
    if args.get("date"):
        try:
            day = parse_date(args["date"])
        except ValueError as exc:
            problems["date"] = str(exc)
    status = args.get("status") or None
    if status is not None and status not in STATUS_VALUES:
        problems["status"] = f"must be one of {', '.join(STATUS_VALUES)}"
    if problems:
        raise ValidationError(problems, "Bad query string.")
    return BookingFilter(day=day, game_id=args.get("game_id") or None, q=args.get("q") or None, status=status)


@bp.get("/bookings")
@staff_token_required
def list_bookings_api():
    """Bookings, newest first, filtered by local date, game, text and status; paged by cursor."""
    limit = int_arg("limit", 100, 1, MAX_LIMIT)
    found = list_bookings(db.session, _booking_filter(), limit=limit + 1, before_id=cursor_arg())
    page = found[:limit]
    next_cursor = str(page[-1].id) if len(found) > limit else None
    return jsonify({"bookings": [booking_to_json(b) for b in page], "next_cursor": next_cursor})


@staff_token_required
def create_staff_booking():
    """A phone, walk-in or partner booking: email optional, phone and note kept, inside the notice allowed."""
    body = _only(json_object(), STAFF_BOOKING_FIELDS)
    request_ = BookingRequest(
        body.get("slot_id"), body.get("name"), body.get("email"), body.get("party_size"),
        phone=body.get("phone"), note=body.get("note"), source=BookingSource.STAFF,
    )
    made = book_slot(db.session, request_, now(), actor=token_actor())
    response = jsonify({**booking_to_json(made.booking), "cancel_token": made.cancel_token})
    response.status_code = 201
    response.headers["Location"] = url_for(".booking", reference=made.booking.reference)
    return response


@staff_token_required
def show_booking_as_staff(reference: str):
    return jsonify(booking_to_json(find_booking(db.session, reference)))


@staff_token_required
def cancel_booking_as_staff(reference: str):
    return jsonify(booking_to_json(cancel_as_staff(db.session, reference, token_actor(), now())))


@bp.post("/bookings/<reference>/move")
@limit_booking_writes
def move_booking_api(reference: str):
    """Move a booking: staff with a bearer token (any active game), or its customer with X-Cancel-Token."""
    if sends_credentials():
        return _staff_move(reference)
    body = _only(json_object(), {"slot_id"})
    moved = move_booking(db.session, MoveRequest(reference, body.get("slot_id"), token=request.headers.get("X-Cancel-Token")), now())
    return jsonify(booking_to_json(moved))


@staff_token_required
def _staff_move(reference: str):
    body = _only(json_object(), {"slot_id"})
    moved = move_booking(db.session, MoveRequest(reference, body.get("slot_id"), actor=token_actor()), now())
    return jsonify(booking_to_json(moved))


@bp.post("/bookings/<reference>/attendance")
@staff_token_required
def attendance_api(reference: str):
    """Mark attendance: {"status": "expected" | "arrived" | "no_show"}."""
    body = _only(json_object(), {"status"})
    return jsonify(booking_to_json(set_attendance(db.session, reference, body.get("status"), token_actor(), now())))


@bp.post("/slots/<int:slot_id>/block")
@staff_token_required
def block_slot_api(slot_id: int):
    """Block a slot ({"reason"} optional): never offered nor bookable until unblocked."""
    body = _only(json_object(), {"reason"}) if request.get_data() else {}
    return jsonify(slot_to_json(set_slot_blocked(db.session, slot_id, True, body.get("reason"), token_actor(), now())))


@bp.delete("/slots/<int:slot_id>/block")
@staff_token_required
def unblock_slot_api(slot_id: int):
    """Unblock a slot."""
    return jsonify(slot_to_json(set_slot_blocked(db.session, slot_id, False, None, token_actor(), now())))


@bp.patch("/slots/<int:slot_id>")
@staff_token_required
def update_slot_api(slot_id: int):
    """Set a slot's capacity: {"capacity"}, never below the seats booked (409 capacity_below_booked)."""
    body = _only(json_object(), {"capacity"})
    return jsonify(slot_to_json(set_slot_capacity(db.session, slot_id, body.get("capacity"), token_actor(), now())))


@bp.get("/bookings.csv")
@staff_token_required
def bookings_csv_api():
    """The bookings of local dates ``from..to`` (and one ``game_id``) as CSV, streamed."""
    first, last = export_range(now())
    game_id = request.args.get("game_id")
    return csv_response(ExportQuery(first, last, _game_uuid(game_id) if game_id else None))


def _game_uuid(raw: str):
    try:
        return uuid.UUID(raw[:64])
    except ValueError:
        raise ValidationError({"game_id": "must be a game's id"}, "Bad query string.") from None


@bp.get("/audit")
@staff_token_required
def audit_api():
    """Audit rows, newest first, paged by cursor (?limit=1..500)."""
    limit = int_arg("limit", 100, 1, MAX_LIMIT)
    events = audit.list_events(db.session, AuditFilter(), limit=limit + 1, before_id=cursor_arg())
    page = events[:limit]
    next_cursor = str(page[-1].id) if len(events) > limit else None
    return jsonify({"events": [event_to_json(e) for e in page], "next_cursor": next_cursor})
