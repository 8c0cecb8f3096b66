"""Staff accounts and API tokens: passwords hashed with Werkzeug, tokens stored as SHA-256.

A token is live until it is revoked or its expiry passes; its name names it to staff (in
lists, logs and for revoking), so two live tokens never share a name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bookingapp.core.tokens import hash_token
from bookingapp.errors import Conflict, NotFound, ValidationError
from bookingapp.models import ApiToken, StaffRole, StaffUser, utcnow
from bookingapp.services.audit import Actor, Change, record

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,80}")
MIN_PASSWORD = 8
MAX_PASSWORD = 200
TOKEN_PREFIX = "bk_"
MAX_TOKEN_DAYS = 3650


class UsernameTaken(Conflict):
    code = "username_taken"


class TokenNameTaken(Conflict):
    code = "token_name_taken"


class TokenNotFound(NotFound):
    code = "token_not_found"


class StaffUserNotFound(NotFound):
    code = "staff_user_not_found"


ROLE_VALUES = tuple(r.value for r in StaffRole)


@dataclass(frozen=True)
class Audit:
    """Who makes an account change from the pages, and when (the CLI passes none: it is the operator)."""

    actor: Actor
    now: datetime


def _audit(session: Session, by: Audit | None, change: Change) -> None:
    if by is not None:
        record(session, by.actor, change, by.now)


def create_staff_user(
    session: Session, username: str, password: str, *, role: str = "admin", by: Audit | None = None,
) -> StaffUser:
    """Add a staff login (``admin`` or ``desk``); refuses bad or taken usernames, short passwords, unknown roles."""
    problems = {}
    if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username):
        problems["username"] = "use 1-80 letters, digits or . _ @ -"
    if role not in ROLE_VALUES:
        problems["role"] = f"must be one of {', '.join(ROLE_VALUES)}"
    problems.update(_password_problems(password))
    if problems:
        raise ValidationError(problems)
    user = StaffUser(username=username, password_hash=generate_password_hash(password), role=StaffRole(role))
    session.add(user)
    _audit(session, by, Change("user.create", "user", username, after={"role": role, "active": True}))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise UsernameTaken(f"the username {username!r} is taken", {"username": "is taken"}) from None
    return user


def _password_problems(password: object) -> dict[str, str]:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return {"password": f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"}
    return {}


def set_staff_password(session: Session, username: str, password: str, *, by: Audit | None = None) -> StaffUser:
    """Give an existing staff login a new password (a reset; the audit row never holds the password)."""
    problems = _password_problems(password)
    if problems:
        raise ValidationError(problems)
    user = _staff_user(session, username)
    user.password_hash = generate_password_hash(password)
    _audit(session, by, Change("user.reset_password", "user", user.username))
    session.commit()
    return user


def set_staff_active(session: Session, username: str, active: bool, *, by: Audit) -> StaffUser:
    """Deactivate (they can no longer log in) or reactivate a staff login; nobody deactivates themselves."""
    user = _staff_user(session, username)
    if not active and user.username == by.actor.name and by.actor.kind == "user":
        raise ValidationError({"username": "you cannot deactivate your own login"}, "You cannot deactivate yourself.")
    if user.active != active:
        _audit(session, by, Change("user.activate" if active else "user.deactivate", "user", user.username,
                                   {"active": user.active}, {"active": active}))
        user.active = active
    session.commit()
    return user


def list_staff_users(session: Session) -> list[StaffUser]:
    """Every staff login by name."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def _staff_user(session: Session, username: object) -> StaffUser:
    valid_name = isinstance(username, str) and USERNAME_PATTERN.fullmatch(username)
    user = session.scalar(select(StaffUser).where(StaffUser.username == username)) if valid_name else None
    if user is None:
        raise StaffUserNotFound(f"no staff user {str(username)[:80]!r}", {"username": "no such staff user"})
    return user


def staff_user_exists(session: Session, username: str) -> bool:
    """Whether a staff login with this username exists."""
    return session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None


def authenticate(session: Session, username: str, password: str, *, now: datetime) -> StaffUser | None:
    """The active staff user with these credentials, or None; records the login time."""
    # A name that could never have been created (e.g. with a NUL, which PostgreSQL refuses) is unknown.
    valid_name = isinstance(username, str) and USERNAME_PATTERN.fullmatch(username)
    user = session.scalar(select(StaffUser).where(StaffUser.username == username)) if valid_name else None
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = now
    session.commit()
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Checked against when a username is unknown, so a wrong name costs as long as a wrong
    # password. Made on first use: hashing takes ~0.1 s, which no start-up should pay.
    return generate_password_hash("not-a-real-password")


def create_api_token(
    session: Session, name: str, *, now: datetime | None = None, expires_in_days: int | None = None,
    by: Audit | None = None,
) -> str:
    """Store a new token (hashed) and return it; this is the only time it is shown.

    ``expires_in_days`` (1..3650) makes it stop working that long after ``now`` (the
    app's clock; the wall clock when left out).
    """
    name, now = _token_name(name), now or utcnow()
    expires_at = _expiry(now, expires_in_days)
    if _live_tokens(session, name, now=now):
        raise TokenNameTaken(f"a live token is already named {name!r}", {"name": "is taken by a live token"})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=hash_token(raw), created_at=now, expires_at=expires_at))
    _audit(session, by, Change("token.create", "token", name,
                               after={"expires_at": expires_at.isoformat() if expires_at else None}))
    session.commit()
    return raw


def _token_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 80 or "\x00" in name:
        raise ValidationError({"name": "must be 1 to 80 characters"})
    return name.strip()


def _expiry(now: datetime, days: int | None) -> datetime | None:
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError({"expires_in": f"must be a whole number of days from 1 to {MAX_TOKEN_DAYS}"})
    return now + timedelta(days=days)


def _live_tokens(session: Session, name: str, *, now: datetime) -> list[ApiToken]:
    tokens = session.scalars(select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None)))
    return [token for token in tokens if token_is_live(token, now)]


def token_is_live(token: ApiToken, now: datetime) -> bool:
    """Whether ``token`` still opens the staff API at ``now``: not revoked, not expired."""
    return token.revoked_at is None and (token.expires_at is None or now < token.expires_at)


def list_api_tokens(session: Session) -> list[ApiToken]:
    """Every token ever made, newest first (revoked and expired ones included, for the record)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_api_token(session: Session, name: str, *, now: datetime, by: Audit | None = None) -> ApiToken:
    """Stop the live token named ``name`` from working, from this instant."""
    live = _live_tokens(session, _token_name(name), now=now)
    if not live:
        raise TokenNotFound(f"no live token named {name.strip()[:80]!r}", {"name": "no live token has this name"})
    for token in live:
        token.revoked_at = now
    _audit(session, by, Change("token.revoke", "token", live[0].name, after={"revoked_at": now.isoformat()}))
    session.commit()
    return live[0]


def token_for(session: Session, raw: str, *, now: datetime) -> ApiToken | None:
    """The live token matching ``raw``, or None; stamps when it was last used."""
    if not raw or len(raw) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or not token_is_live(token, now):
        return None
    token.last_used_at = now
    session.commit()
    return token
