"""Webhooks for staff: the /admin/webhooks pages (admins only, CSRF, the secret shown once) and the API."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bookingapp.extensions import db
from bookingapp.models import AuditEvent, OutboxMessage, OutboxStatus, WebhookEndpoint
from bookingapp.services import webhooks
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.bookings import book_slot

from tests.booking_helpers import fill, slot_at
from tests.staff_helpers import post_form
from tests.webhook_receiver import Receiver

DAY_AFTER = datetime(2027, 1, 15, 10, 0, tzinfo=timezone.utc)
SECRET = re.compile(r'<code class="secret">([0-9a-f]{64})</code>')


def _endpoints():
    db.session.expire_all()
    return db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()


def _actions():
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_registering_on_the_page_shows_the_secret_once_and_lists_the_endpoint(staff_client):
    response = post_form(staff_client, "/admin/webhooks", {
        "url": "http://127.0.0.1:9000/hooks", "events": ["booking.confirmed", "game.updated"]})
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    secret = SECRET.search(html).group(1)
    assert "Copy its signing secret now; it is not shown again" in html
    [endpoint] = _endpoints()
    assert endpoint.secret == secret and endpoint.events == ["booking.confirmed", "game.updated"]
    listing = staff_client.get("/admin/webhooks").get_data(as_text=True)
    assert "http://127.0.0.1:9000/hooks" in listing and "booking.confirmed, game.updated" in listing
    assert secret not in listing and secret not in staff_client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert _actions() == ["webhook.create"]


@pytest.mark.parametrize("data, message", [
    ({"url": "ftp://example.com/", "events": ["booking.confirmed"]}, "must start with http:// or https://"),
    ({"url": "http://127.0.0.1:9000/"}, "must be a non-empty list"),
    ({"url": "", "events": ["booking.confirmed"]}, "is required"),
    ({"url": "http://127.0.0.1:9000/", "events": ["booking.paid"]}, "unknown: booking.paid"),
])
def test_bad_input_on_the_page_is_refused_on_its_field_and_saves_nothing(staff_client, data, message):
    response = post_form(staff_client, "/admin/webhooks", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _endpoints() == [] and _actions() == []


def test_a_post_without_the_csrf_token_changes_nothing(staff_client):
    response = staff_client.post("/admin/webhooks", data={"url": "http://127.0.0.1:9000/", "events": ["game.created"]})
    assert response.status_code == 400 and _endpoints() == []
    new = webhooks.register_endpoint(db.session, "http://127.0.0.1:9000/", ["game.created"],
                                     actor=webhooks.Actor("alice", "user"), now=datetime.now(timezone.utc))
    for action in ("deactivate", "delete"):
        refused = staff_client.post(f"/admin/webhooks/{new.endpoint.id}/{action}", data={"csrf_token": "forged"})
        assert refused.status_code == 400
    [endpoint] = _endpoints()
    assert endpoint.active


def test_deactivate_then_delete_from_the_page_are_audited(staff_client):
    post_form(staff_client, "/admin/webhooks", {"url": "http://127.0.0.1:9000/", "events": ["game.created"]})
    [endpoint] = _endpoints()
    response = post_form(staff_client, "/admin/webhooks", {}, url=f"/admin/webhooks/{endpoint.id}/deactivate",
                         follow_redirects=True)
    assert "deactivated: it hears of nothing more" in response.get_data(as_text=True)
    assert not _endpoints()[0].active
    response = post_form(staff_client, "/admin/webhooks", {}, url=f"/admin/webhooks/{endpoint.id}/delete",
                         follow_redirects=True)
    assert "Webhook deleted" in response.get_data(as_text=True) and _endpoints() == []
    assert _actions() == ["webhook.create", "webhook.deactivate", "webhook.delete"]
    gone = post_form(staff_client, "/admin/webhooks", {}, url=f"/admin/webhooks/{endpoint.id}/delete")
    assert gone.status_code == 404
    assert staff_client.get(f"/admin/webhooks/{endpoint.id}").status_code == 404


def test_a_desk_login_is_refused_every_webhook_page(desk_client, staff_user):
    new = webhooks.register_endpoint(db.session, "http://127.0.0.1:9000/", ["game.created"],
                                     actor=webhooks.Actor("alice", "user"), now=datetime.now(timezone.utc))
    assert desk_client.get("/admin/webhooks").status_code == 403
    assert desk_client.get(f"/admin/webhooks/{new.endpoint.id}").status_code == 403
    token_page = "/admin/bookings"
    for url, data in (("/admin/webhooks", {"url": "http://127.0.0.1:9001/", "events": ["game.created"]}),
                      (f"/admin/webhooks/{new.endpoint.id}/deactivate", {}),
                      (f"/admin/webhooks/{new.endpoint.id}/delete", {})):
        assert post_form(desk_client, token_page, data, url=url).status_code == 403, url
    [endpoint] = _endpoints()
    assert endpoint.active and _actions() == ["webhook.create"]
    assert "Webhooks" not in desk_client.get("/admin/bookings").get_data(as_text=True)


def test_the_delivery_log_shows_each_attempt_and_pages(staff_client, make_game, clock):
    game = make_game()
    fill(game, clock)
    with Receiver() as receiver:
        post_form(staff_client, "/admin/webhooks", {"url": receiver.url, "events": ["booking.confirmed"]})
        [endpoint] = _endpoints()
        for hour in range(52):
            slot = slot_at(game, DAY_AFTER.replace(hour=10 + hour % 12, day=15 + hour // 12))
            book_slot(db.session, BookingRequest(slot.id, "Ada", "ada@example.com", 1), clock.now())
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.endpoint_id == endpoint.id)
                                  .order_by(OutboxMessage.id)).all()
        receiver.answers = [503]
        with pytest.raises(webhooks.DeliveryError):
            webhooks.post(rows[-1], clock.now())
        newest = rows[-1]
        newest.attempts, newest.response_status, newest.last_error = 1, 503, "the endpoint answered HTTP 503"
        db.session.commit()
    first = staff_client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert newest.message_id in first and "HTTP 503" in first and "the endpoint answered HTTP 503" in first
    assert "Page 1 of 2" in first and rows[0].message_id not in first
    second = staff_client.get(f"/admin/webhooks/{endpoint.id}?page=2").get_data(as_text=True)
    assert rows[0].message_id in second and rows[1].message_id in second and newest.message_id not in second
    listing = staff_client.get("/admin/webhooks").get_data(as_text=True)
    assert "pending, HTTP 503" in listing


# -- the API -----------------------------------------------------------------------------------


def test_api_registers_lists_without_secrets_and_deletes(api, app):
    response = api.post("/api/webhooks", {"url": "http://127.0.0.1:9000/hooks", "events": ["booking.cancelled"]})
    assert response.status_code == 201
    made = response.get_json()
    assert set(made) == {"id", "url", "events", "active", "created_at", "secret"}
    assert made["events"] == ["booking.cancelled"] and made["active"] is True and len(made["secret"]) == 64
    listed = api.get("/api/webhooks").get_json()["webhooks"]
    assert [w["id"] for w in listed] == [made["id"]]
    assert "secret" not in listed[0] and made["secret"] not in api.get("/api/webhooks").get_data(as_text=True)
    client = app.test_client()
    assert client.delete(f"/api/webhooks/{made['id']}", headers=api.headers).status_code == 204
    assert api.get("/api/webhooks").get_json() == {"webhooks": []}
    again = client.delete(f"/api/webhooks/{made['id']}", headers=api.headers)
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "webhook_not_found"
    assert _actions() == ["webhook.create", "webhook.delete"]
    event = db.session.scalars(select(AuditEvent)).first()
    assert event.actor == "tests" and event.actor_kind == "token"


@pytest.mark.parametrize("body, field", [
    ({"url": "gopher://x/", "events": ["booking.confirmed"]}, "url"),
    ({"url": "http://no-such-host.invalid/", "events": ["booking.confirmed"]}, "url"),
    ({"url": 42, "events": ["booking.confirmed"]}, "url"),
    ({"events": ["booking.confirmed"]}, "url"),
    ({"url": "http://127.0.0.1/", "events": []}, "events"),
    ({"url": "http://127.0.0.1/", "events": ["booking.paid"]}, "events"),
    ({"url": "http://127.0.0.1/", "events": {"booking.confirmed": True}}, "events"),
    ({"url": "http://127.0.0.1/", "events": ["game.created"], "secret": "mine"}, "_"),
])
def test_api_refuses_bad_bodies_with_422_naming_the_field(api, body, field):
    response = api.post("/api/webhooks", body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert api.get("/api/webhooks").get_json() == {"webhooks": []}


def test_api_bad_ids_and_queries_answer_clear_4xx(api, app):
    client = app.test_client()
    for raw in ("abc", "0", "99999999999999999999999", "-1"):
        assert client.delete(f"/api/webhooks/{raw}", headers=api.headers).status_code == 404
        assert api.get(f"/api/webhooks/{raw}/deliveries").status_code == 404
    made = api.post("/api/webhooks", {"url": "http://127.0.0.1:9000/", "events": ["game.created"]}).get_json()
    for query in ("limit=0", "limit=501", "limit=x", "cursor=abc"):
        response = api.get(f"/api/webhooks/{made['id']}/deliveries?{query}")
        assert response.status_code == 422 and response.get_json()["error"]["fields"], query
    assert client.get("/api/webhooks").status_code == 401
    assert client.post("/api/webhooks", json={"url": "http://127.0.0.1/", "events": ["game.created"]}).status_code == 401


def test_api_private_addresses_are_refused_when_not_allowed(api, app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    for url in ("http://127.0.0.1:9000/", "http://[::1]/", "http://10.0.0.8/", "http://localhost/"):
        response = api.post("/api/webhooks", {"url": url, "events": ["game.created"]})
        assert response.status_code == 422, url
        assert "webhooks must reach a public address" in response.get_json()["error"]["fields"]["url"]


def test_api_delivery_log_is_paged_by_cursor(api, make_game, clock):
    made = api.post("/api/webhooks", {"url": "http://127.0.0.1:9000/", "events": ["game.created"]}).get_json()
    for _ in range(5):
        make_game()
    first = api.get(f"/api/webhooks/{made['id']}/deliveries?limit=3").get_json()
    assert [d["event"] for d in first["deliveries"]] == ["game.created"] * 3 and first["next_cursor"]
    rest = api.get(f"/api/webhooks/{made['id']}/deliveries?limit=3&cursor={first['next_cursor']}").get_json()
    assert len(rest["deliveries"]) == 2 and rest["next_cursor"] is None
    ids = [d["delivery_id"] for d in first["deliveries"] + rest["deliveries"]]
    assert len(set(ids)) == 5
    one = rest["deliveries"][0]
    assert one["status"] == "pending" and one["attempts"] == 0 and one["response_status"] is None

