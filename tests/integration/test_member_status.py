"""A member's status: a suspended (or closed) member's purchases are recorded and earn
nothing, their claims and redemptions are refused, closing forfeits the available points,
reinstating earns again, refunds take back nothing that was not paid, replays give what
the hook gave, and a suspension in the middle of concurrent purchases splits them cleanly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.integration.bulk import segment_members, wait_job
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_catalog import item, redeem
from tests.integration.test_offers import FUEL_12, claim, shell
from tests.integration.test_points_hook import FUEL_3X, setup


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(Settings(database_url=database, access_log=False, job_poll_seconds=0.1))


async def set_status(tenant: Tenant, member: str, status: str) -> dict[str, Any]:
    put = await tenant.client.put(
        f"/v1/admin/members/{member}",
        json={"status": status, "card_products": ["car-owner"]},
        headers=tenant.admin,
    )
    assert put.status_code == 200, put.text
    body: dict[str, Any] = put.json()
    return body


async def balance(tenant: Tenant, member: str) -> dict[str, int]:
    found = await tenant.client.get(f"/v1/admin/members/{member}", headers=tenant.admin)
    result: dict[str, int] = found.json()["balance"]
    return result


async def test_a_suspended_member_earns_nothing_until_reinstated(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, None, FUEL_3X)
    earned = (await tenant.hook(purchase("t-active", "m-1"))).json()
    assert earned["points"]["total"] > earned["points"]["base"] > 0  # base and the 3x rule
    assert earned["points"]["withheld"] == 0
    before = await balance(tenant, "m-1")

    assert (await set_status(tenant, "m-1", "suspended"))["status"] == "suspended"
    withheld = (await tenant.hook(purchase("t-suspended", "m-1"))).json()
    assert withheld["points"] == {
        "base": 0,
        "rules": 0,
        "draw": 0,
        "offers": 0,
        "total": 0,
        "referral": 0,
        "capped": 0,
        "withheld": earned["points"]["base"],
        "held": 0,
    }
    assert withheld["rules_applied"] == []
    assert withheld["draw"] is None
    assert await balance(tenant, "m-1") == before
    # The same delivery again answers the same (it is recorded).
    again = (await tenant.hook(purchase("t-suspended", "m-1"))).json()
    assert again == withheld
    explained = await tenant.client.get(
        "/v1/admin/transactions/t-suspended/explanation", headers=tenant.admin
    )
    assert explained.status_code == 200, explained.text
    assert explained.json()["caps"][0]["cap"] == "member_status"

    # A refund of the suspended purchase takes back nothing; reinstated, the member earns.
    refund = await tenant.hook(
        {
            "id": "rf-suspended",
            "kind": "refund",
            "member_id": "m-1",
            "original_id": "t-suspended",
            "amount_minor": 35000,
            "currency": "CNY",
            "occurred_at": purchase()["occurred_at"],
        }
    )
    assert refund.status_code == 200, refund.text
    assert refund.json()["points"]["total"] == 0
    assert await balance(tenant, "m-1") == before
    await set_status(tenant, "m-1", "active")
    back = (await tenant.hook(purchase("t-back", "m-1"))).json()
    assert back["points"]["total"] == earned["points"]["total"]
    await check_ledger(conn)


async def test_a_suspended_member_cannot_claim_or_redeem(tenant: Tenant) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12, approve=tenant)
    await item(tenant, stock=5)
    assert (await tenant.hook(purchase("t-1", "m-1", mcc="5812"))).status_code == 200
    await set_status(tenant, "m-1", "suspended")
    refused = await claim(tenant, "m-1", FUEL_12["id"])
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "member_suspended"
    redeemed = await redeem(tenant, "m-1")
    assert redeemed.status_code == 403, redeemed.text
    assert redeemed.json()["type"] == "member_suspended"
    listed = await tenant.client.get("/v1/me/catalog", headers=tenant.member("m-1"))
    assert {i["reason"] for i in listed.json()["items"]} == {"member_suspended"}
    await set_status(tenant, "m-1", "active")
    assert (await claim(tenant, "m-1", FUEL_12["id"])).status_code in (200, 201)


async def test_closing_forfeits_the_available_points(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant)
    assert (await tenant.hook(purchase("t-1", "m-1", mcc="5812"))).status_code == 200
    held = (await balance(tenant, "m-1"))["available"]
    assert held > 0
    closed = await set_status(tenant, "m-1", "closed")
    assert closed["status"] == "closed"
    assert (await balance(tenant, "m-1"))["available"] == 0
    forfeited = await conn.fetchval(
        "SELECT sum(amount) FROM transfers WHERE tenant_id = $1 AND credit_account = 'forfeited'",
        tenant.id,
    )
    assert forfeited == held
    # A closed member's purchase is recorded and earns nothing; closing again forfeits nothing.
    assert (await tenant.hook(purchase("t-2", "m-1", mcc="5812"))).json()["points"]["total"] == 0
    await set_status(tenant, "m-1", "closed")
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM transfers WHERE tenant_id = $1 AND kind = 'forfeit'", tenant.id
        )
        == 1
    )
    actions = [
        e["action"]
        for e in (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()[
            "items"
        ]
    ]
    assert "member.forfeit" in actions
    await check_ledger(conn)


async def test_a_suspension_amid_concurrent_purchases_splits_them_cleanly(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant)
    await tenant.hook(purchase("t-first", "m-1", mcc="5812"))
    per_purchase = (await tenant.hook(purchase("t-second", "m-1", mcc="5812"))).json()["points"]
    start = (await balance(tenant, "m-1"))["available"]

    async def buy(n: int) -> dict[str, Any]:
        sent = await tenant.hook(purchase(f"c-{n}", "m-1", mcc="5812"))
        assert sent.status_code == 200, sent.text
        result: dict[str, Any] = sent.json()
        return result

    # Purchases keep arriving while the operator suspends the member halfway through.
    buying, suspending = [], None
    for n in range(40):
        buying.append(asyncio.create_task(buy(n)))
        if n == 20:
            suspending = asyncio.create_task(set_status(tenant, "m-1", "suspended"))
        await asyncio.sleep(0.01)
    answers = await asyncio.gather(*buying)
    assert suspending is not None
    await suspending
    earned = [a for a in answers if a["points"]["total"]]
    withheld = [a for a in answers if a["points"]["withheld"]]
    assert len(earned) + len(withheld) == 40, (len(earned), len(withheld))
    assert earned, "every purchase came after the suspension"
    assert withheld, "every purchase came before the suspension"
    assert all(a["points"]["total"] == per_purchase["total"] for a in earned)
    assert all(a["points"]["withheld"] == per_purchase["base"] for a in withheld)
    assert (await balance(tenant, "m-1"))["available"] == start + sum(
        a["points"]["total"] for a in earned
    )
    await check_ledger(conn)


async def test_a_replay_gives_what_the_hook_gave_across_a_suspension(tenant: Tenant) -> None:
    await setup(tenant, None, FUEL_3X)
    opens = datetime.now(UTC) - timedelta(seconds=1)
    for n in range(5):
        assert (await tenant.hook(purchase(f"a-{n}", f"m-{n % 2}"))).status_code == 200
    await set_status(tenant, "m-0", "suspended")
    for n in range(5):
        assert (await tenant.hook(purchase(f"s-{n}", f"m-{n % 2}"))).status_code == 200
    await set_status(tenant, "m-0", "active")
    for n in range(5):
        assert (await tenant.hook(purchase(f"b-{n}", f"m-{n % 2}"))).status_code == 200
    started = await tenant.client.post(
        "/v1/admin/replays",
        headers=tenant.admin,
        json={
            "from": opens.isoformat(),
            "to": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
            "draft": {},
        },
    )
    assert started.status_code == 202, started.text
    replay_id = started.json()["id"]
    for _ in range(300):
        found = (
            await tenant.client.get(f"/v1/admin/replays/{replay_id}", headers=tenant.admin)
        ).json()
        if found["status"] not in ("queued", "running"):
            break
        await asyncio.sleep(0.1)
    assert found["status"] == "done", found
    assert found["fidelity"]["baseline_equals_ledger"], found["fidelity"]
    assert found["transactions"] == 15


async def test_a_segment_job_suspends_closes_and_reinstates_its_members(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, None, FUEL_3X)
    for n in range(5):
        assert (await tenant.hook(purchase(f"t-{n}", f"d-{n}"))).status_code == 200
    earned = (await balance(tenant, "d-0"))["available"]
    assert earned > 0
    await tenant.client.put(
        "/v1/admin/segments/overdue", json={"name": "M3+"}, headers=tenant.admin
    )
    await segment_members(tenant, "overdue", ["d-0", "d-1", "d-2", "nobody"])

    async def status_job(status: str) -> dict[str, Any]:
        started = await tenant.client.post(
            "/v1/admin/segments/overdue/status", json={"status": status}, headers=tenant.admin
        )
        assert started.status_code == 202, started.text
        return await wait_job(tenant, started.json()["job_id"])

    suspended = await status_job("suspended")
    assert suspended["status"] == "done", suspended
    # "nobody" never bought: not a member, nothing to change.
    assert suspended["counts"] == {"changed": 3, "unchanged": 1, "forfeited": 0}
    withheld = (await tenant.hook(purchase("s-0", "d-0"))).json()
    assert withheld["points"]["total"] == 0
    assert withheld["points"]["withheld"] > 0
    outside = (await tenant.hook(purchase("s-3", "d-3"))).json()
    assert outside["points"]["total"] > 0
    closed = await status_job("closed")
    assert closed["counts"] == {"changed": 3, "unchanged": 1, "forfeited": 3 * earned}
    assert (await balance(tenant, "d-1"))["available"] == 0
    again = await status_job("closed")
    assert again["counts"] == {"changed": 0, "unchanged": 4, "forfeited": 0}
    assert (await status_job("active"))["counts"]["changed"] == 3
    assert (await tenant.hook(purchase("a-0", "d-0"))).json()["points"]["total"] > 0
    bad = await tenant.client.post(
        "/v1/admin/segments/overdue/status", json={"status": "frozen"}, headers=tenant.admin
    )
    assert bad.status_code == 422
    missing = await tenant.client.post(
        "/v1/admin/segments/nope/status", json={"status": "closed"}, headers=tenant.admin
    )
    assert missing.status_code == 404
    await check_ledger(conn)
