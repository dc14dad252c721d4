"""A signed-in user of the portal or the console, over real HTTP through the app: a cookie
jar of its own, and forms filled as a browser fills them (with the page's form token)."""

from __future__ import annotations

import itertools
import os
import re
from typing import Any

import httpx
from litestar import Litestar

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(page: str) -> str:
    found = TOKEN.search(page)
    assert found, "the page has no form"
    return found[1]


_addresses = itertools.count(1)


def _next_address() -> str:
    n = next(_addresses)
    return f"127.{os.getpid() % 250}.{n // 250 % 250}.{n % 250 + 1}"


class WebUser:
    """One browser: ``await user.sign_in(key)``, then ``get`` pages and ``submit`` forms."""

    def __init__(
        self,
        app: Litestar,
        area: str,
        base_url: str = "http://rewards.local",
        client_host: str | None = None,
        language: str | None = "en",
    ) -> None:
        self.area = area
        # An address of its own (sign-ins are throttled per address): users of one test, or
        # of tests that run within a minute, do not count each other's failures.
        self.client_host = client_host or _next_address()
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(self.client_host, 50001)),
            base_url=base_url,
            timeout=60,
            # The browser's languages (None: it names none, the program's language shows).
            headers={"Accept-Language": language} if language else {},
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(path, **kw)

    async def post(self, path: str, data: dict[str, Any], **kw: Any) -> httpx.Response:
        return await self.http.post(path, data=data, **kw)

    async def sign_in(self, key: str) -> httpx.Response:
        page = await self.get(f"/{self.area}/sign-in")
        assert page.status_code == 200, page.text
        return await self.post(
            f"/{self.area}/sign-in", {"csrf_token": form_token(page.text), "api_key": key}
        )

    async def token(self, path: str | None = None) -> str:
        page = await self.get(path or f"/{self.area}/")
        if page.status_code == 303:
            page = await self.get(page.headers["location"])
        assert page.status_code == 200, page.text
        return form_token(page.text)

    async def submit(
        self, action: str, data: dict[str, Any], page: str | None = None
    ) -> httpx.Response:
        """Post a form the way a page of this session would (with its form token)."""
        return await self.post(action, {**data, "csrf_token": await self.token(page)})
