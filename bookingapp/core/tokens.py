"""Booking references customers read aloud, and cancel tokens only they hold."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

# No 0/O, 1/I/L: a reference read over the phone or copied by hand stays unambiguous.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 8
_REFERENCE = re.compile(f"[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}")
MAX_TOKEN = 128


def new_reference() -> str:
    """A random reference such as ``K7Q2M9XD``."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def normalize_reference(raw: object) -> str | None:
    """The reference in canonical form, or None when it cannot be one of ours."""
    if not isinstance(raw, str) or len(raw) > 32:
        return None
    reference = raw.strip().upper()
    return reference if _REFERENCE.fullmatch(reference) else None


def new_cancel_token() -> str:
    """A secret for the customer's confirmation link (only its hash is stored)."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in place of a secret (a cancel token, a staff API token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: object, stored_hash: str) -> bool:
    """Compare a presented token with the stored hash in constant time."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)
