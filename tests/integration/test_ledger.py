"""The ledger: immutable transfers, adjustments, expiry, and a liability that reconciles."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import pytest

from rewards.housekeeping.service import run as expire_all
from tests.dates import NOW, days_ago, iso, month_start, utc_z
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_points_hook import FUEL_3X, setup


def tenth_of(months: int) -> datetime:
    """10:00 program time on the 10th of the month ``months`` from now."""
    return month_start(months) + timedelta(days=9, hours=10)


async def test_the_database_refuses_to_change_or_delete_transfers(tenant: Tenant, conn) -> None:
    await setup(tenant)
    await tenant.hook(purchase())
    with pytest.raises(asyncpg.RestrictViolationError):
        await conn.execute("UPDATE transfers SET amount = amount + 1")
    with pytest.raises(asyncpg.RestrictViolationError):
        await conn.execute("DELETE FROM transfers")
    with pytest.raises(asyncpg.RestrictViolationError):
        await conn.execute("TRUNCATE transfers")


async def test_adjustments_credit_debit_and_are_audited(tenant: Tenant, conn) -> None:
    await setup(tenant)
    await tenant.hook(purchase(mcc="5812"))  # 350
    up = await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        json={"points": 50, "reason": "goodwill"},
        headers=tenant.admin,
    )
    assert up.status_code == 201
    assert up.json()["balance"] == {"available": 400, "pending": 0}
    too_much = await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        json={"points": -401, "reason": "x"},
        headers=tenant.admin,
    )
    assert too_much.status_code == 409
    assert too_much.json()["type"] == "insufficient_points"
    down = await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        json={"points": -400, "reason": "fraud"},
        headers=tenant.admin,
    )
    assert down.json()["balance"]["available"] == 0
    for bad in ({"points": 0, "reason": "x"}, {"points": 5}, {"points": 5, "reason": ""}):
        response = await tenant.client.post(
            "/v1/admin/members/m-1/adjustments", json=bad, headers=tenant.admin
        )
        assert response.status_code == 422
    missing = await tenant.client.post(
        "/v1/admin/members/nobody/adjustments",
        json={"points": 5, "reason": "x"},
        headers=tenant.admin,
    )
    assert missing.status_code == 404
    log = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()["items"]
    adjustments = [e for e in log if e["action"] == "member.adjust"]
    assert [e["after"]["points"] for e in adjustments] == [-400, 50]
    assert adjustments[0]["before"] == {"balance": 400}
    await check_ledger(conn)


async def test_points_expire_at_the_end_of_the_month_oldest_first(tenant: Tenant, conn) -> None:
    await setup(tenant, {"expiry_months": 1})
    # Earned on the 10th three and two months ago: they expire at the end of the next month.
    await tenant.hook(purchase("p1", mcc="5812", occurred_at=iso(tenth_of(-3))))
    await tenant.hook(purchase("p2", mcc="5812", occurred_at=iso(tenth_of(-2))))
    balance = (await tenant.client.get("/v1/me/balance", headers=tenant.member("m-1"))).json()
    assert balance["expiring"] == [
        {"points": 350, "expires_at": utc_z(month_start(-1))},
        {"points": 350, "expires_at": utc_z(month_start(0))},
    ]
    between = month_start(-1) + timedelta(days=21)
    done = await expire_all(conn, between)
    assert done == {tenant.id: 350}
    assert await conn.fetchval("SELECT points_balance FROM members") == 350
    assert await expire_all(conn, between) == {}
    after = month_start(0) + timedelta(hours=8)
    assert await expire_all(conn, after) == {tenant.id: 350}
    items = (await tenant.client.get("/v1/me/activity", headers=tenant.member("m-1"))).json()[
        "items"
    ]
    assert [i["kind"] for i in items[:2]] == ["expiry", "expiry"]
    await check_ledger(conn)


async def test_spending_takes_the_soonest_to_expire_first(tenant: Tenant, conn) -> None:
    await setup(tenant, {"expiry_months": 1})
    await tenant.hook(purchase("p1", mcc="5812", occurred_at=iso(tenth_of(-2))))
    await tenant.hook(purchase("p2", mcc="5812", occurred_at=iso(tenth_of(-3))))
    await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        json={"points": -300, "reason": "spend"},
        headers=tenant.admin,
    )
    remaining = await conn.fetch("SELECT expires_at, remaining FROM lots ORDER BY expires_at")
    assert [r["remaining"] for r in remaining] == [50, 350]


async def test_the_liability_report_reconciles_with_the_ledger(tenant: Tenant, conn) -> None:
    await setup(tenant, None, FUEL_3X)
    await tenant.hook(purchase("p1"))
    await tenant.hook(purchase("p2", "m-2", mcc="5812"))
    await tenant.hook(purchase("r1", kind="refund", original_id="p1", amount_minor=10000))
    await tenant.client.post(
        "/v1/admin/members/m-2/adjustments",
        json={"points": -50, "reason": "x"},
        headers=tenant.admin,
    )
    report = (await tenant.client.get("/v1/admin/reports/liability", headers=tenant.admin)).json()
    assert report["reconciled"] is True
    assert report["outstanding"] == report["ledger_outstanding"] == 525 - 150 + 350 - 50
    (day,) = report["days"]
    assert day["issued"] - day["clawed_back"] - day["adjusted_down"] == report["outstanding"]
    bad = await tenant.client.get(
        "/v1/admin/reports/liability",
        params={"from": iso(NOW.date()), "to": iso(days_ago(30).date())},
        headers=tenant.admin,
    )
    assert bad.status_code == 422
    await check_ledger(conn)


async def test_the_service_expires_points_by_itself(database: str, conn) -> None:
    """The in-process job runs on its interval in whichever worker gets the lock."""
    import asyncio

    from api.app import create_app
    from api.settings import Settings
    from rewards.tenants.service import create_tenant
    from tests.integration.conftest import Tenant
    from tests.integration.http import AppClient

    app = create_app(Settings(database_url=database, access_log=False, expiry_interval_seconds=0.2))
    async with AppClient(app) as client:
        async with conn.transaction():
            tenant = Tenant(client, await create_tenant(conn, "Bank E"))
        await setup(tenant, {"expiry_months": 1})
        await tenant.hook(purchase("p1", mcc="5812", occurred_at=iso(tenth_of(-11))))
        for _ in range(50):
            if await conn.fetchval("SELECT count(*) FROM transfers WHERE kind = 'expiry'"):
                break
            await asyncio.sleep(0.1)
    assert await conn.fetchval("SELECT points_balance FROM members") == 0
    await check_ledger(conn)
