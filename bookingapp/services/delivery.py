"""The one deliverer of the outbox: claim what is due, send it outside any transaction, record the answer.

Claiming is one statement: ``WITH claimed AS (SELECT … FOR UPDATE SKIP LOCKED) UPDATE …`` on
PostgreSQL, so deliverers in every worker of every host take disjoint rows; on SQLite
the single ``UPDATE`` holds the database's one write lock, so one process claims at a
time. A claim moves the row's ``next_attempt_at`` a lease ahead: a deliverer killed
mid-send leaves the row to be sent again after the lease, with the same Message-ID, so
a receiver can drop the repeat. Sending happens after the claim committed; each answer
is recorded in a short transaction of its own.

Email rows go to ``services.mail``; rows with an ``endpoint_id`` are webhooks and go to
``services.webhooks.post``. A failed attempt is retried after 1 min, 5 min, 30 min, 2 h
and 12 h; after that, or at once for a permanent refusal, the row is ``failed`` until
staff retry it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, selectinload

from bookingapp.extensions import db
from bookingapp.models import Booking, OutboxMessage, OutboxStatus, Slot
from bookingapp.services.outbox import announce_due

log = logging.getLogger(__name__)

OUTBOX = OutboxMessage.__table__
CLAIM_LEASE = timedelta(minutes=5)  # longer than any send may take (SMTP and webhooks time out after 10 s)
BACKOFF = (60, 300, 1800, 7200, 43200)  # seconds after the 1st, 2nd, … failed attempt; then failed
REMINDER = "booking.reminder"
ERROR_LIMIT = 2000  # characters of an error kept on the row


class DeliveryError(Exception):
    """An attempt that did not deliver: the answer's code (SMTP reply or HTTP status) and whether to retry."""

    def __init__(self, message: str, *, status: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.status = status
        self.permanent = permanent


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0  # failed this time, to be tried again later
    failed: int = 0  # failed for good (permanent refusal, or the last attempt)

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed


@dataclass(frozen=True)
class _Claim:
    id: int
    attempts: int


def deliver_due(now: datetime, *, limit: int = 100) -> DeliveryReport:
    """Send up to ``limit`` pending messages due by ``now``, oldest first; each is claimed by one deliverer only."""
    report = DeliveryReport()
    claims = _claim(now, limit)
    if not claims:
        return report
    messages = _load([claim.id for claim in claims])
    with _Transports(now) as transports:
        for claim in claims:
            message = messages.get(claim.id)
            if message is None:  # its booking was deleted since the claim
                continue
            _attempt(message, claim, now, transports, report)
    log.info("Outbox: %d sent, %d to retry, %d failed", report.sent, report.retried, report.failed)
    return report


def _claim(now: datetime, limit: int) -> list[_Claim]:
    due = and_(OUTBOX.c.status == OutboxStatus.PENDING, OUTBOX.c.next_attempt_at <= now)
    oldest = select(OUTBOX.c.id).where(due).order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id).limit(limit)
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            oldest = oldest.with_for_update(skip_locked=True)
        # A CTE, not ``IN (subquery)``: PostgreSQL runs a locking CTE once, where it may
        # scan the subquery again (and so take more than ``limit`` rows).
        claimed = oldest.cte("claimed")
        rows = conn.execute(
            update(OUTBOX).where(OUTBOX.c.id == claimed.c.id, due)
            .values(next_attempt_at=now + CLAIM_LEASE, attempts=OUTBOX.c.attempts + 1)
            .returning(OUTBOX.c.id, OUTBOX.c.attempts)
        ).all()
    return [_Claim(row.id, row.attempts) for row in sorted(rows, key=lambda row: row.id)]  # the oldest rows first


def _load(ids: list[int]) -> dict[int, OutboxMessage]:
    """The claimed rows with what composing them reads, detached: nothing is loaded lazily while sending."""
    with Session(db.engine, expire_on_commit=False) as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids)).options(
                selectinload(OutboxMessage.booking).selectinload(Booking.slot).selectinload(Slot.game),
                selectinload(OutboxMessage.endpoint),
            )
        ).all()
        session.expunge_all()
    return {row.id: row for row in rows}


def _attempt(message: OutboxMessage, claim: _Claim, now: datetime, transports: _Transports,
             report: DeliveryReport) -> None:
    if message.kind == REMINDER and message.booking is not None and message.booking.is_cancelled:
        _finish(claim, status=OutboxStatus.DROPPED)
        return
    try:
        status = _send(message, now, transports)
    except DeliveryError as exc:
        _failed(message, claim, now, exc, report)
    except Exception as exc:  # a bug composing one message must not stop the others
        log.exception("Outbox: message %s (%s) could not be sent", message.id, message.kind)
        _failed(message, claim, now, DeliveryError(f"{type(exc).__name__}: {exc}"), report)
    else:
        _finish(claim, status=OutboxStatus.SENT, sent_at=now, response_status=status, last_error=None)
        report.sent += 1


def _send(message: OutboxMessage, now: datetime, transports: _Transports) -> int | None:
    if message.endpoint_id is not None:
        try:
            from bookingapp.services.webhooks import post
        except ImportError:
            raise DeliveryError("webhooks are not available") from None
        return post(message, now)
    from bookingapp.services import mail

    return transports.mail().send(mail.compose(message, now))


def _failed(message: OutboxMessage, claim: _Claim, now: datetime, exc: DeliveryError, report: DeliveryReport) -> None:
    error = str(exc)[:ERROR_LIMIT] or type(exc).__name__
    if exc.permanent or claim.attempts > len(BACKOFF):
        _finish(claim, status=OutboxStatus.FAILED, last_error=error, response_status=exc.status)
        report.failed += 1
        log.warning("Outbox: message %s (%s to %s) failed after %d attempt(s): %s",
                    message.id, message.kind, message.recipient, claim.attempts, error)
    else:
        retry_at = now + timedelta(seconds=BACKOFF[claim.attempts - 1])
        _finish(claim, status=OutboxStatus.PENDING, next_attempt_at=retry_at, last_error=error,
                response_status=exc.status)
        report.retried += 1
        log.info("Outbox: message %s (%s) attempt %d failed, next at %s: %s",
                 message.id, message.kind, claim.attempts, retry_at.isoformat(), error)


def _finish(claim: _Claim, **values) -> None:
    # Only the claim that is still the row's last one records (a lease that ran out may
    # have let another deliverer take it since).
    with db.engine.begin() as conn:
        conn.execute(update(OUTBOX).where(OUTBOX.c.id == claim.id, OUTBOX.c.attempts == claim.attempts,
                                          OUTBOX.c.status == OutboxStatus.PENDING).values(**values))


class _Transports:
    """The transports of one delivery pass, opened on first use and closed at its end."""

    def __init__(self, now: datetime):
        self.now, self._mail = now, None

    def mail(self):
        if self._mail is None:
            from bookingapp.services.mail import open_transport

            self._mail = open_transport(self.now)
        return self._mail

    def __enter__(self) -> _Transports:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._mail is not None:
            self._mail.close()


def next_due_at() -> datetime | None:
    """When the earliest pending message is due (its next attempt); None when nothing is pending."""
    with db.engine.connect() as conn:
        value = conn.execute(select(func.min(OUTBOX.c.next_attempt_at))
                             .where(OUTBOX.c.status == OutboxStatus.PENDING)).scalar()
    return value


def oldest_due_age(now: datetime) -> float | None:
    """Seconds the longest-waiting due message has been due; None when none is due."""
    with db.engine.connect() as conn:
        value = conn.execute(select(func.min(OUTBOX.c.next_attempt_at)).where(
            OUTBOX.c.status == OutboxStatus.PENDING, OUTBOX.c.next_attempt_at <= now)).scalar()
    return None if value is None else max(0.0, (now - value).total_seconds())


def retry(message_row_id: int, now: datetime) -> bool:
    """Put a failed message back in line, due now, with a fresh series of attempts; False when it is not failed."""
    with db.engine.begin() as conn:
        changed = conn.execute(
            update(OUTBOX).where(OUTBOX.c.id == message_row_id, OUTBOX.c.status == OutboxStatus.FAILED)
            .values(status=OutboxStatus.PENDING, next_attempt_at=now, attempts=0)
        ).rowcount
    if changed:
        announce_due(now)
    return changed == 1


def counts() -> dict[str, int]:
    """How many messages are in each status (every status named, 0 when empty)."""
    with db.engine.connect() as conn:
        rows = conn.execute(select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)).all()
    found = {OutboxStatus(status).value: count for status, count in rows}
    return {status.value: found.get(status.value, 0) for status in OutboxStatus}


def recent_failures(limit: int = 5) -> list[OutboxMessage]:
    """The last messages whose last attempt failed (failed for good, or waiting for a retry), newest attempt first."""
    with Session(db.engine, expire_on_commit=False) as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.last_error.is_not(None),
                                        OutboxMessage.status.in_([OutboxStatus.FAILED, OutboxStatus.PENDING]))
            .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc()).limit(limit)
        ).all()
        session.expunge_all()
    return list(rows)

