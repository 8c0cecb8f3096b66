"""A real HTTP receiver for webhook tests: records each POST, answers what the test asks, checks signatures."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signed_by(self, secret: str) -> bool:
        """Whether X-Bookingapp-Signature is the HMAC-SHA256 of "<t>.<body>" under ``secret``."""
        fields = dict(part.split("=", 1) for part in self.headers["X-Bookingapp-Signature"].split(","))
        expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, fields["v1"])

    @property
    def signed_at(self) -> int:
        return int(self.headers["X-Bookingapp-Signature"].split(",")[0].removeprefix("t="))


class Receiver:
    """A ThreadingHTTPServer on a free port of 127.0.0.1.

    ``answers`` is a list of statuses to give, one per request (then 200); the word
    ``"stall"`` makes that request wait, unanswered, until the receiver stops, and
    ``"trickle"`` sends a status line, then one header byte at a time until it stops.
    """

    def __init__(self):
        self.requests: list[Received] = []
        self.answers: list[int | str] = []
        self._release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "stall":
                    receiver._release.wait()
                    return
                if answer == "trickle":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    while not receiver._release.wait(0.05):
                        try:
                            self.wfile.write(b"X")
                            self.wfile.flush()
                        except OSError:
                            return
                    return
                self.send_response(int(answer))
                if 300 <= int(answer) < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
