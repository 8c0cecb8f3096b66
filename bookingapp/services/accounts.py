"""Staff accounts and API tokens: passwords hashed with Werkzeug, tokens stored as SHA-256."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bookingapp.errors import Conflict, ValidationError
from bookingapp.models import ApiToken, StaffUser

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,80}")
MIN_PASSWORD = 8
MAX_PASSWORD = 200
TOKEN_PREFIX = "bk_"


class UsernameTaken(Conflict):
    code = "username_taken"


def create_staff_user(session: Session, username: str, password: str) -> StaffUser:
    """Add a staff login; refuses bad or taken usernames and short passwords."""
    problems = {}
    if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username):
        problems["username"] = "use 1-80 letters, digits or . _ @ -"
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        problems["password"] = f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"
    if problems:
        raise ValidationError(problems)
    user = StaffUser(username=username, password_hash=generate_password_hash(password))
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise UsernameTaken(f"the username {username!r} is taken", {"username": "is taken"}) from None
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


def hash_token(raw: str) -> str:
    """The SHA-256 hex digest stored in place of an API token."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(session: Session, name: str) -> str:
    """Store a new token (hashed) and return it; this is the only time it is shown."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 80:
        raise ValidationError({"name": "must be 1 to 80 characters"})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name.strip(), token_hash=hash_token(raw)))
    session.commit()
    return raw


def token_for(session: Session, raw: str, *, now: datetime) -> ApiToken | None:
    """The live token matching ``raw``, or None; stamps when it was last used."""
    if not raw or len(raw) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = now
    session.commit()
    return token
