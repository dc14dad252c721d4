"""A real HTTP server that receives outbound events, on loopback, in a thread of the test."""

from __future__ import annotations

import contextlib
import select
import socket
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


class _Server(ThreadingHTTPServer):
    request_queue_size = 512  # many deliveries connect at once (the default is 5)


class Receiver:
    """Paths: ``/ok`` acknowledges; ``/flaky`` answers 503 to the first three attempts of each
    event; ``/hang`` answers only after ``hang_seconds``; ``/slow`` after ``slow_seconds``;
    ``/trickle`` sends its answer one byte every ``trickle_seconds``, for as long as the
    sender listens (the whole answer takes about 20 s). ``in_flight`` counts the attempts of
    each event being answered now, ``most_at_once`` the most there ever were, ``trickled``
    how long each trickled answer lasted."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.attempts: dict[str, int] = {}
        self.hang_seconds = 6.0
        self.slow_seconds = 0.0
        self.trickle_seconds = 0.5
        self.in_flight: dict[str, int] = {}
        self.most_at_once: dict[str, int] = {}
        self.trickled: list[float] = []
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
                if path == "/trickle":
                    self._trickle(event_id)
                    return
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

            def _trickle(self, event_id: str) -> None:
                with receiver.lock:
                    now = receiver.in_flight.get(event_id, 0) + 1
                    receiver.in_flight[event_id] = now
                    most = max(receiver.most_at_once.get(event_id, 0), now)
                    receiver.most_at_once[event_id] = most
                began = time.monotonic()
                try:
                    trickle(self.wfile, self.connection, receiver.trickle_seconds)
                except OSError:
                    pass  # the sender gave up
                finally:
                    self.close_connection = True
                    with receiver.lock:
                        receiver.in_flight[event_id] -= 1
                        receiver.trickled.append(time.monotonic() - began)

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
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


def closed_within(connection: socket.socket, seconds: float) -> bool:
    """Wait ``seconds``, noticing within 20 ms if the sender closed the connection (an
    attempt it cut off is over when it closes, not when the next byte finds out)."""
    ends = time.monotonic() + seconds
    while (left := ends - time.monotonic()) > 0:
        ready, _, _ = select.select([connection], [], [], min(left, 0.02))
        if ready and not connection.recv(1, socket.MSG_PEEK):
            return True
    return False


def trickle(out: Any, connection: socket.socket, seconds: float) -> None:
    """An answer a byte every ``seconds``, until it is all sent or the sender gives up."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
        out.write(bytes([byte]))
        out.flush()
        if closed_within(connection, seconds):
            return
