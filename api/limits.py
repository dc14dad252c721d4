"""Limits that keep one careless or hostile client from holding the server: how long the
request line and headers may take to arrive and how large they may be (a guard around
uvicorn's HTTP protocol; granian has settings of its own), and how long a request body may
take (ASGI middleware, under either server). Bodies are bounded in size by the application
(``max_body_bytes``, ``hook_max_body_bytes``: 413)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cache

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.settings import Settings
from rewards.core.errors import RewardsError


@cache
def _settings() -> Settings:
    return Settings()


def _refusal(status: int, reason: str, type_: str, detail: str) -> bytes:
    body = msgspec.json.encode({"type": type_, "title": reason, "status": status, "detail": detail})
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the request line and headers of each request due
    within ``header_timeout_seconds`` of its first byte (or of the connection), and at most
    ``max_header_bytes`` of them: a slow client is answered 408, a bloated one 431, and the
    connection is closed either way. What is not HTTP at all is a 400 problem too."""

    _header_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """A request that is not valid HTTP (a control character in a header, a broken
        request line) is refused as every other error is: with a problem document."""
        self._refuse(
            _refusal(400, "Bad Request", "malformed_request", "the request is not valid HTTP")
        )

    def _arm(self) -> None:
        self._disarm()
        self._header_bytes = 0
        self._header_timer = self.loop.call_later(
            _settings().header_timeout_seconds, self._too_slow
        )

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > _settings().max_header_bytes:
            self._refuse(
                _refusal(
                    431,
                    "Request Header Fields Too Large",
                    "headers_too_large",
                    f"the request line and headers exceed {_settings().max_header_bytes} bytes",
                )
            )
            # Stops the parser in the middle of the bytes it was given (it raises a parser
            # error, which uvicorn answers with send_400_response: nothing more is written).
            raise HeadersRefused

    def _too_slow(self) -> None:
        self._header_timer = None
        self._refuse(
            _refusal(
                408,
                "Request Timeout",
                "request_timeout",
                "the request line and headers did not arrive in time",
            )
        )

    def _refuse(self, answer: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()
        # Parsing stops here: what else the client sends is not read.
        self.parser = _Discard()  # type: ignore[assignment]


class HeadersRefused(Exception):
    """Raised from a parser callback to stop parsing a request already answered."""


class _Discard:
    def feed_data(self, data: bytes) -> None:
        return None


class BodyTooSlow(RewardsError):
    status = 408
    type = "request_timeout"
    title = "Request timeout"
    close_connection = True


class BodyDeadline:
    """ASGI middleware: a request's body is due within ``seconds`` of its first read; one
    that trickles in slower is answered 408 (the handler never sees half a body). An upload
    streamed into a job (``streamed`` paths) may take as long as it needs, but each part of
    it is due within ``seconds`` of the one before."""

    def __init__(
        self, app: ASGIApp, seconds: float, streamed: Callable[[str], bool] = lambda _: False
    ) -> None:
        self.app = app
        self.seconds = seconds
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        done = False
        idle = self.streamed(scope.get("path", ""))

        async def receive_in_time() -> ReceiveMessage:
            nonlocal deadline, done
            if done:
                return await receive()
            if deadline is None or idle:
                deadline = loop.time() + self.seconds
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow(
                    f"the request body did not arrive within {self.seconds:g} s"
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                done = True
            return message

        await self.app(scope, receive_in_time, send)
