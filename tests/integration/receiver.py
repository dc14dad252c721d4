"""A real HTTP server that receives outbound events, on loopback, in a thread of the test."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec


class Received(msgspec.Struct):
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        found: dict[str, Any] = msgspec.json.decode(self.body)
        return found


class Receiver:
    """Paths: ``/ok`` acknowledges; ``/flaky`` answers 503 to the first three attempts of each
    event; ``/hang`` answers only after ``hang_seconds``; ``/slow`` after ``slow_seconds``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.attempts: dict[str, int] = {}
        self.hang_seconds = 6.0
        self.slow_seconds = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender went away mid-request (a test kills it): nothing was
                    # delivered, as a real receiver would see it.
                    self.close_connection = True
                    return
                event_id = self.headers.get("X-Rewards-Event-Id", "")
                with receiver.lock:
                    receiver.attempts[event_id] = receiver.attempts.get(event_id, 0) + 1
                    attempt = receiver.attempts[event_id]
                path = self.path
                if path == "/hang":
                    time.sleep(receiver.hang_seconds)
                if path == "/slow":
                    time.sleep(receiver.slow_seconds)
                if path == "/flaky" and attempt <= 3:
                    self._answer(503, b"not yet")
                    return
                with receiver.lock:
                    receiver.received.append(Received(path, dict(self.headers.items()), body))
                self._answer(200, b"ok")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def ids(self, path: str | None = None) -> list[str]:
        with self.lock:
            return [
                r.headers["X-Rewards-Event-Id"] for r in self.received if path in (None, r.path)
            ]

    def events(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [r.event for r in self.received if path in (None, r.path)]


@contextlib.contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
