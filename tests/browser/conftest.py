"""Browser fixtures: the app served over a real socket, and Debian's Chromium driven by
Playwright (``executable_path``: no browser is downloaded)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from litestar import Litestar

from tests import needs
from tests.integration.conftest import app, client, tenant  # noqa: F401
from tests.integration.http import AppClient

#: Where the tests leave a screenshot of each page at each width (ignored by git).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}

# Chromium as root in a container, on a machine with no network to speak of.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]


def chromium_path() -> str:
    return os.environ.get("REWARDS_CHROMIUM") or needs.program(
        "chromium", "chromium fonts-noto-cjk (or name a Chromium binary in REWARDS_CHROMIUM)"
    )


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        launched = await driver.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def live(app: Litestar, client: AppClient) -> AsyncIterator[str]:  # noqa: F811
    """The app (whose lifespan ``client`` runs) served by uvicorn on a loopback port."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


UNLABELLED = """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name)"""
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


async def shoot(page: Any, name: str) -> None:
    """A full-page screenshot of the page at each width, after checking that every input
    has a label and that the page fits the width (wide tables and charts scroll in their
    own box)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    assert await page.evaluate(UNLABELLED) == [], name
    for width, size in WIDTHS.items():
        await page.set_viewport_size(size)
        assert await page.evaluate(OVERFLOW) <= 0, f"{name} is wider than a {width}"
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    await page.set_viewport_size(WIDTHS["desktop"])
