"""Refunds claw back in proportion; reversals void; the refund policy decides the rest."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.integration.conftest import Tenant, count_rows, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_points_hook import FUEL_3X, setup


def refund(tx_id: str, original: str, amount: int, **fields: Any) -> dict[str, Any]:
    return purchase(tx_id, kind="refund", original_id=original, amount_minor=amount) | fields


async def balance(tenant: Tenant, member: str = "m-1") -> int:
    body = (await tenant.client.get(f"/v1/admin/members/{member}", headers=tenant.admin)).json()
    return int(body["balance"]["available"] + body["balance"]["pending"])


async def test_a_partial_refund_claws_back_in_proportion(tenant: Tenant, conn) -> None:
    await setup(tenant, None, FUEL_3X)
    await tenant.hook(purchase("p1"))  # 175 base + 350 rule
    body = (await tenant.hook(refund("r1", "p1", 10000))).json()  # 2/7 of the purchase
    assert body["points"] == {
        "base": -50,
        "rules": -100,
        "draw": 0,
        "offers": 0,
        "referral": 0,
        "capped": 0,
        "withheld": 0,
        "held": 0,
        "total": -150,
    }
    assert body["rules_applied"] == [{"rule_id": "fuel-3x", "points": -100}]
    assert body["original_id"] == "p1"
    assert await balance(tenant) == 375
    await check_ledger(conn)


async def test_partial_refunds_never_claw_back_more_than_was_awarded(tenant: Tenant, conn) -> None:
    await setup(tenant, None, FUEL_3X)
    await tenant.hook(purchase("p1", amount_minor=999))  # base 4, rule 8
    clawed = 0
    for n in range(9):
        body = (await tenant.hook(refund(f"r{n}", "p1", 111))).json()
        clawed += -body["points"]["total"]
        assert clawed <= 12
    assert clawed == 12  # all of it once everything is refunded
    over = await tenant.hook(refund("r-over", "p1", 1))
    assert over.status_code == 422
    assert over.json()["type"] == "refund_not_allowed"
    assert await balance(tenant) == 0
    await check_ledger(conn)


async def test_a_reversal_voids_what_is_left(tenant: Tenant, conn) -> None:
    await setup(tenant, None, FUEL_3X)
    await tenant.hook(purchase("p1"))
    await tenant.hook(refund("r1", "p1", 10000))
    body = (await tenant.hook(purchase("v1", kind="reversal", original_id="p1"))).json()
    assert body["points"]["total"] == -375
    assert await balance(tenant) == 0
    again = await tenant.hook(refund("r2", "p1", 1))
    assert again.status_code == 422
    await check_ledger(conn)


@pytest.mark.parametrize(
    ("body", "type_"),
    [
        (refund("r1", "no-such-purchase", 100), "unknown_original"),
        (purchase("r1", kind="refund", amount_minor=100), "validation_error"),
        (refund("r1", "p1", 100, member_id="m-other"), "refund_not_allowed"),
        (refund("r1", "p1", 35001), "refund_not_allowed"),
        (refund("r1", "p1", 0), "refund_not_allowed"),
    ],
)
async def test_a_refund_that_cannot_apply_is_a_clear_422_and_writes_nothing(
    tenant: Tenant, conn, body: dict[str, Any], type_: str
) -> None:
    await setup(tenant)
    await tenant.hook(purchase("p1"))
    before = {t: await count_rows(conn, t) for t in ("transactions", "transfers")}
    response = await tenant.hook(body)
    assert response.status_code == 422, response.text
    assert response.json()["type"] == type_
    assert {t: await count_rows(conn, t) for t in before} == before


async def test_a_refund_of_an_unknown_original_can_succeed_once_it_arrives(tenant: Tenant) -> None:
    await setup(tenant)
    assert (await tenant.hook(refund("r1", "p1", 100))).status_code == 422
    await tenant.hook(purchase("p1"))
    assert (await tenant.hook(refund("r1", "p1", 100))).status_code == 200


async def test_allow_negative_takes_spent_points_below_zero(tenant: Tenant, conn) -> None:
    await setup(tenant, {"refund_policy": "allow_negative"})
    await tenant.hook(purchase("p1", mcc="5812"))  # 350
    await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        json={"points": -300, "reason": "spent"},
        headers=tenant.admin,
    )
    body = (await tenant.hook(purchase("v1", kind="reversal", original_id="p1"))).json()
    assert body["points"]["total"] == -350
    assert await balance(tenant) == -300
    # The debt is repaid from the next earnings.
    await tenant.hook(purchase("p2", mcc="5812", amount_minor=40000))
    assert await balance(tenant) == 100
    await check_ledger(conn)


async def test_within_balance_claws_back_only_what_is_there(tenant: Tenant, conn) -> None:
    await setup(tenant, {"refund_policy": "within_balance"})
    await tenant.hook(purchase("p1", mcc="5812"))
    await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        json={"points": -300, "reason": "spent"},
        headers=tenant.admin,
    )
    body = (await tenant.hook(purchase("v1", kind="reversal", original_id="p1"))).json()
    assert body["points"]["total"] == -50
    assert body["forgiven"] == 300
    assert await balance(tenant) == 0
    await check_ledger(conn)


async def test_concurrent_refunds_of_one_purchase_never_exceed_it(tenant: Tenant, conn) -> None:
    await setup(tenant, None, FUEL_3X)
    await tenant.hook(purchase("p1"))
    responses = await asyncio.gather(*(tenant.hook(refund(f"r{n}", "p1", 5000)) for n in range(20)))
    ok = [r for r in responses if r.status_code == 200]
    assert len(ok) == 7  # 7 × 50.00 = 350.00, the whole purchase
    assert {r.status_code for r in responses} == {200, 422}
    assert sum(r.json()["points"]["total"] for r in ok) == -525
    assert (
        await conn.fetchval("SELECT refunded_minor FROM transactions WHERE transaction_id = 'p1'")
        == 35000
    )
    await check_ledger(conn)


async def test_a_purchase_and_its_refunds_in_one_batch_leave_only_the_rest_to_refund(
    tenant: Tenant, conn
) -> None:
    # Gathered single hooks or one batch call: a purchase and refunds of it written together.
    await setup(tenant, None, FUEL_3X)
    batch = await tenant.hook_batch(
        [purchase("p1"), refund("r1", "p1", 10000), refund("r2", "p1", 20000)]
    )
    assert [r["points"]["total"] for r in batch.json()["results"]] == [525, -150, -300]
    assert (
        await conn.fetchval("SELECT refunded_minor FROM transactions WHERE transaction_id = 'p1'")
        == 30000
    )
    over = await tenant.hook(refund("r3", "p1", 5001))
    assert over.status_code == 422
    assert over.json()["type"] == "refund_not_allowed"
    rest = await tenant.hook(refund("r4", "p1", 5000))
    assert rest.json()["points"]["total"] == -75
    assert await balance(tenant) == 0
    await check_ledger(conn)


async def test_a_refund_releases_the_rule_budget_and_caps(tenant: Tenant, conn) -> None:
    await setup(
        tenant, None, {**FUEL_3X, "caps": {"budget_points": 350, "per_member_per_day": 350}}
    )
    await tenant.hook(purchase("p1"))
    assert (await tenant.hook(purchase("p2"))).json()["points"]["rules"] == 0
    await tenant.hook(purchase("v1", kind="reversal", original_id="p1"))
    assert await conn.fetchval("SELECT budget_used FROM earn_rules") == 0
    assert (await tenant.hook(purchase("p3"))).json()["points"]["rules"] == 350
    await check_ledger(conn)
