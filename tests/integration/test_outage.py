"""A database outage: 503 with Retry-After (never a 500) while it lasts, /healthz still up,
and the service recovering by itself when the database is back — no restart, nothing lost."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import Settings
from db.embedded import EmbeddedPostgres
from db.pool import connect, ensure_database
from rewards.core.credentials import hook_signature
from rewards.tenants.service import create_tenant
from tests.integration.conftest import purchase
from tests.integration.invariants import check_ledger


@pytest.fixture
async def server() -> AsyncIterator[EmbeddedPostgres]:
    """A server of this test's own, which it may stop and start."""
    embedded = EmbeddedPostgres(
        Path(tempfile.mkdtemp(prefix="rewards-test-pg-outage-")), delete=True
    )
    await ensure_database(embedded.dsn("postgres"), "rewards")
    try:
        yield embedded
    finally:
        embedded.stop()


async def test_an_outage_answers_503_and_the_service_recovers_by_itself(
    server: EmbeddedPostgres,
) -> None:
    app = create_app(
        Settings(database_url=server.dsn(), pool_min_size=2, pool_max_size=4, access_log=False)
    )
    async with AsyncTestClient(app, base_url="http://rewards.local") as client:
        conn = await connect(server.dsn())
        async with conn.transaction():
            tenant = await create_tenant(conn, "Outage Bank")
        await conn.close()

        async def hook(tx_id: str) -> int:
            body = msgspec.json.encode(purchase(tx_id, mcc="5812"))
            headers = {
                "Content-Type": "application/json",
                "X-Rewards-Tenant": tenant.tenant_id,
                "X-Rewards-Signature": hook_signature(tenant.hook_secret, int(time.time()), body),
            }
            response = await client.post("/v1/hooks/transactions", content=body, headers=headers)
            assert response.status_code in (200, 503), response.text
            if response.status_code == 503:
                assert response.headers["retry-after"] == "1"
                assert response.json()["type"] == "service_unavailable"
            return response.status_code

        assert await hook("before") == 200
        acknowledged = {"before"}
        server.halt()
        during = [await hook(f"during-{n}") for n in range(5)]
        assert during == [503] * 5
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200
        admin = {"Authorization": f"Bearer {tenant.admin_api_key}"}
        assert (await client.get("/v1/admin/program", headers=admin)).status_code in (200, 503)
        server.restart()
        deadline = time.monotonic() + 30
        while (await client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, "the service did not recover by itself"
            await asyncio.sleep(0.2)
        results = {f"after-{n}": await hook(f"after-{n}") for n in range(5)}
        acknowledged |= {tx for tx, status in results.items() if status == 200}
        assert results["after-4"] == 200

    conn = await connect(server.dsn())
    try:
        stored = {
            r["transaction_id"] for r in await conn.fetch("SELECT transaction_id FROM transactions")
        }
        assert stored == acknowledged  # every acknowledged award is there, nothing else
        await check_ledger(conn)
    finally:
        await conn.close()
