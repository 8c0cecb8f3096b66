"""Webhooks: endpoints staff register, the events they hear of, and one signed POST per delivery.

An event fans out, in the caller's transaction, into one outbox row per active endpoint
subscribed to it, so a webhook is delivered, retried and logged by the outbox's deliverer
like an email (a booking that rolls back sends nothing). The deliverer calls ``post`` for
each row that names an endpoint.

Endpoint URLs must not reach the venue's own network: a host that resolves to a loopback,
private, link-local, multicast, reserved or unspecified address is refused when it is
registered and again when each delivery is sent (DNS may have changed since), unless the
setting ``WEBHOOK_ALLOW_PRIVATE`` is true. The POST connects to the address that was checked.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import http.client
import ipaddress
import json
import re
import secrets
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bookingapp.errors import ValidationError, WebhookNotFound
from bookingapp.models import Booking, Game, OutboxMessage, OutboxStatus, WebhookEndpoint
from bookingapp.services import audit, outbox
from bookingapp.services.audit import Actor
from bookingapp.services.delivery import DeliveryError
from bookingapp.services.serialize import booking_to_json, game_to_json

BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_MOVED = "booking.moved"
BOOKING_CANCELLED = "booking.cancelled"
GAME_CREATED = "game.created"
GAME_UPDATED = "game.updated"
EVENTS = (BOOKING_CONFIRMED, BOOKING_MOVED, BOOKING_CANCELLED, GAME_CREATED, GAME_UPDATED)

MAX_URL = 2000
TIMEOUT_SECONDS = 10.0  # connect, send and each read of one delivery
LOOKUP_SECONDS = 3.0  # a name lookup that takes longer is refused (registration) or failed (delivery)
USER_AGENT = "bookingapp-webhooks"
MAX_PAGE = 500
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Name lookups run here so that one can be given up on: getaddrinfo itself has no timeout.
_lookups = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


@dataclass(frozen=True)
class NewEndpoint:
    """A registered endpoint and its signing secret, known in the clear only now."""

    endpoint: WebhookEndpoint
    secret: str


@dataclass(frozen=True)
class Target:
    """Where one delivery goes: the URL's parts and the address checked for it."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


# -- registering ---------------------------------------------------------------------------


def allow_private() -> bool:
    """WEBHOOK_ALLOW_PRIVATE of the current app (false outside one)."""
    return bool(has_app_context() and current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))


def register_endpoint(session: Session, url: object, events: object, *, actor: Actor, now: datetime) -> NewEndpoint:
    """Check and add an endpoint with a fresh secret; audited and committed in one transaction.

    Raises ValidationError naming the bad ``url`` or ``events`` (a private address, a host
    that does not resolve, an unknown event).
    """
    problems: dict[str, str] = {}
    clean_events = _clean_events(events, problems)
    clean_url = None
    try:
        clean_url = check_url(url)
    except ValidationError as exc:
        problems.update(exc.fields)
    if problems:
        raise ValidationError(problems, "This webhook cannot be registered: " + "; ".join(
            f"{name} {message}" for name, message in problems.items()) + ".")
    secret = secrets.token_hex(32)
    try:
        endpoint = WebhookEndpoint(url=clean_url, events=clean_events, secret=secret, active=True, created_at=now)
        session.add(endpoint)
        session.flush()
        audit.record(session, actor, audit.Change("webhook.create", "webhook", str(endpoint.id),
                                                  after=_facts(endpoint)), now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return NewEndpoint(endpoint, secret)


def _clean_events(events: object, problems: dict[str, str]) -> list[str]:
    wanted = f"must be a non-empty list of {', '.join(EVENTS)}"
    if not isinstance(events, (list, tuple)) or not events or not all(isinstance(e, str) for e in events):
        problems["events"] = wanted
        return []
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        problems["events"] = f"{wanted} (unknown: {', '.join(unknown)[:200]})"
        return []
    return [e for e in EVENTS if e in events]  # each once, in the documented order


def check_url(url: object) -> str:
    """The URL, if it is an http(s) URL with a host that resolves to an address webhooks may reach."""
    target = _target(url)
    if isinstance(url, str):
        _resolve_checked(target.host, target.port, field="url")
    return str(url).strip()


def _target(url: object, address: str = "") -> Target:
    """The parts of a webhook URL (syntax only); ValidationError on the field ``url``."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationError({"url": "is required (an http:// or https:// address)"})
    text = url.strip()
    if len(text) > MAX_URL:
        raise ValidationError({"url": f"must be at most {MAX_URL} characters"})
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValidationError({"url": "must not contain spaces or control characters"})
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValidationError({"url": "is not a valid URL"}) from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError({"url": "must start with http:// or https://"})
    host = parts.hostname or ""
    if not host:
        raise ValidationError({"url": "must name a host, e.g. https://example.com/hooks"})
    if port == 0:
        raise ValidationError({"url": "must not name port 0"})
    if _ip(host) is None and not _valid_name(host):
        raise ValidationError({"url": f"has a host name that is not valid: {host[:100]}"})
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path, address)


def _valid_name(host: str) -> bool:
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(ascii_host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _resolve_checked(host: str, port: int, *, field: str) -> str:
    """The first address of ``host``; ValidationError if it has none or one webhooks may not reach."""
    addresses = _addresses(host, port)
    if not addresses:
        raise ValidationError({field: f"has a host that does not resolve: {host[:100]}"})
    if not allow_private():
        for address in addresses:
            kind = forbidden_kind(ipaddress.ip_address(address))
            if kind is not None:
                raise ValidationError({field: f"points at a {kind} address ({address}); webhooks must reach a "
                                              "public address (WEBHOOK_ALLOW_PRIVATE=true allows private ones)"})
    return addresses[0]


def _addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an address literal: itself); [] when it does not resolve in time."""
    literal = _ip(host)
    if literal is not None:
        return [str(literal)]
    future = _lookups.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=LOOKUP_SECONDS)
    except (OSError, UnicodeError, concurrent.futures.TimeoutError):
        return []
    # An IPv6 answer may carry a zone ("fe80::1%eth0"): the address alone is judged.
    return list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))


def forbidden_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a webhook may not post to ``ip`` ("loopback", "private", …), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:
            return forbidden_kind(inner)
    for kind in ("loopback", "unspecified", "link_local", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:  # shared (carrier-grade NAT), documentation and other special ranges
        return "non-public"
    return None


def list_endpoints(session: Session) -> list[tuple[WebhookEndpoint, OutboxMessage | None]]:
    """Every endpoint, newest first, with its latest delivery attempted (None before the first)."""
    endpoints = list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())))
    latest = _latest_attempts(session, [e.id for e in endpoints])
    return [(endpoint, latest.get(endpoint.id)) for endpoint in endpoints]


def _latest_attempts(session: Session, endpoint_ids: list[int]) -> dict[int, OutboxMessage]:
    if not endpoint_ids:
        return {}
    newest = (
        select(func.max(OutboxMessage.id))
        .where(OutboxMessage.endpoint_id.in_(endpoint_ids), OutboxMessage.attempts > 0)
        .group_by(OutboxMessage.endpoint_id)
    )
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(newest)))
    return {row.endpoint_id: row for row in rows}


def get_endpoint(session: Session, endpoint_id: object) -> WebhookEndpoint:
    """The endpoint with this id, else WebhookNotFound."""
    key = _endpoint_key(endpoint_id)
    endpoint = session.get(WebhookEndpoint, key) if key is not None else None
    if endpoint is None:
        raise WebhookNotFound("There is no such webhook.")
    return endpoint


def _endpoint_key(raw: object) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        value = int(raw)
    else:
        return None
    return value if 1 <= value < 2**63 else None


def deactivate_endpoint(session: Session, endpoint_id: object, *, actor: Actor, now: datetime) -> WebhookEndpoint:
    """Stop an endpoint hearing of events; its pending deliveries are dropped. Again changes nothing."""
    try:
        endpoint = get_endpoint(session, endpoint_id)
        if endpoint.active:
            endpoint.active = False
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.endpoint_id == endpoint.id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.DROPPED)
            )
            audit.record(session, actor, audit.Change("webhook.deactivate", "webhook", str(endpoint.id),
                                                      {"active": True}, {"active": False}), now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return endpoint


def delete_endpoint(session: Session, endpoint_id: object, *, actor: Actor, now: datetime) -> None:
    """Remove an endpoint and its delivery log."""
    try:
        endpoint = get_endpoint(session, endpoint_id)
        facts = _facts(endpoint)
        # The rows go by the foreign key's cascade on PostgreSQL; deleting them here does it everywhere.
        session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.endpoint_id == endpoint.id))
        session.delete(endpoint)
        audit.record(session, actor, audit.Change("webhook.delete", "webhook", facts["id"], before=facts), now)
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _facts(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint (never its secret)."""
    return {"id": str(endpoint.id), "url": endpoint.url, "events": list(endpoint.events), "active": endpoint.active}


def endpoint_to_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as the API shows it, without its secret."""
    return {
        "id": endpoint.id, "url": endpoint.url, "events": list(endpoint.events), "active": endpoint.active,
        "created_at": endpoint.created_at.isoformat(),
    }


def list_deliveries(
    session: Session, endpoint: WebhookEndpoint, *, limit: int = 50, before_id: int | None = None,
) -> list[OutboxMessage]:
    """An endpoint's deliveries, newest first, ``limit`` of them older than ``before_id``."""
    query = (
        select(OutboxMessage).where(OutboxMessage.endpoint_id == endpoint.id)
        .order_by(OutboxMessage.id.desc()).limit(min(max(limit, 1), MAX_PAGE + 1))
    )
    if before_id is not None:
        query = query.where(OutboxMessage.id < before_id)
    return list(session.scalars(query))


def deliveries_page(session: Session, endpoint: WebhookEndpoint, page: int, per_page: int) -> tuple[list[OutboxMessage], int, int]:
    """One page (from 1, at most the last) of an endpoint's deliveries, newest first; its number; the pages."""
    total = int(session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.endpoint_id == endpoint.id)) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.endpoint_id == endpoint.id)
        .order_by(OutboxMessage.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return list(rows), page, pages


def delivery_to_json(message: OutboxMessage) -> dict[str, Any]:
    """One delivery as the API shows it."""
    def at(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": message.id, "event": message.kind, "delivery_id": message.message_id, "status": message.status.value,
        "attempts": message.attempts, "response_status": message.response_status, "last_error": message.last_error,
        "event_id": (message.payload or {}).get("id"), "created_at": at(message.created_at),
        "next_attempt_at": at(message.next_attempt_at) if message.status is OutboxStatus.PENDING else None,
        "sent_at": at(message.sent_at),
    }


# -- events ----------------------------------------------------------------------------------


def emit(session: Session, event_type: str, data: dict[str, Any], now: datetime) -> str | None:
    """Queue ``event_type`` for every active endpoint subscribed to it, in the caller's transaction.

    Each row's payload is the body to post, ``{id, type, created_at, data}``, with one event
    id shared by all endpoints; each is due now. Returns the event id (None: nobody listens).
    """
    if event_type not in EVENTS:
        raise ValueError(f"unknown webhook event {event_type!r}")
    endpoints = [e for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
                 if event_type in (e.events or [])]
    if not endpoints:
        return None
    event_id = uuid.uuid4().hex
    body = {"id": event_id, "type": event_type, "created_at": now.astimezone(timezone.utc).isoformat(), "data": data}
    for endpoint in endpoints:
        session.add(OutboxMessage(
            kind=event_type, endpoint_id=endpoint.id, recipient=endpoint.url[:254], payload=body, due_at=now,
            next_attempt_at=now, status=OutboxStatus.PENDING, attempts=0, created_at=now, message_id=uuid.uuid4().hex,
        ))
    session.flush()
    outbox.note_due(session, now)
    return event_id


def booking_event(session: Session, event_type: str, booking: Booking, now: datetime) -> None:
    """Queue a booking event; ``data`` is the booking as the staff API shows it (no cancel token)."""
    session.flush()
    session.refresh(booking)
    emit(session, event_type, booking_to_json(booking), now)


def game_event(session: Session, event_type: str, game: Game, now: datetime) -> None:
    """Queue a game event; ``data`` is the game as ``GET /api/games`` shows it."""
    session.flush()
    emit(session, event_type, game_to_json(game), now)


# -- sending ---------------------------------------------------------------------------------


def body_bytes(message: OutboxMessage) -> bytes:
    """The exact bytes posted and signed: the payload as compact JSON."""
    return json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Bookingapp-Signature value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def headers_for(message: OutboxMessage, secret: str, now: datetime, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Bookingapp-Event": message.kind,
        "X-Bookingapp-Delivery": message.message_id,
        "X-Bookingapp-Signature": signature(secret, int(now.timestamp()), body),
    }


def post(message: OutboxMessage, now: datetime, *, timeout: float | None = None) -> int:
    """POST one delivery to its endpoint; the HTTP status when it answered 2xx.

    Anything else (another status, a timeout, a connection error, an address that is no
    longer allowed) raises ``delivery.DeliveryError``; redirects are not followed.
    """
    endpoint = message.endpoint
    if endpoint is None or not endpoint.active:
        raise DeliveryError("the webhook was deactivated or removed", status=None, permanent=True)
    try:
        target = _target(endpoint.url)
        address = _resolve_checked(target.host, target.port, field="address")
    except ValidationError as exc:
        raise DeliveryError(f"the endpoint's URL {next(iter(exc.fields.values()))}",
                                      status=None, permanent=False) from None
    body = body_bytes(message)
    status = _send(Target(target.scheme, target.host, target.port, target.path, address),
                   body, headers_for(message, endpoint.secret, now, body),
                   TIMEOUT_SECONDS if timeout is None else timeout)
    if not 200 <= status < 300:
        raise DeliveryError(f"the endpoint answered HTTP {status}", status=status, permanent=False)
    return status


def _send(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """One POST to ``target.address`` (Host, TLS name and certificate: ``target.host``); its status.

    ``timeout`` bounds the whole attempt, not each read: a receiver that trickles its
    answer a byte at a time is cut off too.
    """
    cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = cls(target.host, target.port, timeout=timeout)
    # Connect to the address checked above, not to whatever the name resolves to by now.
    connection._create_connection = lambda _address, *args: socket.create_connection(
        (target.address, target.port), *args)
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        if connection.sock is not None:
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(timeout, cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # the answer's body is not kept; read a little so the connection closes cleanly
        if expired.is_set():
            raise TimeoutError
        return response.status
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise DeliveryError(f"no answer within {timeout:g} s", status=None, permanent=False) from None
        raise DeliveryError(f"could not post: {type(exc).__name__}: {exc}"[:500], status=None, permanent=False) from None
    finally:
        watchdog.cancel()
        connection.close()
