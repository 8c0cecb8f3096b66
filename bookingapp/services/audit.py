"""The audit log: one row per staff write, added in the same transaction as the write.

Writers call ``record`` before they commit, so a change and its row land (or roll back)
together. Who is an ``Actor``: a staff user from the pages, or an API token by its name.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bookingapp.models import AuditEvent

MAX_PAGE = 500


@dataclass(frozen=True)
class Actor:
    """Who made a staff write: ``kind`` is "user" (a staff login) or "token" (an API token)."""

    name: str
    kind: str

    @classmethod
    def user(cls, user) -> "Actor":
        return cls(user.username, "user")

    @classmethod
    def token(cls, token) -> "Actor":
        return cls(token.name, "token")

    @property
    def label(self) -> str:
        return self.name if self.kind == "user" else f"token {self.name}"


@dataclass(frozen=True)
class Change:
    """What changed: an action such as "booking.move" on one target, with values before and after."""

    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def record(session: Session, actor: Actor, change: Change, now: datetime) -> None:
    """Add the audit row for ``change``; the caller's commit writes it with the change itself."""
    session.add(AuditEvent(
        at=now, actor=actor.name[:120], actor_kind=actor.kind, action=change.action,
        target_type=change.target_type, target_id=str(change.target_id)[:64],
        before=change.before, after=change.after,
    ))


@dataclass(frozen=True)
class AuditFilter:
    target_type: str | None = None
    target_id: str | None = None
    actor: str | None = None


def list_events(session: Session, where: AuditFilter, *, limit: int = 100, before_id: int | None = None) -> list[AuditEvent]:
    """Audit rows matching ``where``, newest first, ``limit`` of them older than ``before_id``."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(min(max(limit, 1), MAX_PAGE))
    if where.target_type:
        query = query.where(AuditEvent.target_type == where.target_type)
    if where.target_id:
        query = query.where(AuditEvent.target_id == where.target_id)
    if where.actor:
        query = query.where(AuditEvent.actor == where.actor)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query))


def history(session: Session, target_type: str, target_id: str) -> list[AuditEvent]:
    """Every audit row of one target, oldest first (a booking's or a slot's history)."""
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == target_type, AuditEvent.target_id == str(target_id))
        .order_by(AuditEvent.id)
    ))


def event_to_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id, "at": event.at.isoformat(), "actor": event.actor, "actor_kind": event.actor_kind,
        "action": event.action, "target_type": event.target_type, "target_id": event.target_id,
        "before": event.before, "after": event.after,
    }
