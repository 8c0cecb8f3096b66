"""Webhooks: events fan out into outbox rows in the change's transaction and are posted, signed, to a real receiver."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bookingapp.errors import SlotFull, ValidationError, WebhookNotFound
from bookingapp.extensions import db
from bookingapp.models import AuditEvent, BookingSource, OutboxMessage, OutboxStatus
from bookingapp.services import audit, webhooks
from bookingapp.services import bookings as service
from bookingapp.services.audit import Actor
from bookingapp.services.booking_changes import cancel_as_staff
from bookingapp.services.booking_input import BookingRequest
from bookingapp.services.moves import MoveRequest, move_booking
from bookingapp.services.reconcile import set_game_active, update_game

from tests.booking_helpers import fill, slot_at
from tests.webhook_receiver import Receiver

UTC = timezone.utc
DAY_AFTER = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)
STAFF = Actor("alice", "user")


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def _register(url, events=webhooks.EVENTS, clock=None):
    now = clock.now() if clock else datetime(2027, 1, 13, 9, 0, tzinfo=UTC)
    return webhooks.register_endpoint(db.session, url, list(events), actor=STAFF, now=now)


def _deliveries():
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.endpoint_id.is_not(None))
                                   .order_by(OutboxMessage.id)))


def _post_all(clock):
    """Post every pending delivery once, as the deliverer would."""
    for message in _deliveries():
        if message.status is OutboxStatus.PENDING:
            webhooks.post(message, clock.now())


def _book(slot, clock, email="ada@example.com", source=BookingSource.ONLINE, actor=None):
    return service.book_slot(db.session, BookingRequest(slot.id, "Ada", email, 2, source=source), clock.now(), actor=actor)


def test_a_booking_is_posted_once_signed_with_the_endpoints_secret(any_app, clock, make_game, receiver):
    game = make_game()
    fill(game, clock)
    new = _register(receiver.url, clock=clock)
    made = _book(slot_at(game, DAY_AFTER), clock)
    [row] = [m for m in _deliveries() if m.kind == "booking.confirmed"]
    assert row.status is OutboxStatus.PENDING and row.due_at == clock.now() and row.recipient == receiver.url
    assert webhooks.post(row, clock.now()) == 200

    [got] = receiver.requests
    assert got.path == "/hooks"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"] == "bookingapp-webhooks"
    assert got.headers["X-Bookingapp-Event"] == "booking.confirmed"
    assert got.headers["X-Bookingapp-Delivery"] == row.message_id
    assert got.signed_by(new.secret) and not got.signed_by("another secret")
    assert got.signed_at == int(clock.now().timestamp())
    body = got.json
    assert set(body) == {"id", "type", "created_at", "data"} and body["type"] == "booking.confirmed"
    assert body["created_at"] == "2027-01-13T09:30:00+00:00"
    assert body["data"]["reference"] == made.booking.reference and body["data"]["party_size"] == 2
    assert body["data"]["slot"]["starts_at"] == "2027-01-15T10:00:00+00:00"
    assert made.cancel_token not in got.body.decode()  # the cancel link never leaves in a webhook
    assert got.body == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def test_the_delivery_id_is_the_same_on_a_retry_and_the_signature_follows_the_clock(any_app, clock, make_game, receiver):
    game = make_game()
    fill(game, clock)
    new = _register(receiver.url, ["booking.confirmed"])
    _book(slot_at(game, DAY_AFTER), clock)
    [row] = _deliveries()
    receiver.answers = [500]
    with pytest.raises(webhooks.DeliveryError) as failed:
        webhooks.post(row, clock.now())
    assert failed.value.status == 500 and not failed.value.permanent and "500" in str(failed.value)
    clock.advance(timedelta(minutes=1))
    assert webhooks.post(row, clock.now()) == 200
    first, second = receiver.requests
    assert first.headers["X-Bookingapp-Delivery"] == second.headers["X-Bookingapp-Delivery"] == row.message_id
    assert first.body == second.body
    assert second.signed_at - first.signed_at == 60 and second.signed_by(new.secret)


def test_a_stalled_receiver_times_out_and_a_redirect_is_not_followed(any_app, clock, make_game, receiver):
    game = make_game()
    fill(game, clock)
    _register(receiver.url, ["booking.confirmed"])
    _book(slot_at(game, DAY_AFTER), clock)
    [row] = _deliveries()
    receiver.answers = ["stall", 302]
    with pytest.raises(webhooks.DeliveryError) as stalled:
        webhooks.post(row, clock.now(), timeout=0.3)
    assert stalled.value.status is None and "no answer within 0.3 s" in str(stalled.value)
    with pytest.raises(webhooks.DeliveryError) as moved:
        webhooks.post(row, clock.now())
    assert moved.value.status == 302
    assert len(receiver.requests) == 2  # nothing went to the Location


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(any_app, clock, make_game, receiver):
    game = make_game()
    fill(game, clock)
    _register(receiver.url, ["booking.confirmed"])
    _book(slot_at(game, DAY_AFTER), clock)
    [row] = _deliveries()
    receiver.answers = ["trickle"]  # each byte comes well inside the timeout; the whole answer never does
    with pytest.raises(webhooks.DeliveryError) as slow:
        webhooks.post(row, clock.now(), timeout=0.5)
    assert slow.value.status is None and "no answer within 0.5 s" in str(slow.value)


def test_a_closed_port_is_a_connection_error_with_no_status(any_app, clock, make_game):
    from tests.conftest import free_port

    game = make_game()
    fill(game, clock)
    _register(f"http://127.0.0.1:{free_port()}/", ["booking.confirmed"])
    _book(slot_at(game, DAY_AFTER), clock)
    [row] = _deliveries()
    with pytest.raises(webhooks.DeliveryError) as refused:
        webhooks.post(row, clock.now())
    assert refused.value.status is None and "could not post" in str(refused.value)


def test_move_cancel_and_staff_bookings_without_email_are_events_too(any_app, clock, make_game, receiver):
    game = make_game()
    fill(game, clock)
    _register(receiver.url)
    made = _book(slot_at(game, DAY_AFTER), clock)
    walk_in = _book(slot_at(game, DAY_AFTER + timedelta(hours=1)), clock, email="", source=BookingSource.STAFF, actor=STAFF)
    move_booking(db.session, MoveRequest(made.booking.reference, slot_at(game, DAY_AFTER + timedelta(hours=2)).id,
                                         token=made.cancel_token), clock.now())
    cancel_as_staff(db.session, walk_in.booking.reference, STAFF, clock.now())
    service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    _post_all(clock)
    seen = [(r.headers["X-Bookingapp-Event"], r.json["data"]["reference"], r.json["data"]["status"]) for r in receiver.requests]
    assert seen == [
        ("booking.confirmed", made.booking.reference, "confirmed"),
        ("booking.confirmed", walk_in.booking.reference, "confirmed"),
        ("booking.moved", made.booking.reference, "confirmed"),
        ("booking.cancelled", walk_in.booking.reference, "cancelled"),
        ("booking.cancelled", made.booking.reference, "cancelled"),
    ]
    moved = receiver.requests[2].json["data"]
    assert moved["slot"]["starts_at"] == "2027-01-15T12:00:00+00:00"
    assert receiver.requests[1].json["data"]["email"] is None
    assert len({r.json["id"] for r in receiver.requests}) == 5


def test_game_created_updated_and_deactivated(any_app, clock, make_game, receiver):
    _register(receiver.url, ["game.created", "game.updated"])
    game = make_game(name="Laser Maze")
    settings = dict(now=clock.now(), default_days=7)
    update_game(db.session, game, {"capacity": 6}, **settings, actor=STAFF)
    update_game(db.session, game, {"capacity": 6}, **settings, actor=STAFF)  # no change: no event
    set_game_active(db.session, game, False, **settings, actor=STAFF)
    _post_all(clock)
    seen = [(r.headers["X-Bookingapp-Event"], r.json["data"]["capacity"], r.json["data"]["is_active"])
            for r in receiver.requests]
    assert seen == [("game.created", 4, True), ("game.updated", 6, True), ("game.updated", 6, False)]
    data = receiver.requests[0].json["data"]
    assert data["id"] == str(game.id) and data["name"] == "Laser Maze" and data["slug"] == "laser-maze"


def test_only_subscribed_active_endpoints_hear_of_an_event_with_one_shared_event_id(any_app, clock, make_game, receiver):
    game = make_game()
    fill(game, clock)
    both = _register(receiver.url + "/a", ["booking.confirmed", "booking.cancelled"])
    _register(receiver.url + "/b", ["booking.confirmed"])
    _register(receiver.url + "/c", ["game.updated"])
    gone = _register(receiver.url + "/d", ["booking.confirmed"])
    webhooks.deactivate_endpoint(db.session, gone.endpoint.id, actor=STAFF, now=clock.now())
    made = _book(slot_at(game, DAY_AFTER), clock)
    service.cancel_booking(db.session, made.booking.reference, made.cancel_token, clock.now())
    _post_all(clock)
    seen = sorted((r.path, r.headers["X-Bookingapp-Event"]) for r in receiver.requests)
    assert seen == [("/hooks/a", "booking.cancelled"), ("/hooks/a", "booking.confirmed"), ("/hooks/b", "booking.confirmed")]
    confirmed = {r.json["id"] for r in receiver.requests if r.headers["X-Bookingapp-Event"] == "booking.confirmed"}
    deliveries = {r.headers["X-Bookingapp-Delivery"] for r in receiver.requests}
    assert len(confirmed) == 1 and len(deliveries) == 3
    assert both.endpoint.active


def test_deactivating_drops_pending_deliveries_and_post_refuses_them(any_app, clock, make_game, receiver):
    game = make_game()
    fill(game, clock)
    new = _register(receiver.url, ["booking.confirmed"])
    _book(slot_at(game, DAY_AFTER), clock)
    webhooks.deactivate_endpoint(db.session, str(new.endpoint.id), actor=STAFF, now=clock.now())
    webhooks.deactivate_endpoint(db.session, str(new.endpoint.id), actor=STAFF, now=clock.now())  # again: nothing
    [row] = _deliveries()
    assert row.status is OutboxStatus.DROPPED
    with pytest.raises(webhooks.DeliveryError) as refused:
        webhooks.post(row, clock.now())
    assert refused.value.permanent and receiver.requests == []
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["webhook.create", "webhook.deactivate"]


def test_deleting_removes_the_endpoint_and_its_log_and_is_audited(any_app, clock, make_game, receiver):
    game = make_game()
    fill(game, clock)
    new = _register(receiver.url, ["booking.confirmed"])
    _book(slot_at(game, DAY_AFTER), clock)
    webhooks.delete_endpoint(db.session, new.endpoint.id, actor=STAFF, now=clock.now())
    assert _deliveries() == [] and webhooks.list_endpoints(db.session) == []
    deleted = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "webhook.delete")).one()
    assert deleted.before["url"] == receiver.url and "secret" not in json.dumps(deleted.before)
    with pytest.raises(WebhookNotFound):
        webhooks.delete_endpoint(db.session, new.endpoint.id, actor=STAFF, now=clock.now())


def test_a_rolled_back_booking_leaves_no_webhook_row(any_app, clock, make_game, receiver, monkeypatch):
    game = make_game(capacity=2)
    fill(game, clock)
    _register(receiver.url, ["booking.confirmed"])
    slot = slot_at(game, DAY_AFTER)
    _book(slot, clock)
    with pytest.raises(SlotFull):
        _book(slot, clock)

    def broken(*args, **kwargs):
        raise RuntimeError("the audit row could not be written")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):  # the webhook row was added before the failure: it rolls back too
        _book(slot_at(game, DAY_AFTER + timedelta(hours=1)), clock, source=BookingSource.STAFF, actor=STAFF)
    assert len(_deliveries()) == 1


def test_registering_refuses_bad_urls_and_events_with_clear_messages(any_app):
    cases = [
        ("ftp://example.com/", ["booking.confirmed"], "url", "must start with http:// or https://"),
        ("http:///path", ["booking.confirmed"], "url", "must name a host"),
        ("", ["booking.confirmed"], "url", "is required"),
        ("http://exa mple.com/", ["booking.confirmed"], "url", "spaces"),
        ("http://host:99999/", ["booking.confirmed"], "url", "not a valid URL"),
        ("http://[::1/", ["booking.confirmed"], "url", "not a valid URL"),
        ("http://127.0.0.1:0/", ["booking.confirmed"], "url", "port 0"),
        ("http://-bad-.example/", ["booking.confirmed"], "url", "not valid"),
        ("http://" + "a" * 2000 + ".com/", ["booking.confirmed"], "url", "at most 2000"),
        ("http://no-such-host.invalid/", ["booking.confirmed"], "url", "does not resolve"),
        ("http://127.0.0.1/", [], "events", "non-empty list"),
        ("http://127.0.0.1/", ["booking.paid"], "events", "unknown: booking.paid"),
        ("http://127.0.0.1/", "booking.confirmed", "events", "non-empty list"),
        ("http://127.0.0.1/", [1], "events", "non-empty list"),
    ]
    for url, events, field, words in cases:
        with pytest.raises(ValidationError) as refused:
            webhooks.register_endpoint(db.session, url, events, actor=STAFF, now=datetime.now(UTC))
        assert words in refused.value.fields[field], (url, events, refused.value.fields)
        assert words in refused.value.message
    assert webhooks.list_endpoints(db.session) == []
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_events_are_stored_once_each_and_the_secret_is_random(any_app):
    first = _register("http://127.0.0.1:8000/x", ["game.updated", "booking.confirmed", "game.updated"])
    second = _register("http://127.0.0.1:8000/x", ["game.updated"])
    assert first.endpoint.events == ["booking.confirmed", "game.updated"]
    assert len(first.secret) == 64 and first.secret != second.secret


class TestPrivateAddresses:
    """With WEBHOOK_ALLOW_PRIVATE false, nothing on the venue's own network can be an endpoint."""

    @pytest.fixture
    def app_settings(self):
        return {"WEBHOOK_ALLOW_PRIVATE": False}

    @pytest.mark.parametrize("url, kind", [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.0.10/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://240.0.0.1/hook", "reserved"),
        ("http://100.64.0.1/hook", "non-public"),
        ("http://localhost:5000/hook", "loopback"),
    ])
    def test_refused_when_registered(self, app, url, kind):
        with pytest.raises(ValidationError) as refused:
            webhooks.register_endpoint(db.session, url, ["booking.confirmed"], actor=STAFF, now=datetime.now(UTC))
        assert f"points at a {kind} address" in refused.value.fields["url"]
        assert "WEBHOOK_ALLOW_PRIVATE" in refused.value.fields["url"]

    def test_public_addresses_pass(self, app):
        for literal in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"):
            import ipaddress

            assert webhooks.forbidden_kind(ipaddress.ip_address(literal)) is None

    def test_checked_again_when_sent(self, app, clock, make_game, receiver):
        """An endpoint allowed once (say its name resolved elsewhere then) is not posted to a private address."""
        game = make_game()
        fill(game, clock)
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True
        _register(receiver.url, ["booking.confirmed"])
        _book(slot_at(game, DAY_AFTER), clock)
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False
        [row] = _deliveries()
        with pytest.raises(webhooks.DeliveryError) as refused:
            webhooks.post(row, clock.now())
        assert "loopback address" in str(refused.value) and receiver.requests == []


# -- through the deliverer -------------------------------------------------------------------


def test_the_deliverer_posts_a_booking_once_and_records_the_answer(any_app, clock, make_game, receiver):
    from bookingapp.services.delivery import deliver_due

    game = make_game()
    fill(game, clock)
    new = _register(receiver.url, ["booking.confirmed"])
    _book(slot_at(game, DAY_AFTER), clock, email="", source=BookingSource.STAFF)  # no email: the webhook alone
    assert deliver_due(clock.now()).sent == 1
    assert deliver_due(clock.now()).total == 0
    [got] = receiver.requests
    [row] = _deliveries()
    assert got.signed_by(new.secret) and got.headers["X-Bookingapp-Delivery"] == row.message_id
    assert row.status is OutboxStatus.SENT and row.response_status == 200 and row.attempts == 1
    assert row.sent_at == clock.now()


@pytest.mark.parametrize("failure", [500, "stall"])
def test_a_failed_post_is_retried_after_the_backoff_and_then_delivered(any_app, clock, make_game, receiver,
                                                                       monkeypatch, failure):
    from bookingapp.services.delivery import deliver_due

    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.3)  # the stalled receiver need not be waited on 10 s
    game = make_game()
    fill(game, clock)
    new = _register(receiver.url, ["booking.confirmed"])
    _book(slot_at(game, DAY_AFTER), clock)
    receiver.answers = [failure]
    assert deliver_due(clock.now()).retried == 1
    [row] = _deliveries()
    assert row.status is OutboxStatus.PENDING and row.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert row.response_status == (500 if failure == 500 else None)
    assert ("HTTP 500" if failure == 500 else "no answer within 0.3 s") in row.last_error
    clock.advance(timedelta(seconds=59))
    assert deliver_due(clock.now()).total == 0  # not yet
    clock.advance(timedelta(seconds=1))
    assert deliver_due(clock.now()).sent == 1
    [row] = _deliveries()
    assert row.status is OutboxStatus.SENT and row.response_status == 200 and row.attempts == 2
    first, second = receiver.requests
    assert first.headers["X-Bookingapp-Delivery"] == second.headers["X-Bookingapp-Delivery"]
    assert second.signed_by(new.secret) and second.signed_at == int(clock.now().timestamp())


def test_an_endpoint_that_keeps_failing_is_marked_failed_after_the_last_backoff(any_app, clock, make_game, receiver):
    from bookingapp.services.delivery import deliver_due

    game = make_game()
    fill(game, clock)
    _register(receiver.url, ["game.updated"])
    update_game(db.session, game, {"capacity": 6}, now=clock.now(), default_days=7)
    receiver.answers = [502] * 6
    for wait in (0, 60, 300, 1800, 7200, 43200):
        clock.advance(timedelta(seconds=wait))
        assert deliver_due(clock.now()).total == 1
    [row] = _deliveries()
    assert row.status is OutboxStatus.FAILED and row.attempts == 6 and row.response_status == 502
    assert len(receiver.requests) == 6
