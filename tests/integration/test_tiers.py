"""Tiers follow the member's card spend over the last 12 months."""

from __future__ import annotations

from datetime import timedelta

from rewards.ledger.service import recompute_tiers
from tests.dates import PURCHASE_AT, month_start
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_points_hook import setup

TIERS = {
    "tiers": [
        {"name": "silver", "min_spend_minor_12m": 100000},
        {"name": "gold", "min_spend_minor_12m": 300000},
    ]
}
GOLD_DINING = {
    "id": "gold-dining",
    "name": "gold members earn double",
    "effect": {"kind": "multiplier", "value": "2"},
    "conditions": {"tier_in": ["gold"]},
}


async def tier(tenant: Tenant, member: str = "m-1") -> str | None:
    body = (await tenant.client.get(f"/v1/admin/members/{member}", headers=tenant.admin)).json()
    value: str | None = body["tier"]
    return value


async def test_spend_moves_members_up_and_refunds_move_them_down(tenant: Tenant, conn) -> None:
    await setup(tenant, TIERS, GOLD_DINING)
    await tenant.hook(purchase("p1", mcc="5812", amount_minor=150000))
    assert await tier(tenant) == "silver"
    second = (await tenant.hook(purchase("p2", mcc="5812", amount_minor=150000))).json()
    assert second["points"]["rules"] == 0  # gold counts from the next purchase on
    assert await tier(tenant) == "gold"
    third = (await tenant.hook(purchase("p3", mcc="5812", amount_minor=10000))).json()
    assert third["rules_applied"] == [{"rule_id": "gold-dining", "points": 100}]
    await tenant.hook(purchase("r1", kind="refund", original_id="p2", amount_minor=100000))
    assert await tier(tenant) == "silver"
    await check_ledger(conn)


async def test_spend_that_leaves_the_window_lowers_the_tier(tenant: Tenant, conn) -> None:
    await setup(tenant, TIERS)
    await tenant.hook(purchase("p1", mcc="5812", amount_minor=150000))
    assert await tier(tenant) == "silver"
    # A year and a half later, the job finds the spend out of the window.
    moved = await recompute_tiers(conn, tenant.id, PURCHASE_AT + timedelta(days=548))
    assert moved == {"m-1": None}
    assert await tier(tenant) is None
    spend = await conn.fetchval("SELECT month FROM member_spend")
    assert spend == month_start(0, PURCHASE_AT).date()
