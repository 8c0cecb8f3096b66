"""The schema: games, their slots and bookings, maintenance runs, staff and API tokens.

Invariants live here as constraints, so the database refuses what must never happen:
one slot per (game, start), never more seats booked than the slot has.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timezone

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bookingapp.core.engine import Schedule, schedule_from
from bookingapp.core.window import DayRange, window
from bookingapp.extensions import db, login_manager

UTC = timezone.utc

# 64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY is 64-bit already and only
# auto-increments under that exact type name.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The current instant in UTC (column defaults; services take ``now`` from the app's clock)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as UTC; SQLite (which keeps no offset) gets naive UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class BookingMode(str, enum.Enum):
    SHARED = "shared"  # each booking takes party_size seats; strangers share a slot
    PRIVATE = "private"  # one group takes the whole slot


class PricePer(str, enum.Enum):
    PLAYER = "player"  # the price times the party size
    SESSION = "session"  # one price for the booking, whatever its size


class BookingStatus(str, enum.Enum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class BookingSource(str, enum.Enum):
    ONLINE = "online"  # a customer, on the site or the public API
    STAFF = "staff"  # taken by staff: phone, walk-in, the staff API


class Attendance(str, enum.Enum):
    EXPECTED = "expected"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"


class StaffRole(str, enum.Enum):
    ADMIN = "admin"  # everything
    DESK = "desk"  # bookings, the day sheet, attendance and slot blocks only


class RunTrigger(str, enum.Enum):
    DAILY = "daily"
    VIEW = "view"
    CLI = "cli"
    ADMIN = "admin"


class RunStatus(str, enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Game(db.Model):
    __tablename__ = "games"
    __table_args__ = (
        # Listings page active games by (name, slug): the first page is an index range.
        Index("ix_games_active_listing", "name", "slug", postgresql_where=text("is_active"),
              sqlite_where=text("is_active")),
        CheckConstraint("slot_minutes BETWEEN 1 AND 1440", name="slot_minutes_range"),
        CheckConstraint("gap_minutes BETWEEN 0 AND 1440", name="gap_minutes_range"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("min_party >= 1 AND min_party <= capacity", name="min_party_range"),
        CheckConstraint("days_ahead IS NULL OR days_ahead BETWEEN 1 AND 366", name="days_ahead_range"),
        CheckConstraint("min_notice_minutes >= 0", name="min_notice_positive"),
        CheckConstraint("cancel_cutoff_minutes >= 0", name="cancel_cutoff_positive"),
        CheckConstraint("price >= 0", name="price_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))
    slot_minutes: Mapped[int] = mapped_column(Integer)
    gap_minutes: Mapped[int] = mapped_column(Integer, default=0)
    capacity: Mapped[int] = mapped_column(Integer)
    days_ahead: Mapped[int | None] = mapped_column(Integer)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Customers may not cancel or move a booking this close to its start (staff may).
    cancel_cutoff_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Hours before the start that the reminder is sent; None follows BOOKING_REMINDER_HOURS, 0 sends none.
    reminder_hours: Mapped[int | None] = mapped_column(Integer)
    booking_mode: Mapped[BookingMode] = mapped_column(
        _enum(BookingMode, "booking_mode"), default=BookingMode.SHARED
    )
    min_party: Mapped[int] = mapped_column(Integer, default=1)
    # Paid at the venue: the price in the currency's minor units (cents), per player or per session.
    price: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    price_per: Mapped[PricePer] = mapped_column(
        _enum(PricePer, "price_per"), default=PricePer.SESSION, server_default="session"
    )
    location: Mapped[str] = mapped_column(String(200), default="", server_default="")  # e.g. "Room 2, first floor"
    instructions: Mapped[str] = mapped_column(Text, default="", server_default="")  # what to bring, when to arrive
    weekly_hours: Mapped[dict] = mapped_column(db.JSON, default=dict)
    closures: Mapped[list] = mapped_column(db.JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Last local date whose slots are known to be written; the daily top-up starts after it.
    generated_through: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    slots: Mapped[list[Slot]] = relationship(back_populates="game", passive_deletes=True)

    def schedule(self) -> Schedule:
        """The engine's view of this game."""
        return schedule_from(
            {name: getattr(self, name) for name in ("timezone", "slot_minutes", "gap_minutes", "weekly_hours", "closures")}
        )

    def window_days(self, default: int) -> int:
        """How many local days of slots this game keeps ahead."""
        return self.days_ahead or default

    def window(self, now: datetime, default_days: int) -> DayRange:
        """The local days this game shows at ``now`` (the window rule is ``core.window``)."""
        return window(now, self.timezone, self.window_days(default_days))

    def __repr__(self) -> str:
        return f"<Game {self.slug}>"


class Slot(db.Model):
    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("game_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    game_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("games.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    # A blocked slot is never offered nor bookable; generation and edits leave it blocked.
    blocked: Mapped[bool] = mapped_column(default=False, server_default="0")
    block_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")

    game: Mapped[Game] = relationship(back_populates="slots")

    @property
    def available(self) -> int:
        return self.capacity - self.booked

    def __repr__(self) -> str:
        return f"<Slot {self.game_id} {self.starts_at.isoformat()}>"


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (CheckConstraint("party_size >= 1", name="party_size_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="RESTRICT"), index=True)
    customer_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))  # "" when staff took it without one
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[BookingSource] = mapped_column(
        _enum(BookingSource, "booking_source"), default=BookingSource.ONLINE, server_default="online"
    )
    attendance: Mapped[Attendance] = mapped_column(
        _enum(Attendance, "attendance"), default=Attendance.EXPECTED, server_default="expected"
    )
    party_size: Mapped[int] = mapped_column(Integer)
    status: Mapped[BookingStatus] = mapped_column(
        _enum(BookingStatus, "booking_status"), default=BookingStatus.CONFIRMED
    )
    cancel_token_hash: Mapped[str] = mapped_column(String(64))
    # What the booking costs, fixed when it was made (pay at the venue); None before prices existed.
    amount: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(16), default="en", server_default="en")  # for later messages
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slot: Mapped[Slot] = relationship()

    @property
    def is_cancelled(self) -> bool:
        return self.status is BookingStatus.CANCELLED


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"  # waiting for its due time (or its next attempt, after a failure)
    SENT = "sent"
    FAILED = "failed"  # every attempt failed; staff may retry it
    DROPPED = "dropped"  # no longer wanted (a cancelled booking's reminder)


class OutboxMessage(db.Model):
    """A message to send, written in the same transaction as the booking change it tells of."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))  # booking.confirmed, booking.moved, booking.cancelled, booking.reminder
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    payload: Mapped[dict] = mapped_column(db.JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When a deliverer may take it next: the due time, then a claim's lease or a retry's backoff.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Stable across attempts, so a receiver can drop a repeat (the Message-ID's left part,
    # a webhook's X-Bookingapp-Delivery).
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    # A webhook delivery posts to this endpoint (kind is the event type); an email has none.
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    # The last attempt's answer: the HTTP status of a webhook, the SMTP reply code of an email.
    response_status: Mapped[int | None] = mapped_column(Integer)

    booking: Mapped[Booking | None] = relationship()
    endpoint: Mapped[WebhookEndpoint | None] = relationship()

    @property
    def is_webhook(self) -> bool:
        return self.endpoint_id is not None


class WebhookEndpoint(db.Model):
    """A URL staff registered to hear of bookings and games, signed with its own secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(db.JSON, default=list)  # event types, e.g. ["booking.confirmed"]
    # Kept in the clear: each delivery is signed with it (HMAC-SHA256); staff see it once.
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(db.Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaintenanceRun(db.Model):
    """One pass of slot maintenance, whoever started it; how operators see the background."""

    __tablename__ = "maintenance_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    trigger: Mapped[RunTrigger] = mapped_column(_enum(RunTrigger, "run_trigger"))
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"), default=RunStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    games_checked: Mapped[int] = mapped_column(Integer, default=0)
    slots_created: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # The daily boundary a `daily` run served (the key it held), for operators.
    day_key: Mapped[str | None] = mapped_column(String(64))
    # A daily run's parts, which any worker may have done (other runs have none).
    units: Mapped[list[MaintenanceUnit]] = relationship(order_by="MaintenanceUnit.id", lazy="selectin",
                                                        viewonly=True)


class UnitStatus(str, enum.Enum):
    OPEN = "open"  # waiting for a worker (or for its retry time, after a failure)
    RUNNING = "running"  # a worker holds it until lease_until, renewing it between batches
    DONE = "done"
    ABANDONED = "abandoned"  # its run was given up (a later boundary's run covers its games)


class MaintenanceUnit(db.Model):
    """One part of a daily run: the active games whose id lies in [first_id, end_id) (None: open-ended)."""

    __tablename__ = "maintenance_units"
    __table_args__ = (Index("ix_maintenance_units_day", "day_key", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("maintenance_runs.id", ondelete="CASCADE"), index=True)
    day_key: Mapped[str] = mapped_column(String(64))
    first_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    end_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[UnitStatus] = mapped_column(_enum(UnitStatus, "unit_status"), default=UnitStatus.OPEN)
    token: Mapped[str | None] = mapped_column(String(64))
    holder: Mapped[str | None] = mapped_column(String(120))  # host:pid of the worker that took it last
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    games_checked: Mapped[int] = mapped_column(Integer, default=0)
    slots_created: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MaintenanceClaim(db.Model):
    """A daily boundary's lease as the database holds it (the table keeps its first name): one row per boundary."""

    __tablename__ = "maintenance_claims"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"), default=StaffRole.ADMIN, server_default="admin")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role is StaffRole.ADMIN


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(db.Model):
    """One staff write: who (a staff user or a token), when, what, and the values before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_target", "target_type", "target_id", "id"),
        Index("ix_audit_events_actor", "actor", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    actor_kind: Mapped[str] = mapped_column(String(16))  # "user" or "token"
    action: Mapped[str] = mapped_column(String(40))  # e.g. "booking.move"
    target_type: Mapped[str] = mapped_column(String(16))  # game, booking, slot, user, token
    target_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(db.JSON)
    after: Mapped[dict | None] = mapped_column(db.JSON)


@login_manager.user_loader
def load_staff_user(user_id: str) -> StaffUser | None:
    """Flask-Login's way back from the session cookie to a staff member."""
    return db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None
