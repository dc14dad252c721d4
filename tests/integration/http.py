"""An HTTP client that calls the Litestar app in the test's own event loop.

Litestar's test clients run the app in a portal thread and block the caller's loop for the
whole of each request, so requests "at the same moment" would in fact run one after
another. This client hands each request to the app on the test's loop (httpx's ASGI
transport), so concurrent requests interleave at every await, as they do in a server
process, and contend for the database's rows and connections for real.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

import httpx
from litestar import Litestar


class AppClient(httpx.AsyncClient):
    """``async with AppClient(app) as client``: the app's lifespan runs around the block."""

    def __init__(self, app: Litestar, base_url: str = "http://rewards.local") -> None:
        super().__init__(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
            base_url=base_url,
            timeout=60,
        )
        self.app = app
        self._started = asyncio.Event()
        self._stop = asyncio.Event()
        self._lifespan: asyncio.Task[None] | None = None

    async def _run_lifespan(self) -> None:
        # One task enters and leaves the lifespan (its task groups insist on that), while
        # fixtures set up and tear down in different tasks.
        async with self.app.lifespan():
            self._started.set()
            await self._stop.wait()

    async def __aenter__(self) -> AppClient:
        self._lifespan = asyncio.create_task(self._run_lifespan())
        started = asyncio.create_task(self._started.wait())
        await asyncio.wait({self._lifespan, started}, return_when=asyncio.FIRST_COMPLETED)
        if self._lifespan.done():
            started.cancel()
            self._lifespan.result()  # the startup's error
        await super().__aenter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None = None,
        value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            await super().__aexit__(kind, value, traceback)
        finally:
            self._stop.set()
            if self._lifespan is not None:
                await self._lifespan
