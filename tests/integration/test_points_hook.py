"""The hook earns base, rule and draw points through the ledger."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tests.dates import PURCHASE_AT, iso
from tests.integration.conftest import Tenant, count_rows, purchase
from tests.integration.invariants import check_ledger

PROGRAM = {
    "currency": "CNY",
    "time_zone": "Asia/Shanghai",
    "base_rate": "1",
    "mcc_rates": {"5541": "0.5"},
    "excluded_mccs": ["6011"],
    "expiry_months": 24,
    "pending_days": 0,
    "refund_policy": "allow_negative",
}

FUEL_3X = {
    "id": "fuel-3x",
    "name": "3x fuel for car owners",
    "effect": {"kind": "multiplier", "value": "3"},
    "conditions": {"mcc_in": ["5541"], "card_product_in": ["car-owner"]},
}


async def setup(
    tenant: Tenant, program: dict[str, Any] | None = None, *rules: dict[str, Any]
) -> None:
    response = await tenant.client.put(
        "/v1/admin/program", json=PROGRAM | (program or {}), headers=tenant.admin
    )
    assert response.status_code == 200, response.text
    for rule in rules:
        response = await tenant.client.post("/v1/admin/earn-rules", json=rule, headers=tenant.admin)
        assert response.status_code == 201, response.text


async def test_a_fuel_purchase_earns_base_and_the_fuel_rule(tenant: Tenant, conn) -> None:
    await setup(tenant, None, FUEL_3X)
    body = (await tenant.hook(purchase())).json()
    assert body["points"] == {
        "base": 175,
        "rules": 350,
        "draw": 0,
        "offers": 0,
        "referral": 0,
        "capped": 0,
        "withheld": 0,
        "held": 0,
        "total": 525,
    }
    assert body["rules_applied"] == [{"rule_id": "fuel-3x", "points": 350}]
    assert body["draw"] is None
    assert body["balance"] == {"available": 525, "pending": 0}
    await check_ledger(conn)


async def test_an_excluded_mcc_earns_nothing(tenant: Tenant, conn) -> None:
    await setup(tenant, None, {**FUEL_3X, "conditions": {}})
    body = (await tenant.hook(purchase(mcc="6011"))).json()
    assert body["points"]["total"] == 0
    assert await count_rows(conn, "transfers") == 0


async def test_a_rule_created_later_applies_to_later_transactions(tenant: Tenant) -> None:
    await setup(tenant)
    assert (await tenant.hook(purchase("t1"))).json()["points"]["rules"] == 0
    await tenant.client.post("/v1/admin/earn-rules", json=FUEL_3X, headers=tenant.admin)
    assert (await tenant.hook(purchase("t2"))).json()["points"]["rules"] == 350
    await tenant.client.patch(
        "/v1/admin/earn-rules/fuel-3x", json={"active": False}, headers=tenant.admin
    )
    assert (await tenant.hook(purchase("t3"))).json()["points"]["rules"] == 0


async def test_a_daily_cap_partly_used_pays_what_is_left(tenant: Tenant, conn) -> None:
    capped = {**FUEL_3X, "caps": {"per_member_per_day": 500}}
    await setup(tenant, None, capped)
    got = [(await tenant.hook(purchase(f"t{n}"))).json()["points"]["rules"] for n in range(3)]
    assert got == [350, 150, 0]
    # Another day, another allowance.
    other_day = purchase("t9", occurred_at=iso(PURCHASE_AT + timedelta(days=1)))
    assert (await tenant.hook(other_day)).json()["points"]["rules"] == 350
    await check_ledger(conn)


async def test_a_rule_budget_is_never_exceeded_by_concurrent_hooks(tenant: Tenant, conn) -> None:
    await setup(tenant, None, {**FUEL_3X, "caps": {"budget_points": 5000}})
    responses = await asyncio.gather(*(tenant.hook(purchase(f"t{n}", f"m-{n}")) for n in range(40)))
    assert {r.status_code for r in responses} == {200}
    paid = sum(r.json()["points"]["rules"] for r in responses)
    assert paid == 5000  # 14 × 350 + 100: spent to the last point
    assert await conn.fetchval("SELECT budget_used FROM earn_rules") == 5000
    await check_ledger(conn)


async def test_a_purchase_in_another_currency_is_refused(tenant: Tenant, conn) -> None:
    await setup(tenant)
    response = await tenant.hook(purchase(currency="USD"))
    assert response.status_code == 422
    assert await count_rows(conn, "transactions") == 0


async def test_pending_points_are_not_available_yet(tenant: Tenant, conn) -> None:
    await setup(tenant, {"pending_days": 7})
    body = (await tenant.hook(purchase(mcc="5812"))).json()
    assert body["balance"] == {"available": 0, "pending": 350}
    balance = (await tenant.client.get("/v1/me/balance", headers=tenant.member("m-1"))).json()
    assert balance["pending"] == 350
    assert balance["available"] == 0
    assert balance["lifetime_earned"] == 350
    await check_ledger(conn)


async def test_twenty_concurrent_copies_award_once(tenant: Tenant, conn) -> None:
    await setup(tenant, None, FUEL_3X)
    responses = await asyncio.gather(*(tenant.hook(purchase()) for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    assert await conn.fetchval("SELECT points_balance FROM members") == 525
    assert await count_rows(conn, "transfers") == 1
    await check_ledger(conn)


async def test_simulate_answers_like_the_hook_and_writes_nothing(tenant: Tenant, conn) -> None:
    await setup(tenant, None, FUEL_3X)
    simulated = await tenant.client.post(
        "/v1/admin/transactions/simulate", json=purchase(), headers=tenant.admin
    )
    assert simulated.status_code == 200
    assert simulated.json()["points"]["total"] == 525
    for table in ("transactions", "transfers", "lots", "members"):
        assert await count_rows(conn, table) == 0, table
    assert (await tenant.hook(purchase())).json() == simulated.json()


async def test_activity_shows_each_movement_with_its_cause(tenant: Tenant) -> None:
    await setup(tenant, None, FUEL_3X)
    await tenant.hook(purchase("t1"))
    await tenant.hook(
        {**purchase("r1"), "kind": "refund", "original_id": "t1", "amount_minor": 3500}
    )
    await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        json={"points": 10, "reason": "sorry"},
        headers=tenant.admin,
    )
    items = (await tenant.client.get("/v1/me/activity", headers=tenant.member("m-1"))).json()[
        "items"
    ]
    assert [(i["kind"], i["points"], i["transaction_id"]) for i in items] == [
        ("adjustment", 10, None),
        ("clawback", -52, "r1"),
        ("earn", 525, "t1"),
    ]
    assert items[2]["cause"] == {"base": 175, "rules": {"fuel-3x": 350}}
    assert items[0]["cause"]["reason"] == "sorry"


@pytest.mark.parametrize("size", [1000])
async def test_a_batch_of_1000_answers_each_in_order(tenant: Tenant, conn, size: int) -> None:
    await setup(tenant, None, FUEL_3X)
    items: list[Any] = [purchase(f"b{n}", f"m-{n % 50}") for n in range(size)]
    items[3] = purchase("bad", amount_minor=-5)
    items[7] = {**purchase("orphan"), "kind": "refund", "original_id": "nope", "amount_minor": 1}
    items[9] = dict(items[8])  # the same id and body as item 8: a repeat
    response = await tenant.hook_batch(items)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == size
    assert results[3]["status"] == 422
    assert results[3]["errors"][0]["field"] == "transactions[3].amount_minor"
    assert results[7]["type"] == "unknown_original"
    assert results[9] == results[8]
    assert results[0]["points"]["total"] == 525
    assert await count_rows(conn, "transactions") == size - 3
    assert await conn.fetchval("SELECT sum(points_balance) FROM members") == 525 * (size - 3)
    await check_ledger(conn)
    # Posting the batch again answers the same and awards nothing more.
    again = (await tenant.hook_batch(items)).json()["results"]
    assert again[0] == results[0]
    assert await conn.fetchval("SELECT sum(points_balance) FROM members") == 525 * (size - 3)
