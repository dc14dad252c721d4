"""An upload of any size goes to disk as it arrives: the serving process's memory does not
grow with the body (a served process, a body streamed over real HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from loadtest.wire import descendants
from tests.integration.conftest import Tenant
from tests.integration.test_replays_crash import serve

MIB = 1 << 20
SIZE = 256 * MIB


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(Settings(database_url=database, access_log=False, run_jobs=False))


def high_water(pid: int) -> int:
    """The largest resident set (KiB) any process of the server has had."""
    peak = 0
    for p in [pid, *descendants(pid)]:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak


async def body(size: int) -> AsyncIterator[bytes]:
    """Member lines, 1 MiB at a time, with a line longer than 1 MiB among them."""
    line = b'{"member_id": "m-%08d", "tier": "gold", "segments": ["a", "b"]}\n'
    block = b"".join(line % n for n in range(MIB // len(line % 0)))
    sent = blocks = 0
    while sent < size:
        if blocks == 64:
            yield b'{"member_id": "huge", "tier": "' + b"x" * (3 * MIB) + b'"}\n'
        yield block
        sent, blocks = sent + len(block), blocks + 1


async def test_a_large_upload_does_not_grow_the_servers_memory(
    tenant: Tenant, database: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    process, url = serve(database, tmp_path / "serve.log")
    try:
        async with httpx.AsyncClient(base_url=url, headers=tenant.admin, timeout=300) as c:
            small = await c.post(
                "/v1/admin/imports/members",
                content=b'{"member_id": "warm-up"}\n',
                headers={"Content-Type": "application/x-ndjson"},
            )
            assert small.status_code == 202, small.text
            before = high_water(process.pid)
            started = await c.post(
                "/v1/admin/imports/members",
                content=body(SIZE),
                headers={"Content-Type": "application/x-ndjson"},
            )
            assert started.status_code == 202, started.text
            after = high_water(process.pid)
            job_id = started.json()["job_id"]
            lines = await conn.fetchval("SELECT count(*) FROM job_lines WHERE job_id = $1", job_id)
            too_long = await conn.fetchval(
                "SELECT count(*) FROM job_lines WHERE job_id = $1 AND body IS NULL", job_id
            )
            cancelled = await c.delete(f"/v1/admin/jobs/{job_id}")
            assert cancelled.status_code == 200, cancelled.text
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert started.json()["progress"]["total"] == lines > SIZE // 100
    assert too_long == 1
    # 256 MiB went through; the server grew by less than a tenth of it.
    assert after - before < SIZE // 1024 // 10, (before, after)
    assert await conn.fetchval("SELECT count(*) FROM job_lines WHERE job_id = $1", job_id) == 0
