"""MAIL_URL, read: where and how the app hands its email to an SMTP server.

``smtp://user:pass@host:587`` speaks STARTTLS when the server offers it;
``smtps://user:pass@host:465`` is TLS from the first byte. User and password are
URL-encoded (``%40`` for ``@``). Pure: the standard library only.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
EXAMPLE = "smtp://user:pass@host:587 or smtps://user:pass@host:465"


@dataclass(frozen=True)
class MailServer:
    scheme: str  # "smtp" (STARTTLS when offered) or "smtps" (implicit TLS)
    host: str
    port: int
    username: str = ""
    password: str = ""

    @property
    def implicit_tls(self) -> bool:
        return self.scheme == "smtps"

    def __repr__(self) -> str:  # never the password, in logs or tracebacks
        return f"MailServer({self.scheme}://{self.username + '@' if self.username else ''}{self.host}:{self.port})"


def parse_mail_url(raw: str) -> MailServer:
    """The server ``raw`` names; ValueError with a reason (never echoing the password) when it names none."""
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"{masked(raw)!r} has a bad port; use {EXAMPLE}") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"{masked(raw)!r} is not {EXAMPLE}")
    if not parts.hostname:
        raise ValueError(f"{masked(raw)!r} names no host; use {EXAMPLE}")
    if port == 0:
        raise ValueError(f"{masked(raw)!r} has a bad port; use {EXAMPLE}")
    return MailServer(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme],
                      unquote(parts.username or ""), unquote(parts.password or ""))


def masked(raw: str) -> str:
    """``raw`` with any password replaced by ``***``, fit to show in an error."""
    scheme, sep, rest = raw.partition("://")
    if not sep:
        return raw
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return raw
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
