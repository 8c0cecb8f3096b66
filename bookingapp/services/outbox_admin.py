"""What staff see of the outbox and may do to it: the waiting and failed messages, a retry."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bookingapp.errors import Conflict, DomainError, NotFound
from bookingapp.models import OutboxMessage, OutboxStatus
from bookingapp.services import delivery
from bookingapp.services.audit import Actor, Change, record

PAGE_SIZE = 50
# ?show= on the staff page: what each listing holds.
SHOWN = {
    "open": (OutboxStatus.PENDING, OutboxStatus.FAILED),  # still to be sent, or given up on
    "failed": (OutboxStatus.FAILED,),
    "sent": (OutboxStatus.SENT,),
}


@dataclass(frozen=True)
class OutboxPage:
    """One page of the outbox listing, newest first."""

    messages: list[OutboxMessage]
    show: str
    page: int
    pages: int
    total: int


def parse_show(raw: str | None) -> str:
    """``?show=`` as a listing name; empty means "open"."""
    show = (raw or "").strip() or "open"
    if show not in SHOWN:
        raise DomainError("There is no such outbox listing.", {"show": f"one of {', '.join(SHOWN)}"})
    return show


def list_outbox(session: Session, show: str, page: int) -> OutboxPage:
    """Messages of the ``show`` listing, newest first, PAGE_SIZE a page (a page past the end shows the last)."""
    statuses = SHOWN[show]
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(statuses)))
    pages = max(1, -(-int(total or 0) // PAGE_SIZE))
    page = min(page, pages)
    messages = session.scalars(
        select(OutboxMessage).where(OutboxMessage.status.in_(statuses))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        .options(selectinload(OutboxMessage.booking))
    ).all()
    return OutboxPage(list(messages), show, page, pages, int(total or 0))


def retry_message(session: Session, message_id: int, actor: Actor, now: datetime) -> OutboxMessage:
    """Put a failed message back in line, due now, and record who did it; refuse any other message."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("There is no such message in the outbox.")
    before = {"status": message.status.value, "attempts": message.attempts, "last_error": message.last_error}
    failed = message.status is OutboxStatus.FAILED
    session.rollback()  # the deliverer writes on a connection of its own: hold no read open (SQLite would wait)
    if not failed or not delivery.retry(message_id, now):
        raise Conflict(f"Only a failed message can be retried; this one is {_current_status(session, message_id)}.")
    record(session, actor, Change("outbox.retry", "outbox_message", str(message_id), before=before,
                                  after={"status": OutboxStatus.PENDING.value, "due_at": now.isoformat()}), now)
    session.commit()
    session.refresh(message)
    return message


def _current_status(session: Session, message_id: int) -> str:
    status = session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
    return status.value if status is not None else "gone"
