"""A real SMTP server for the tests: aiosmtpd on a free local port, keeping what it receives.

``refuse(451)`` (or 550) makes it answer every message with that code until ``accept()``;
``stop()`` and ``start()`` take it down and bring it back on the same port, so the app's
MAIL_URL stays right. With ``credentials`` it asks for a login (AUTH over the plain
connection: the tests have no certificate). ``stall()`` holds every message at DATA,
unanswered, until ``release()``, which refuses what it held (451): a sender killed
meanwhile has delivered nothing. Messages come back parsed (``email.policy.default``).
"""
from __future__ import annotations

import asyncio
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

REPLIES = {451: "451 4.3.0 Try again later", 550: "550 5.7.1 Refused by the test server"}


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, _server, _session, envelope):
        if self.server.stalling:
            self.server.stalled += 1
            while self.server.stalling:
                await asyncio.sleep(0.02)
            return REPLIES[451]
        with self.server.lock:
            if self.server.refusing is not None:
                self.server.refused += 1
                return REPLIES[self.server.refusing]
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.server.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


class SmtpServer:
    """One aiosmtpd Controller at ``127.0.0.1:port``; ``url`` is the app's MAIL_URL for it."""

    def __init__(self, port: int, credentials: tuple[str, str] | None = None):
        self.port, self.credentials = port, credentials
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refusing: int | None = None
        self.refused = 0
        self.stalling = False
        self.stalled = 0  # messages held at DATA so far
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self._controller is None:
            auth = {} if self.credentials is None else {
                "auth_required": True, "auth_require_tls": False, "authenticator": self._authenticate}
            self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **auth)
            self._controller.start()

    def stop(self) -> None:
        self.stalling = False  # a held message is answered, so the server can stop
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(self, _server, _session, _envelope, _mechanism, auth_data) -> AuthResult:
        given = (auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=given == self.credentials, handled=False)  # False: aiosmtpd answers 535

    def refuse(self, code: int = 451) -> None:
        """Answer every message with ``code`` (451: try later; 550: refused for good)."""
        self.refusing = code

    def accept(self) -> None:
        self.refusing = None

    def stall(self) -> None:
        """Hold each message at DATA without an answer (the sender waits) until ``release()``."""
        self.stalling = True

    def release(self) -> None:
        """Answer the held messages 451 (not kept) and accept the next ones."""
        self.stalling = False

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for ``address``, in arrival order."""
        with self.lock:
            return [m for m in self.messages if m["To"] and address in str(m["To"])]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()
