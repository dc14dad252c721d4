"""ASGI middleware: no response of this service may be shown in another site's frame.

The portal's and the console's pages set a full Content-Security-Policy of their own; every
other response (the API, Swagger UI, the OpenAPI document, metrics) gets
``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` unless it has one already.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_CSP = b"content-security-policy"
_XFO = b"x-frame-options"


class NoFraming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return

        async def send_unframed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if _CSP not in names:
                    headers.append((_CSP, b"frame-ancestors 'none'"))
                if _XFO not in names:
                    headers.append((_XFO, b"DENY"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_unframed)
