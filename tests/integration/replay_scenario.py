"""A program with every binding a replay must reproduce, and a period of card transactions
posted to it through the hook: purchases, partial refunds and reversals; rules with every
cap, exclusive and stacking, by MCC, tier, segment, day and card product; a rule PATCHed
mid-period; a draw campaign with daily and total budgets; a claimed offer with a budget and a
per-member limit; referral bonuses; a daily points cap; members whose tier and segments
change. Deterministic for a seed; dates computed from the run's own clock."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from tests.dates import days_ago, iso
from tests.integration.conftest import Tenant

PROGRAM = {
    "currency": "CNY",
    "time_zone": "Asia/Shanghai",
    "base_rate": "1",
    "mcc_rates": {"5411": "2"},
    "excluded_mccs": ["6011"],
    "tiers": [{"name": "gold", "min_spend_minor_12m": 1_500_000}],
    "referral": {
        "referrer_points": 500,
        "referee_points": 300,
        "min_first_purchase_minor": 10000,
        "max_per_referrer": 2,
    },
    "abuse": {"max_points_per_member_per_day": 2500},
}

RULES: list[dict[str, Any]] = [
    {
        "id": "fuel",
        "name": "Fuel 3x",
        "effect": {"kind": "multiplier", "value": "3"},
        "conditions": {"mcc_in": ["5541"]},
        "caps": {
            "per_transaction": 900,
            "per_member_per_day": 1200,
            "per_member_per_month": 4000,
            "budget_points": 400_000,
        },
    },
    {
        "id": "gold-dining",
        "name": "Gold dining bonus",
        "effect": {"kind": "fixed", "value": 200},
        "conditions": {"mcc_in": ["5812"], "tier_in": ["gold"]},
        "stacking": False,
    },
    {
        "id": "weekend",
        "name": "Weekend 1.5x",
        "effect": {"kind": "multiplier", "value": "1.5"},
        "conditions": {"days_of_week": [6, 7], "min_amount_minor": 5000},
        "stacking": False,
    },
    {
        "id": "vip",
        "name": "VIP bonus",
        "effect": {"kind": "fixed", "value": 50},
        "conditions": {"segment_in": ["vip"]},
        "caps": {"per_member_per_day": 100},
    },
    {
        "id": "car-owner",
        "name": "Car owner card 2x",
        "effect": {"kind": "multiplier", "value": "2"},
        "conditions": {"card_product_in": ["car-owner"]},
        "caps": {"budget_points": 150_000},
    },
]

PATCH_FUEL = {"effect": {"kind": "multiplier", "value": "2"}, "caps": {"per_member_per_day": 1500}}

CAMPAIGN = {
    "id": "every-swipe",
    "name": "Every swipe draws",
    "prizes": [
        {"multiplier": 1, "weight": 85},
        {"multiplier": 2, "weight": 12},
        {"multiplier": 5, "weight": 3},
    ],
    "budget": {"daily_points": 6000, "total_points": 70000},
}

OFFER = {
    "id": "fuel-12",
    "title": "12% off fuel",
    "category": "fuel",
    "reward": {"kind": "percent_off", "value": 12, "max_reward_minor": 3000},
    "min_spend_minor": 20000,
    "store_ids": ["shell-01"],
    "targeting": {"card_product_in": ["car-owner"]},
    "budget": {"max_redemptions": 600, "max_reward_minor": 900_000},
    "per_member_limit": 3,
    "activation": "claim",
}

MCCS = ["5541", "5541", "5812", "5411", "5999", "6011", "5311"]


@dataclass
class Period:
    """What was posted: every transaction body in order, and every answer the hook gave."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)


async def _ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json() if response.content else None


async def configure(tenant: Tenant, *, draws: bool, extra_rules: list[dict[str, Any]]) -> None:
    c, admin = tenant.client, tenant.admin
    await _ok(await c.put("/v1/admin/program", json=PROGRAM, headers=admin))
    for rule in [*RULES, *extra_rules]:
        await _ok(await c.post("/v1/admin/earn-rules", json=rule, headers=admin))
    if draws:
        await _ok(await c.post("/v1/admin/draw-campaigns", json=CAMPAIGN, headers=admin))
    key = (
        await _ok(
            await c.post(
                "/v1/admin/merchants",
                json={"id": "shell", "name": "Shell", "category": "fuel"},
                headers=admin,
            )
        )
    )["api_key"]
    merchant = {"Authorization": f"Bearer {key}"}
    await _ok(
        await c.post(
            "/v1/merchant/stores",
            json={"id": "shell-01", "name": "Shell 01", "lat": 22.5431, "lng": 114.0579},
            headers=merchant,
        )
    )
    await _ok(await c.post("/v1/merchant/offers", json=OFFER, headers=merchant))
    await _ok(await c.post("/v1/admin/offers/fuel-12/approve", headers=admin))


async def _claims(tenant: Tenant, members: list[str]) -> None:
    for m in members:
        await _ok(await tenant.client.post("/v1/me/offers/fuel-12/claim", headers=tenant.member(m)))


async def _attributes(tenant: Tenant, members: list[str], **attributes: Any) -> None:
    for m in members:
        await _ok(
            await tenant.client.put(f"/v1/admin/members/{m}", json=attributes, headers=tenant.admin)
        )


async def _referrals(tenant: Tenant, pairs: list[tuple[str, str]]) -> None:
    for referrer, referee in pairs:
        code = (
            await _ok(await tenant.client.get("/v1/me/referral", headers=tenant.member(referrer)))
        )["code"]
        await _ok(
            await tenant.client.post(
                "/v1/me/referral/apply", json={"code": code}, headers=tenant.member(referee)
            )
        )


def _purchase(rng: random.Random, n: int, member: str, day: int) -> dict[str, Any]:
    mcc = rng.choice(MCCS)
    body: dict[str, Any] = {
        "id": f"p-{n}",
        "kind": "purchase",
        "member_id": member,
        "amount_minor": rng.choice([800, 5000, 12000, 25000, 40000, 90000, 180000]),
        "currency": "CNY",
        "mcc": mcc,
        "channel": rng.choice(["online", "offline"]),
        "occurred_at": iso(days_ago(day, rng.randrange(7, 23), rng.randrange(60))),
    }
    if rng.random() < 0.6:
        body["card_product"] = rng.choice(["car-owner", "classic"])
    if mcc == "5541" and rng.random() < 0.7:
        body |= {"merchant_id": "shell", "store_id": "shell-01"}
    else:
        body["merchant_id"] = f"shop-{rng.randrange(40)}"
    return body


async def post_period(
    tenant: Tenant,
    *,
    transactions: int,
    seed: int = 7,
    members: int = 400,
    draws: bool = True,
    extra_rules: list[dict[str, Any]] | None = None,
    batch: int = 1000,
) -> Period:
    """Configure the tenant and post the period: ``transactions`` bodies in batches, with
    the operator's and members' changes at fixed points between them."""
    rng = random.Random(seed)
    await configure(tenant, draws=draws, extra_rules=extra_rules or [])
    ids = [f"m-{n}" for n in range(members)]
    await _attributes(tenant, ids[:100], card_products=["car-owner"])
    await _attributes(tenant, ids[:40], card_products=["car-owner"], segments=["vip"])
    await _claims(tenant, ids[:60])
    await _referrals(tenant, [(ids[n], ids[n + 200]) for n in range(0, 20)])
    period = Period()
    buyers = ids[: members - 20]
    open_purchases: list[tuple[str, str, int, str]] = []  # id, member, left, occurred_at
    n = 0
    batches = max(transactions // batch, 1)
    for b in range(batches):
        if b == batches // 2:
            # Mid-period: the operator changes a rule and segments, more members claim and
            # join by referral.
            await _ok(
                await tenant.client.patch(
                    "/v1/admin/earn-rules/fuel", json=PATCH_FUEL, headers=tenant.admin
                )
            )
            await _attributes(tenant, ids[20:40], card_products=["car-owner"], segments=[])
            await _attributes(tenant, ids[40:70], card_products=["car-owner"], segments=["vip"])
            await _claims(tenant, ids[60:100])
            # Members who have not bought yet join by referral, and start buying.
            await _referrals(tenant, [(ids[n], ids[members - 20 + n]) for n in range(0, 10)])
            buyers = ids
        bodies = []
        day = 20 - (b * 20) // batches
        for _ in range(batch):
            n += 1
            roll = rng.random()
            if roll < 0.07 and open_purchases:
                k = rng.randrange(len(open_purchases))
                tx_id, member, left, at = open_purchases[k]
                if roll < 0.02:
                    body = {"kind": "reversal", "amount_minor": left}
                    open_purchases.pop(k)
                else:
                    amount = max(left // rng.choice([2, 3, 4]), 1)
                    body = {"kind": "refund", "amount_minor": amount}
                    if left - amount <= 0:
                        open_purchases.pop(k)
                    else:
                        open_purchases[k] = (tx_id, member, left - amount, at)
                body |= {
                    "id": f"r-{n}",
                    "member_id": member,
                    "original_id": tx_id,
                    "currency": "CNY",
                    "occurred_at": at,
                }
            else:
                heavy = rng.random() < 0.3  # a few members buy far more often
                member = (
                    buyers[min(int(rng.paretovariate(1.2)) - 1, len(buyers) - 1)]
                    if heavy
                    else rng.choice(buyers)
                )
                body = _purchase(rng, n, member, day)
            bodies.append(body)
        response = await tenant.hook_batch(bodies)
        assert response.status_code == 200, response.text
        for body, item in zip(bodies, response.json()["results"], strict=True):
            period.bodies.append(body)
            if "transaction_id" in item:  # an answer (a refusal is a problem object)
                period.answers[body["id"]] = item
                if body["kind"] == "purchase":
                    open_purchases.append(
                        (body["id"], body["member_id"], body["amount_minor"], body["occurred_at"])
                    )
    return period
