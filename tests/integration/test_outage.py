"""A database outage: 503 with Retry-After (never a 500) while it lasts, /healthz still up,
and the service recovering by itself when the database is back — no restart, nothing lost."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest

from api.app import create_app
from api.settings import Settings
from db.embedded import EmbeddedPostgres
from db.pool import connect, ensure_database
from rewards.core.credentials import encode_member_token, hook_signature
from rewards.tenants.service import NewTenant, create_tenant
from tests.integration.conftest import purchase
from tests.integration.http import AppClient
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


async def _signed_purchase(client: AppClient, tenant: NewTenant, tx_id: str) -> httpx.Response:
    body = msgspec.json.encode(purchase(tx_id, mcc="5812"))
    headers = {
        "Content-Type": "application/json",
        "X-Rewards-Tenant": tenant.tenant_id,
        "X-Rewards-Signature": hook_signature(tenant.hook_secret, int(time.time()), body),
    }
    return await client.post("/v1/hooks/transactions", content=body, headers=headers)


async def test_an_outage_answers_503_and_the_service_recovers_by_itself(
    server: EmbeddedPostgres,
) -> None:
    app = create_app(
        Settings(database_url=server.dsn(), pool_min_size=2, pool_max_size=4, access_log=False)
    )
    async with AppClient(app) as client:
        conn = await connect(server.dsn())
        async with conn.transaction():
            tenant = await create_tenant(conn, "Outage Bank")
        await conn.close()

        async def hook(tx_id: str) -> int:
            response = await _signed_purchase(client, tenant, tx_id)
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


async def test_an_outage_under_concurrent_load_loses_no_acknowledged_award(
    server: EmbeddedPostgres,
) -> None:
    """Sixteen callers send hooks and read balances without pause while PostgreSQL stops
    and starts again: every answer is a 200 or a 503, every acknowledged award is stored once,
    and each refused one is awarded once when its caller sends it again."""
    app = create_app(
        Settings(database_url=server.dsn(), pool_min_size=4, pool_max_size=8, access_log=False)
    )
    statuses: dict[int, int] = {}
    answered: dict[str, int] = {}
    async with AppClient(app) as client:
        conn = await connect(server.dsn())
        async with conn.transaction():
            tenant = await create_tenant(conn, "Outage Bank")
        await conn.close()
        member = {
            "Authorization": "Bearer "
            + encode_member_token(
                tenant.member_token_secret,
                sub="m-1",
                tid=tenant.tenant_id,
                exp=int(time.time()) + 3600,
            )
        }

        async def hook(tx_id: str) -> int:
            response = await _signed_purchase(client, tenant, tx_id)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 503:
                assert response.headers["retry-after"] == "1"
            return response.status_code

        stop = asyncio.Event()

        async def caller(n: int) -> None:
            sent = 0
            while not stop.is_set():
                tx_id = f"c{n}-{sent}"
                answered[tx_id] = await hook(tx_id)
                sent += 1
                if answered[tx_id] == 503:
                    # As a client that honours Retry-After, if briefly: a refusal that needs
                    # no I/O completes without yielding, and would starve the other callers.
                    await asyncio.sleep(0.05)
                balance = await client.get("/v1/me/balance", headers=member)
                statuses[balance.status_code] = statuses.get(balance.status_code, 0) + 1

        answered["seed"] = await hook("seed")  # the member whose balance the callers read
        assert answered["seed"] == 200
        callers = [asyncio.create_task(caller(n)) for n in range(16)]
        await asyncio.sleep(1.5)
        await asyncio.to_thread(server.halt)
        await asyncio.sleep(2)
        await asyncio.to_thread(server.restart)
        deadline = time.monotonic() + 30
        while (await client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, "the service did not recover by itself"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.gather(*callers)
        assert set(statuses) <= {200, 503}, statuses
        assert statuses.get(503, 0) > 0, statuses  # the outage was seen under load
        refused = sorted(tx for tx, status in answered.items() if status == 503)
        retried = {tx: await hook(tx) for tx in refused}
        assert set(retried.values()) == {200}, retried

    conn = await connect(server.dsn())
    try:
        stored = [
            r["transaction_id"] for r in await conn.fetch("SELECT transaction_id FROM transactions")
        ]
        assert len(stored) == len(set(stored))  # none applied twice
        assert set(stored) == set(answered)  # every award sent is there once, nothing else
        await check_ledger(conn)
    finally:
        await conn.close()
    print(f"outage under load: {len(answered)} hooks sent, statuses {statuses}")
