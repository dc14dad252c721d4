"""Merchant offers: stores, review, claims, card-linked matching, budgets and stats."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from offers.nearby.service import Indexes, nearby, prune_changes
from tests.dates import PURCHASE_AT, days_ago, iso
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_points_hook import setup

FUTIAN = (22.5431, 114.0579)

FUEL_12 = {
    "id": "fuel-12",
    "title": "12% off fuel",
    "category": "fuel",
    "reward": {"kind": "percent_off", "value": 12, "max_reward_minor": 5000},
    "min_spend_minor": 20000,
    "store_ids": ["shell-01"],
    "geofence_radius_m": 500,
    "targeting": {"card_product_in": ["car-owner"]},
    "budget": {"max_redemptions": 10000, "max_reward_minor": 5_000_000},
    "per_member_limit": 4,
    "activation": "claim",
}


class Merchant:
    def __init__(self, tenant: Tenant, key: str) -> None:
        self.tenant = tenant
        self.headers = {"Authorization": f"Bearer {key}"}

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.tenant.client.post(path, json=body, headers=self.headers)

    async def store(self, store_id: str, lat: float, lng: float) -> None:
        response = await self.post(
            "/v1/merchant/stores", {"id": store_id, "name": store_id, "lat": lat, "lng": lng}
        )
        assert response.status_code == 201, response.text

    async def offer(self, body: dict[str, Any], approve: Tenant | None = None) -> dict[str, Any]:
        response = await self.post("/v1/merchant/offers", body)
        assert response.status_code == 201, response.text
        if approve is not None:
            response = await approve.client.post(
                f"/v1/admin/offers/{body['id']}/approve", headers=approve.admin
            )
            assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


async def shell(tenant: Tenant) -> Merchant:
    merchant = Merchant(tenant, await tenant.merchant("shell", "Shell", "fuel"))
    await merchant.store("shell-01", *FUTIAN)
    return merchant


async def claim(tenant: Tenant, member: str, offer_id: str) -> Any:
    return await tenant.client.post(
        f"/v1/me/offers/{offer_id}/claim", headers=tenant.member(member)
    )


def fuel_purchase(tx_id: str, member: str = "m-1", **fields: Any) -> dict[str, Any]:
    return purchase(tx_id, member, merchant_id="shell", store_id="shell-01") | fields


async def test_an_offer_is_reviewed_before_it_goes_live(tenant: Tenant) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    created = await merchant.offer(FUEL_12)
    assert created["status"] == "pending_review"
    pending = await tenant.client.get(
        "/v1/admin/offers", params={"status": "pending_review"}, headers=tenant.admin
    )
    assert [o["id"] for o in pending.json()["items"]] == ["fuel-12"]
    assert (await claim(tenant, "m-1", "fuel-12")).status_code == 404
    approved = await tenant.client.post("/v1/admin/offers/fuel-12/approve", headers=tenant.admin)
    assert approved.json()["status"] == "active"
    assert (await merchant.post("/v1/merchant/offers/fuel-12/pause")).json()["status"] == "paused"
    assert (await merchant.post("/v1/merchant/offers/fuel-12/pause")).status_code == 409
    assert (await merchant.post("/v1/merchant/offers/fuel-12/resume")).json()["status"] == "active"
    second = await merchant.offer(FUEL_12 | {"id": "fuel-13"})
    rejected = await tenant.client.post(
        f"/v1/admin/offers/{second['id']}/reject",
        json={"reason": "too generous"},
        headers=tenant.admin,
    )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["reject_reason"] == "too generous"
    ended = await merchant.offer(
        FUEL_12
        | {
            "id": "old",
            "schedule": {"starts_at": iso(days_ago(730)), "ends_at": iso(days_ago(365))},
        },
        approve=tenant,
    )
    assert ended["status"] == "ended"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"store_ids": ["not-mine"]}, "store_ids"),
        ({"geofence_radius_m": 5}, "geofence_radius_m"),
        ({"geofence_radius_m": 6000}, "geofence_radius_m"),
        (
            {"schedule": {"starts_at": iso(days_ago(-365)), "ends_at": iso(days_ago(0))}},
            "schedule.ends_at",
        ),
        ({"reward": {"kind": "percent_off", "value": 120}}, "reward.value"),
        ({"reward": {"kind": "points_multiplier", "value": "1"}}, "reward.value"),
        ({"budget": {"max_redemptions": 0}}, "budget.max_redemptions"),
        ({"targeting": {"h3_cells": ["nope"]}}, "targeting.h3_cells"),
    ],
)
async def test_invalid_offers_are_refused_with_a_clear_422(
    tenant: Tenant, change: dict[str, Any], field: str
) -> None:
    merchant = await shell(tenant)
    response = await merchant.post("/v1/merchant/offers", FUEL_12 | change)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].startswith(field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "lat": 91, "lng": 0}, "lat"),
        ({"name": "x", "lat": 0, "lng": -181}, "lng"),
        ({"name": "x", "lat": "north", "lng": 0}, "lat"),
    ],
)
async def test_stores_out_of_range_are_refused(
    tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    merchant = Merchant(tenant, await tenant.merchant("m"))
    response = await merchant.post("/v1/merchant/stores", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_a_merchant_never_sees_another_merchants_stores_or_offers(tenant: Tenant) -> None:
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12)
    other = Merchant(tenant, await tenant.merchant("sinopec"))
    for path in ("/v1/merchant/stores/shell-01", "/v1/merchant/offers/fuel-12"):
        assert (await tenant.client.get(path, headers=other.headers)).status_code == 404
    assert (await other.post("/v1/merchant/offers/fuel-12/pause")).status_code == 404
    response = await tenant.client.patch(
        "/v1/merchant/offers/fuel-12", json={"title": "mine now"}, headers=other.headers
    )
    assert response.status_code == 404
    listed = await tenant.client.get("/v1/merchant/offers", headers=other.headers)
    assert listed.json()["items"] == []


async def test_claims_are_idempotent_and_refused_when_they_cannot_apply(tenant: Tenant) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12 | {"per_member_limit": 1}, approve=tenant)
    await tenant.client.put(
        "/v1/admin/members/m-1", json={"card_products": ["car-owner"]}, headers=tenant.admin
    )
    first = await claim(tenant, "m-1", "fuel-12")
    again = await claim(tenant, "m-1", "fuel-12")
    assert first.status_code == again.status_code == 200
    assert first.json()["claimed_at"] == again.json()["claimed_at"]
    not_targeted = await claim(tenant, "m-2", "fuel-12")
    assert (not_targeted.status_code, not_targeted.json()["type"]) == (409, "claim_refused")
    await tenant.hook(fuel_purchase("t1"))
    used_up = await claim(tenant, "m-1", "fuel-12")
    assert used_up.status_code == 409
    await merchant.post("/v1/merchant/offers/fuel-12/pause")
    await tenant.client.put(
        "/v1/admin/members/m-3", json={"card_products": ["car-owner"]}, headers=tenant.admin
    )
    assert (await claim(tenant, "m-3", "fuel-12")).status_code == 409
    claimed = (
        await tenant.client.get("/v1/me/offers/claimed", headers=tenant.member("m-1"))
    ).json()
    assert [(c["offer"]["id"], c["uses"]) for c in claimed["items"]] == [("fuel-12", 1)]


async def test_a_claimed_offer_applies_by_itself_to_the_next_matching_purchase(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12, approve=tenant)
    unclaimed = (await tenant.hook(fuel_purchase("t0"))).json()
    assert unclaimed["offers_applied"] == []
    assert (await claim(tenant, "m-1", "fuel-12")).status_code == 200
    small = (await tenant.hook(fuel_purchase("t1", amount_minor=19999))).json()
    assert small["offers_applied"] == []  # under min_spend
    body = (await tenant.hook(fuel_purchase("t2", amount_minor=35000))).json()
    assert body["offers_applied"] == [{"offer_id": "fuel-12", "reward_minor": 4200, "points": 0}]
    big = (await tenant.hook(fuel_purchase("t3", amount_minor=100000))).json()
    assert big["offers_applied"][0]["reward_minor"] == 5000  # capped per purchase
    elsewhere = (await tenant.hook(purchase("t4", merchant_id="other"))).json()
    assert elsewhere["offers_applied"] == []
    await check_ledger(conn)


async def test_the_most_valuable_offer_wins_and_points_come_from_the_merchant(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    auto = {"activation": "auto", "targeting": {}, "store_ids": [], "min_spend_minor": 0}
    await merchant.offer(
        FUEL_12 | auto | {"id": "a-small", "reward": {"kind": "amount_off", "value": 100}},
        approve=tenant,
    )
    await merchant.offer(
        FUEL_12 | auto | {"id": "b-points", "reward": {"kind": "bonus_points", "value": 900}},
        approve=tenant,
    )
    body = (await tenant.hook(fuel_purchase("t1", mcc="5812"))).json()
    assert body["offers_applied"] == [{"offer_id": "b-points", "reward_minor": 0, "points": 900}]
    assert body["points"]["offers"] == 900
    assert body["points"]["total"] == 350 + 900
    debited = await conn.fetchval(
        "SELECT amount FROM transfers WHERE debit_account = 'merchant:shell'"
    )
    assert debited == 900
    await check_ledger(conn)


async def test_budgets_and_member_limits_hold_under_200_concurrent_purchases(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    offer = FUEL_12 | {
        "activation": "auto",
        "targeting": {},
        "per_member_limit": 2,
        "budget": {"max_redemptions": 150, "max_reward_minor": 1_000_000},
    }
    await merchant.offer(offer, approve=tenant)
    # 100 members, 2 purchases each: the per-member limit lets each member twice,
    # the budget 150 in all.
    txs = [fuel_purchase(f"t{n}", f"m-{n % 100}") for n in range(200)]
    txs += [fuel_purchase(f"x{n}", f"m-{n}") for n in range(5)]  # third purchases
    responses = await asyncio.gather(*(tenant.hook(tx) for tx in txs))
    assert {r.status_code for r in responses} == {200}
    applied = [r.json()["offers_applied"] for r in responses]
    assert sum(1 for a in applied if a) == 150
    per_member = await conn.fetch("SELECT member_id, uses FROM offer_members")
    assert max(r["uses"] for r in per_member) <= 2
    assert sum(r["uses"] for r in per_member) == 150
    state = (
        await tenant.client.get("/v1/merchant/offers/fuel-12", headers=merchant.headers)
    ).json()
    assert state["status"] == "exhausted"
    assert state["redemptions_used"] == 150
    # A reversal gives a redemption back: the offer is live again.
    first = next(tx for tx, a in zip(txs, applied, strict=True) if a)
    await tenant.hook(purchase("v1", first["member_id"], kind="reversal", original_id=first["id"]))
    state = (
        await tenant.client.get("/v1/merchant/offers/fuel-12", headers=merchant.headers)
    ).json()
    assert (state["status"], state["redemptions_used"]) == ("active", 149)
    await check_ledger(conn)


async def test_a_reward_budget_pays_what_is_left_then_the_offer_is_exhausted(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    offer = FUEL_12 | {"activation": "auto", "targeting": {}, "budget": {"max_reward_minor": 10000}}
    await merchant.offer(offer, approve=tenant)
    rewards = [
        (await tenant.hook(fuel_purchase(f"t{n}", f"m-{n}"))).json()["offers_applied"]
        for n in range(4)
    ]
    assert [r[0]["reward_minor"] if r else 0 for r in rewards] == [4200, 4200, 1600, 0]
    await check_ledger(conn)


async def test_stats_reconcile_with_the_hook(tenant: Tenant, conn) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12 | {"activation": "auto", "targeting": {}}, approve=tenant)
    await claim(tenant, "m-9", "fuel-12")
    results = [(await tenant.hook(fuel_purchase(f"t{n}", f"m-{n}"))).json() for n in range(3)]
    await tenant.hook(purchase("r1", "m-0", kind="refund", original_id="t0", amount_minor=17500))
    stats = (
        await tenant.client.get(
            "/v1/merchant/offers/fuel-12/stats",
            headers=merchant.headers,
            params={"from": iso(PURCHASE_AT.date()), "to": iso(days_ago(-1).date())},
        )
    ).json()
    (day,) = (
        stats["days"][-1:]
        if len(stats["days"]) == 1
        else [d for d in stats["days"] if d["day"] == iso(PURCHASE_AT.date())]
    )
    assert day["redemptions"] == 3
    assert (
        day["reward_minor"] == sum(r["offers_applied"][0]["reward_minor"] for r in results) - 2100
    )
    assert day["spend_minor"] == 3 * 35000 - 17500
    claims = sum(d["claims"] for d in stats["days"])
    assert claims == 1
    await check_ledger(conn)


async def _nearby(tenant: Tenant, member: str = "m-1") -> list[tuple[str, str]]:
    response = await tenant.client.get(
        "/v1/me/offers/nearby",
        params={"lat": FUTIAN[0], "lng": FUTIAN[1], "radius_m": 2000},
        headers=tenant.member(member),
    )
    assert response.status_code == 200, response.text
    return [(i["offer"]["id"], i["store"]["id"]) for i in response.json()["items"]]


async def test_nearby_follows_every_change_at_once(tenant: Tenant) -> None:
    """Each process searches an in-memory index; every change must show on the very next
    search: review, pause, resume, store moves and new stores, edits, exhaustion and the
    member's own limit."""
    await setup(tenant)
    merchant = await shell(tenant)
    auto = FUEL_12 | {"activation": "auto", "targeting": {}, "store_ids": [], "min_spend_minor": 0}
    await merchant.offer(auto | {"per_member_limit": 1, "budget": {"max_redemptions": 2}})
    assert await _nearby(tenant) == []  # pending review
    await tenant.client.post("/v1/admin/offers/fuel-12/approve", headers=tenant.admin)
    assert await _nearby(tenant) == [("fuel-12", "shell-01")]
    await merchant.post("/v1/merchant/offers/fuel-12/pause")
    assert await _nearby(tenant) == []
    await merchant.post("/v1/merchant/offers/fuel-12/resume")
    assert await _nearby(tenant) == [("fuel-12", "shell-01")]
    await merchant.store("shell-02", FUTIAN[0] + 0.001, FUTIAN[1])
    assert await _nearby(tenant) == [("fuel-12", "shell-01"), ("fuel-12", "shell-02")]
    moved = await tenant.client.patch(
        "/v1/merchant/stores/shell-01", json={"lat": 23.5}, headers=merchant.headers
    )
    assert moved.status_code == 200, moved.text
    assert await _nearby(tenant) == [("fuel-12", "shell-02")]
    deleted = await tenant.client.delete("/v1/merchant/stores/shell-02", headers=merchant.headers)
    assert deleted.status_code == 204
    assert await _nearby(tenant) == []
    await merchant.store("shell-03", *FUTIAN)
    assert await _nearby(tenant) == [("fuel-12", "shell-03")]
    # The member's own limit hides it from them only; the budget's end from everyone.
    await tenant.hook(fuel_purchase("t1", "m-1", store_id="shell-03"))
    assert await _nearby(tenant, "m-1") == []
    assert await _nearby(tenant, "m-2") == [("fuel-12", "shell-03")]
    await tenant.hook(fuel_purchase("t2", "m-2", store_id="shell-03"))
    assert await _nearby(tenant, "m-3") == []  # exhausted


async def test_a_process_behind_pruned_changes_reloads_its_whole_index(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    auto = FUEL_12 | {"activation": "auto", "targeting": {}, "store_ids": []}
    await merchant.offer(auto, approve=tenant)
    behind = Indexes()  # another process, which searched once and then stayed idle

    async def search() -> list[str]:
        found = await nearby(conn, behind, tenant.id, "m-1", *FUTIAN, 2000, None, 50)
        return [n.store.store_id for n in found]

    assert await search() == ["shell-01"]
    await merchant.store("shell-02", FUTIAN[0] + 0.001, FUTIAN[1])
    await prune_changes(conn, datetime.now(UTC) + timedelta(days=1))
    assert await search() == ["shell-01", "shell-02"]
