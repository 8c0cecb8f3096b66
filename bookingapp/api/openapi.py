"""The API's contract as an OpenAPI 3.1 document, served at ``/api/openapi.json``.

Tests check that every route under ``/api`` is in it, and the schemathesis run of the
suite calls every operation on a live server and validates each answer against it.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify

from bookingapp.api import bp

JSON = "application/json"
NULLABLE_STRING = {"type": ["string", "null"]}
DATE_TIME = {"type": "string", "format": "date-time"}
STAFF = [{"staffToken": []}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: dict | None = None, media: str = JSON) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {media: {"schema": schema}}
    return answer


def _operation(summary: str, ok: dict[str, Any], *, body: dict | None = None, params: list | None = None,
               security: list | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {**ok, "default": _answer("An error: 4xx, or 503 while the database is unreachable", _ref("Error"))},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    if params:
        operation["parameters"] = params
    if security is not None:
        operation["security"] = security
    return operation


def _param(name: str, where: str, schema: dict, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


_HOURS = {"type": "array", "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}}
GAME = _obj({
    "id": {"type": "string", "format": "uuid"}, "slug": {"type": "string"}, "name": {"type": "string"},
    "description": {"type": "string"}, "timezone": {"type": "string"}, "slot_minutes": {"type": "integer"},
    "gap_minutes": {"type": "integer"}, "capacity": {"type": "integer"}, "days_ahead": {"type": ["integer", "null"]},
    "min_notice_minutes": {"type": "integer"}, "cancel_cutoff_minutes": {"type": "integer"},
    "booking_mode": {"enum": ["shared", "private"]}, "min_party": {"type": "integer"},
    "weekly_hours": {"type": "object", "additionalProperties": _HOURS},
    "closures": {"type": "array", "items": {"type": "string"}}, "is_active": {"type": "boolean"},
    "price": {"type": "integer", "minimum": 0, "description": "In the currency's minor units (cents); paid at the venue."},
    "currency": {"type": "string", "description": "ISO 4217, e.g. EUR"}, "price_per": {"enum": ["player", "session"]},
    "location": {"type": "string"}, "instructions": {"type": "string"},
    "reminder_hours": {"type": ["integer", "null"], "minimum": 0, "maximum": 720,
                       "description": "Hours before the start the reminder is sent; null: the site's setting, 0: none."},
}, ("id", "slug", "name", "timezone", "slot_minutes", "capacity", "booking_mode", "weekly_hours", "is_active",
    "price", "currency", "price_per"))
GAME_INPUT = {"type": "object", "description": "A game's settings, as in Game (id and slug optional)."}
BOOKING = _obj({
    "reference": {"type": "string"}, "status": {"enum": ["confirmed", "cancelled"]},
    "party_size": {"type": "integer"}, "name": {"type": "string"}, "email": NULLABLE_STRING,
    "amount": {"type": ["integer", "null"], "description": "The price at booking time, in minor units; null before prices."},
    "currency": NULLABLE_STRING, "locale": {"type": "string", "description": "The language it was made in, e.g. de"},
    "phone": NULLABLE_STRING, "note": {"type": ["string", "null"]}, "source": {"enum": ["online", "staff"]},
    "attendance": {"enum": ["expected", "arrived", "no_show"]}, "created_at": DATE_TIME,
    "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
    "cancel_token": {"type": "string", "description": "Only in the answer that made the booking."},
    "slot": _obj({"id": {"type": "integer"}, "game_id": {"type": "string"}, "starts_at": DATE_TIME,
                  "ends_at": DATE_TIME}, ("id", "game_id", "starts_at", "ends_at")),
}, ("reference", "status", "party_size", "name", "email", "phone", "note", "source", "attendance", "slot",
    "created_at", "cancelled_at"))
SLOT = _obj({"id": {"type": "integer"}, "game_id": {"type": "string"}, "starts_at": DATE_TIME, "ends_at": DATE_TIME,
             "capacity": {"type": "integer"}, "booked": {"type": "integer"}, "blocked": {"type": "boolean"},
             "block_reason": NULLABLE_STRING}, ("id", "capacity", "booked", "blocked"))
WEBHOOK_EVENTS = {"type": "array", "items": {"enum": ["booking.confirmed", "booking.moved", "booking.cancelled",
                                                     "game.created", "game.updated"]}}
WEBHOOK = _obj({"id": {"type": "integer"}, "url": {"type": "string"}, "events": WEBHOOK_EVENTS,
                "active": {"type": "boolean"}, "created_at": DATE_TIME,
                "last_response_status": {"type": ["integer", "null"], "description": "Only in the list."},
                "secret": {"type": "string", "description": "Only in the answer that registered it."}},
               ("id", "url", "events", "active", "created_at"))
DELIVERY = _obj({"id": {"type": "integer"}, "event": {"type": "string"}, "delivery_id": {"type": "string"},
                 "event_id": NULLABLE_STRING, "status": {"enum": ["pending", "sent", "failed", "dropped"]},
                 "attempts": {"type": "integer"}, "response_status": {"type": ["integer", "null"]},
                 "last_error": NULLABLE_STRING, "created_at": DATE_TIME,
                 "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
                 "sent_at": {"type": ["string", "null"], "format": "date-time"}},
                ("id", "event", "delivery_id", "status", "attempts", "response_status", "last_error", "created_at"))
ERROR = _obj({"error": _obj({"code": {"type": "string"}, "message": {"type": "string"},
                             "fields": {"type": "object", "additionalProperties": {"type": "string"}}},
                            ("code", "message", "fields"))}, ("error",))
CURSOR = [_param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}),
          _param("cursor", "query", {"type": "string"})]
REFERENCE = _param("reference", "path", {"type": "string"})
CANCEL_TOKEN = _param("X-Cancel-Token", "header", {"type": "string"})
GAME_ID = _param("game_id", "path", {"type": "string"})
SLOT_ID = _param("slot_id", "path", {"type": "integer"})


def _paths() -> dict[str, Any]:
    return {**_game_paths(), **_booking_paths(), **_staff_paths(), **_webhook_paths()}


def _game_paths() -> dict[str, Any]:
    game = _ref("Game")
    return {
        "/api/games": {
            "get": _operation("The active games with every setting, by name, a page at a time", {"200": _answer(
                "Games", _obj({"games": {"type": "array", "items": game}, "next_cursor": NULLABLE_STRING},
                              ("games", "next_cursor")))}, params=CURSOR),
            "post": _operation("Create a game; its window is written in the background",
                               {"201": _answer("The game", game)}, body=GAME_INPUT, security=STAFF),
        },
        "/api/games/{game_id}": {"patch": _operation(
            "Change a game and reconcile its future slots (?dry_run=1: only the plan)",
            {"200": _answer("The game and what changed", _obj({"dry_run": {"type": "boolean"}, "game": game,
                                                                "changes": {"type": "object"}}))},
            body=GAME_INPUT, params=[GAME_ID, _param("dry_run", "query", {"enum": ["0", "1", "true", "false"]})],
            security=STAFF)},
        "/api/games/{game_id}/slots": {"get": _operation(
            "A game's open slots between two local dates",
            {"200": _answer("Slots", _obj({"game_id": {"type": "string"}, "timezone": {"type": "string"},
                                           "from": {"type": "string"}, "to": {"type": "string"},
                                           "slots": {"type": "array", "items": _obj({
                                               "id": {"type": "integer"}, "starts_at": DATE_TIME,
                                               "ends_at": DATE_TIME, "capacity": {"type": "integer"},
                                               "available": {"type": "integer"}})}}, ("slots",)))},
            params=[GAME_ID, _param("from", "query", {"type": "string", "format": "date"}),
                    _param("to", "query", {"type": "string", "format": "date"})])},
    }


def _booking_paths() -> dict[str, Any]:
    booking = _ref("Booking")
    return {
        "/api/bookings": {
            "get": _operation("Bookings, newest first, filtered and paged (staff)", {"200": _answer("Bookings", _obj(
                {"bookings": {"type": "array", "items": booking}, "next_cursor": NULLABLE_STRING},
                ("bookings", "next_cursor")))},
                params=[*CURSOR, *(_param(n, "query", {"type": "string"}) for n in ("date", "game_id", "q", "status"))],
                security=STAFF),
            "post": _operation("Book seats (with a staff token: a staff booking)", {"201": _answer("The booking", booking)},
                               body=_obj({"slot_id": {"type": "integer"}, "name": {"type": "string"},
                                          "email": {"type": "string"}, "party_size": {"type": "integer"},
                                          "phone": {"type": "string"}, "note": {"type": "string"}},
                                         ("slot_id", "name", "party_size"))),
        },
        "/api/bookings/{reference}": {
            "get": _operation("A booking, to its cancel token's holder or staff", {"200": _answer("The booking", booking)},
                              params=[REFERENCE, CANCEL_TOKEN]),
            "delete": _operation("Cancel a booking; again changes nothing", {"200": _answer("The booking", booking)},
                                 params=[REFERENCE, CANCEL_TOKEN]),
        },
        "/api/bookings/{reference}/move": {"post": _operation(
            "Move a booking to another slot", {"200": _answer("The booking", booking)},
            body=_obj({"slot_id": {"type": "integer"}}, ("slot_id",)), params=[REFERENCE, CANCEL_TOKEN])},
    }


def _staff_paths() -> dict[str, Any]:
    booking, slot = _ref("Booking"), _ref("Slot")
    return {
        "/api/bookings/{reference}/attendance": {"post": _operation(
            "Mark attendance", {"200": _answer("The booking", booking)},
            body=_obj({"status": {"enum": ["expected", "arrived", "no_show"]}}, ("status",)), params=[REFERENCE],
            security=STAFF)},
        "/api/slots/{slot_id}": {"patch": _operation(
            "Set a slot's capacity (never below the seats booked)", {"200": _answer("The slot", slot)},
            body=_obj({"capacity": {"type": "integer"}}, ("capacity",)), params=[SLOT_ID], security=STAFF)},
        "/api/slots/{slot_id}/block": {
            "post": _operation("Block a slot", {"200": _answer("The slot", slot)},
                               body=_obj({"reason": {"type": "string"}}), params=[SLOT_ID], security=STAFF),
            "delete": _operation("Unblock a slot", {"200": _answer("The slot", slot)}, params=[SLOT_ID],
                                 security=STAFF),
        },
        "/api/bookings.csv": {"get": _operation(
            "Bookings of local dates from..to as CSV, streamed", {"200": _answer("CSV", {"type": "string"}, "text/csv")},
            params=[_param("from", "query", {"type": "string", "format": "date"}),
                    _param("to", "query", {"type": "string", "format": "date"}),
                    _param("game_id", "query", {"type": "string"})], security=STAFF)},
        "/api/audit": {"get": _operation("Audit rows, newest first", {"200": _answer("Events", _obj(
            {"events": {"type": "array", "items": {"type": "object"}}, "next_cursor": NULLABLE_STRING}))},
            params=CURSOR, security=STAFF)},
        "/api/runs": {"get": _operation("The latest maintenance runs", {"200": _answer("Runs", _obj(
            {"runs": {"type": "array", "items": {"type": "object"}}}, ("runs",)))},
            params=[_param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500})], security=STAFF)},
        "/api/openapi.json": {"get": _operation("This document", {"200": _answer("OpenAPI 3.1", {"type": "object"})})},
    }


def _webhook_paths() -> dict[str, Any]:
    webhook, webhook_id = _ref("Webhook"), _param("webhook_id", "path", {"type": "string"})
    return {
        "/api/webhooks": {
            "get": _operation("Every webhook endpoint, newest first (no secrets)", {"200": _answer("Webhooks", _obj(
                {"webhooks": {"type": "array", "items": webhook}}, ("webhooks",)))}, security=STAFF),
            "post": _operation(
                "Register an endpoint for events; 422 for a bad or private URL or unknown events",
                {"201": _answer("The endpoint and its signing secret (shown this once)", webhook)},
                body=_obj({"url": {"type": "string", "maxLength": 2000}, "events": WEBHOOK_EVENTS}, ("url", "events")),
                security=STAFF),
        },
        "/api/webhooks/{webhook_id}": {"delete": _operation(
            "Remove an endpoint and its delivery log", {"204": _answer("Removed")}, params=[webhook_id], security=STAFF)},
        "/api/webhooks/{webhook_id}/deliveries": {"get": _operation(
            "An endpoint's deliveries, newest first", {"200": _answer("Deliveries", _obj(
                {"deliveries": {"type": "array", "items": _ref("Delivery")}, "next_cursor": NULLABLE_STRING},
                ("deliveries", "next_cursor")))}, params=[webhook_id, *CURSOR], security=STAFF)},
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "bookingapp", "version": "1",
                 "description": "Games, their slots and bookings; staff calls take Authorization: Bearer <token>."},
        "paths": _paths(),
        "components": {
            "schemas": {"Game": GAME, "Booking": BOOKING, "Slot": SLOT, "Webhook": WEBHOOK,
                        "Delivery": DELIVERY, "Error": ERROR},
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi():
    """The API's OpenAPI 3.1 document."""
    return jsonify(document())
