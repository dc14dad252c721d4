"""Reads from a streaming replica: served there when it has caught up, never missing the
caller's own writes, and /readyz reporting the replica's lag."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import asyncpg
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.conftest import with_database
from tests.dates import days_ago, iso
from tests.integration.conftest import Tenant, purchase
from tests.integration.replica import Replica
from tests.integration.test_offers import FUEL_12, shell
from tests.integration.test_points_hook import setup

#: The replica applies each commit a second late: long enough that a read which does not
#: wait for the primary's position would miss a write made just before it.
APPLY_DELAY_MS = 1000


@pytest.fixture(scope="module")
def replica(pg_server: str) -> Iterator[Replica]:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the replica is copied from the embedded test server")
    standby = Replica(pg_server, APPLY_DELAY_MS)
    try:
        yield standby
    finally:
        standby.remove()


async def _reached(url: str) -> None:
    """Wait for the test's database (created on the primary) to exist on the replica."""
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = await asyncpg.connect(url)
            await conn.close()
            return
        except (OSError, asyncpg.PostgresError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


@pytest.fixture(params=[2000, 0], ids=["waits-for-replica", "falls-back-to-primary"])
async def app(database: str, replica: Replica, request: pytest.FixtureRequest) -> Litestar:
    replica_url = with_database(replica.url, urlsplit(database).path.lstrip("/"))
    await _reached(replica_url)
    return create_app(
        Settings(
            database_url=database,
            database_replica_url=replica_url,
            replica_wait_ms=request.param,
            pool_max_size=10,
            access_log=False,
        )
    )


async def _committed_on_replica(app: Litestar, transaction_id: str) -> bool:
    settings: Settings = app.state.settings
    assert settings.database_replica_url is not None
    conn = await asyncpg.connect(settings.database_replica_url)
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM transactions WHERE transaction_id = $1", transaction_id
        )
    finally:
        await conn.close()
    return bool(found)


async def test_a_member_never_sees_their_own_write_go_missing(tenant: Tenant) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12, approve=tenant)
    app = tenant.client.app
    wait = app.state.settings.replica_wait_ms
    for n in range(3):
        member = f"m-{n}"
        await tenant.client.put(
            f"/v1/admin/members/{member}",
            json={"card_products": ["car-owner"]},
            headers=tenant.admin,
        )
        paid = await tenant.hook(purchase(f"t-{n}", member, occurred_at=iso(days_ago(1))))
        assert paid.status_code == 200, paid.text
        # The replica has not applied it yet: a read there that did not wait would miss it.
        assert not await _committed_on_replica(app, f"t-{n}")
        before = dict(app.state.reads.served)
        activity = await tenant.client.get("/v1/me/activity", headers=tenant.member(member))
        assert activity.status_code == 200
        assert [m["transaction_id"] for m in activity.json()["items"]] == [f"t-{n}"]
        served = {k: app.state.reads.served[k] - before[k] for k in before}
        assert served == ({"replica": 1, "primary": 0} if wait else {"replica": 0, "primary": 1})
        # A claim, then the nearby list that shows it claimed.
        claimed = await tenant.client.post(
            "/v1/me/offers/fuel-12/claim", headers=tenant.member(member)
        )
        assert claimed.status_code == 200, claimed.text
        nearby = await tenant.client.get(
            "/v1/me/offers/nearby",
            params={"lat": 22.5431, "lng": 114.0579},
            headers=tenant.member(member),
        )
        assert [i["claimed"] for i in nearby.json()["items"]] == [True]


async def test_readyz_reports_the_replicas_lag_and_reads_survive_its_loss(
    tenant: Tenant, replica: Replica
) -> None:
    ready = await tenant.client.get("/readyz")
    assert ready.status_code == 200
    state = ready.json()["replica"]
    assert state["state"] == "streaming"
    assert state["lag_seconds"] >= 0
    assert state["lag_bytes"] >= 0
    await setup(tenant)
    replica.stop()
    try:
        gone = await tenant.client.get("/readyz")
        assert gone.status_code == 200
        assert gone.json()["replica"] == {
            "state": "unreachable",
            "lag_seconds": None,
            "lag_bytes": None,
        }
        paid = await tenant.hook(purchase("t-1", "m-1", occurred_at=iso(days_ago(1))))
        assert paid.status_code == 200
        activity = await tenant.client.get("/v1/me/activity", headers=tenant.member("m-1"))
        assert activity.status_code == 200
        assert len(activity.json()["items"]) == 1
    finally:
        replica.start()
