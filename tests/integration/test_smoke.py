"""The first calls a newcomer makes."""

from __future__ import annotations

from tests.integration.conftest import Tenant
from tests.integration.http import AppClient


async def test_health_and_readiness_answer(client: AppClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": True, "migrations_current": True}


async def test_admin_creates_and_lists_merchants(tenant: Tenant) -> None:
    key = await tenant.merchant("shell-futian", "Shell Futian")
    assert key.startswith("rmch.")
    listed = await tenant.client.get("/v1/admin/merchants", headers=tenant.admin)
    assert [m["id"] for m in listed.json()["items"]] == ["shell-futian"]
