"""The staff API for webhooks: register (the secret is answered once), list, delete, read a delivery log."""
from __future__ import annotations

from flask import jsonify

from bookingapp.api import bp
from bookingapp.api.body import json_object
from bookingapp.api.staff import cursor_arg, int_arg, staff_token_required, token_actor
from bookingapp.errors import ValidationError
from bookingapp.extensions import db, now
from bookingapp.services import webhooks

FIELDS = {"url", "events"}
MAX_LIMIT = 500


@bp.post("/webhooks")
@staff_token_required
def create_webhook_api():
    """Register an endpoint; 201 with its signing secret, which no other answer carries."""
    body = json_object()
    unknown = sorted(map(str, set(body) - FIELDS))
    if unknown:
        raise ValidationError({"_": f"unknown field(s): {', '.join(unknown)[:200]}"})
    new = webhooks.register_endpoint(db.session, body.get("url"), body.get("events"), actor=token_actor(), now=now())
    response = jsonify({**webhooks.endpoint_to_json(new.endpoint), "secret": new.secret})
    response.status_code = 201
    return response


@bp.get("/webhooks")
@staff_token_required
def list_webhooks_api():
    """Every endpoint, newest first, without secrets."""
    rows = webhooks.list_endpoints(db.session)
    return jsonify({"webhooks": [
        {**webhooks.endpoint_to_json(endpoint), "last_response_status": last.response_status if last else None}
        for endpoint, last in rows
    ]})


@bp.delete("/webhooks/<webhook_id>")
@staff_token_required
def delete_webhook_api(webhook_id: str):
    """Remove an endpoint and its delivery log; 204."""
    webhooks.delete_endpoint(db.session, webhook_id, actor=token_actor(), now=now())
    return "", 204


@bp.get("/webhooks/<webhook_id>/deliveries")
@staff_token_required
def webhook_deliveries_api(webhook_id: str):
    """An endpoint's deliveries, newest first, paged by cursor (?limit=1..500)."""
    endpoint = webhooks.get_endpoint(db.session, webhook_id)
    limit = int_arg("limit", 50, 1, MAX_LIMIT)
    found = webhooks.list_deliveries(db.session, endpoint, limit=limit + 1, before_id=cursor_arg())
    page = found[:limit]
    return jsonify({"deliveries": [webhooks.delivery_to_json(m) for m in page],
                    "next_cursor": str(page[-1].id) if len(found) > limit else None})
