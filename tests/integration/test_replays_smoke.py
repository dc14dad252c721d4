from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.integration.conftest import Tenant, purchase


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(Settings(database_url=database, access_log=False, job_poll_seconds=0.1))


async def test_smoke(tenant: Tenant, conn: asyncpg.Connection) -> None:
    c = tenant.client
    r = await c.post(
        "/v1/admin/earn-rules",
        headers=tenant.admin,
        json={
            "id": "fuel",
            "name": "Fuel 2x",
            "effect": {"kind": "multiplier", "value": "2"},
            "conditions": {"mcc_in": ["5541"]},
            "caps": {"budget_points": 1000},
        },
    )
    assert r.status_code == 201, r.text
    start = datetime.now(UTC) - timedelta(seconds=1)
    for n in range(30):
        r = await tenant.hook(purchase(f"t-{n}", f"m-{n % 7}"))
        assert r.status_code == 200, r.text
    r = await tenant.hook(
        {
            "id": "rf-1",
            "kind": "refund",
            "member_id": "m-0",
            "original_id": "t-0",
            "amount_minor": 10000,
            "currency": "CNY",
            "occurred_at": purchase()["occurred_at"],
        }
    )
    assert r.status_code == 200, r.text
    r = await c.post(
        "/v1/admin/replays",
        headers=tenant.admin,
        json={
            "from": start.isoformat(),
            "to": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
            "draft": {
                "earn_rules": {
                    "upsert": [
                        {
                            "id": "fuel",
                            "name": "Fuel 3x",
                            "effect": {"kind": "multiplier", "value": "3"},
                            "conditions": {"mcc_in": ["5541"]},
                            "caps": {"budget_points": 5000},
                        }
                    ]
                }
            },
        },
    )
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    for _ in range(100):
        r = await c.get(f"/v1/admin/replays/{rid}", headers=tenant.admin)
        if r.json()["status"] not in ("queued", "running"):
            break
        await asyncio.sleep(0.1)
    print(r.json())
    assert r.json()["status"] == "done", r.text
    assert r.json()["fidelity"]["baseline_equals_ledger"], r.text
    r = await c.get("/v1/admin/transactions/t-3/explanation", headers=tenant.admin)
    print(r.json())
    assert r.status_code == 200
    r = await c.get("/v1/me/activity/t-3/explanation", headers=tenant.member("m-3"))
    print(r.json())
    assert r.status_code == 200
    r = await c.get(f"/v1/admin/replays/{rid}/transactions/t-3", headers=tenant.admin)
    print(r.json())
    assert r.status_code == 200
