"""Draw campaigns: committed, revealed, recomputable, within budget under concurrency."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

import asyncpg
import pytest

from rewards.hook import repository as award_db
from tests.dates import PURCHASE_AT, days_ago, iso
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_points_hook import setup

EVERY_SWIPE = {
    "id": "every-swipe",
    "name": "Every swipe draws",
    "prizes": [
        {"multiplier": 1, "weight": 700},
        {"multiplier": 2, "weight": 200},
        {"multiplier": 5, "weight": 80},
        {"multiplier": 10, "weight": 20},
    ],
    "budget": {"daily_points": 1_000_000, "total_points": 5_000_000},
    "ends_at": iso(days_ago(-365 * 3)),
}


async def campaign(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    response = await tenant.client.post(
        "/v1/admin/draw-campaigns", json=EVERY_SWIPE | changes, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def recompute(
    secret: bytes, campaign_id: str, tx_id: str, prizes: list[dict[str, int]]
) -> tuple[int, str]:
    h = hmac.new(secret, f"{campaign_id}:{tx_id}".encode(), hashlib.sha256).digest()
    u = int.from_bytes(h[:8], "big") / 2**64
    total = sum(p["weight"] for p in prizes)
    cumulative = 0
    for p in prizes:
        cumulative += p["weight"]
        if cumulative > u * total:
            return p["multiplier"], h.hex()
    return prizes[-1]["multiplier"], h.hex()


async def test_every_draw_can_be_recomputed_from_the_revealed_secret(tenant: Tenant, conn) -> None:
    await setup(tenant)
    # The campaign ended yesterday evening; the purchases happened before its end.
    created = await campaign(
        tenant, ends_at=iso(PURCHASE_AT.replace(hour=23, minute=59, second=59))
    )
    answers = [
        (await tenant.hook(purchase(f"t{n}", f"m-{n % 7}", mcc="5812"))).json() for n in range(60)
    ]
    revealed = await tenant.client.post(
        "/v1/admin/draw-campaigns/every-swipe/reveal", headers=tenant.admin
    )
    assert revealed.status_code == 200, revealed.text
    secret = bytes.fromhex(revealed.json()["secret"])
    assert hashlib.sha256(secret).hexdigest() == created["commitment"]
    for body in answers:
        multiplier, proof = recompute(
            secret, "every-swipe", body["transaction_id"], EVERY_SWIPE["prizes"]
        )
        assert body["draw"]["proof"] == proof
        assert body["draw"]["multiplier"] == multiplier
        assert body["points"]["draw"] == body["points"]["base"] * (multiplier - 1)
    stats = (
        await tenant.client.get("/v1/admin/draw-campaigns/every-swipe", headers=tenant.admin)
    ).json()["stats"]
    assert stats["draws"] == 60
    assert stats["bonus_paid"] == sum(b["points"]["draw"] for b in answers)
    assert sum(stats["prize_counts"].values()) == 60


async def test_reveal_before_the_end_is_refused(tenant: Tenant) -> None:
    await setup(tenant)
    await campaign(tenant)
    response = await tenant.client.post(
        "/v1/admin/draw-campaigns/every-swipe/reveal", headers=tenant.admin
    )
    assert response.status_code == 409
    assert response.json()["type"] == "campaign_not_ended"


async def test_200_concurrent_hooks_spend_the_budget_to_the_last_point(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    # Every draw wins 2x: each purchase of 100.00 asks for 100 bonus points; 5,000 pays 50.
    await campaign(
        tenant,
        prizes=[{"multiplier": 2, "weight": 1}],
        budget={"daily_points": 5000, "total_points": 1_000_000},
    )
    responses = await asyncio.gather(
        *(
            tenant.hook(purchase(f"t{n}", f"m-{n}", mcc="5812", amount_minor=10000))
            for n in range(200)
        )
    )
    assert {r.status_code for r in responses} == {200}
    paid = [r.json()["draw"]["multiplier"] for r in responses]
    assert paid.count(2) == 50
    assert paid.count(1) == 150
    assert sum(r.json()["points"]["draw"] for r in responses) == 5000
    assert await conn.fetchval("SELECT used FROM draw_daily_usage") == 5000
    await check_ledger(conn)


async def test_budget_reservations_are_added_at_commit_or_refused_whole(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    await campaign(tenant, budget={"total_points": 1000})
    claim = (
        "INSERT INTO budget_reservations (tenant_id, budget, key, amount) "
        "VALUES ($1, 'campaign', 'every-swipe', $2)"
    )
    async with conn.transaction():
        await conn.execute(claim, tenant.id, 600)
        # Deferred: nothing is added before COMMIT.
        assert await conn.fetchval("SELECT total_used FROM draw_campaigns") == 0
    assert await conn.fetchval("SELECT total_used FROM draw_campaigns") == 600
    over = conn.transaction()
    await over.start()
    await conn.execute(claim, tenant.id, 401)
    await conn.execute(
        "INSERT INTO draw_daily_usage VALUES ($1, 'every-swipe', $2, 5)",
        tenant.id,
        PURCHASE_AT.date(),
    )
    with pytest.raises(asyncpg.SerializationError, match="campaign budget every-swipe"):
        await over.commit()
    # The refused COMMIT rolled back the whole transaction, its other writes too.
    assert await conn.fetchval("SELECT total_used FROM draw_campaigns") == 600
    assert await conn.fetchval("SELECT count(*) FROM draw_daily_usage") == 0
    assert await conn.fetchval("SELECT count(*) FROM budget_reservations") == 0


async def test_a_batch_whose_claim_is_refused_is_planned_again_with_the_budget_locked(
    tenant: Tenant, conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    await setup(tenant)
    await campaign(tenant, prizes=[{"multiplier": 2, "weight": 1}], budget={"total_points": 150})
    # Another transaction took 100 of the 150 after this batch read the budget: the first
    # attempt plans a 100-point prize on a stale 0 and is refused at COMMIT; the second
    # locks the row, sees 100 used, and pays 1x, as 2x no longer fits.
    await conn.execute("UPDATE draw_campaigns SET total_used = 100")
    real = award_db.campaign_budgets
    attempts: list[bool] = []

    async def stale_then_real(*args: Any, lock: bool) -> Any:
        attempts.append(lock)
        totals, daily = await real(*args, lock=lock)
        return (dict.fromkeys(totals, 0) if not lock else totals), daily

    monkeypatch.setattr(award_db, "campaign_budgets", stale_then_real)
    response = await tenant.hook(purchase("t1", mcc="5812", amount_minor=10000))
    assert response.status_code == 200, response.text
    assert attempts == [False, True]
    draw = response.json()["draw"]
    assert (draw["drawn_multiplier"], draw["multiplier"], draw["points"]) == (2, 1, 0)
    assert await conn.fetchval("SELECT total_used FROM draw_campaigns") == 100
    await check_ledger(conn)


async def test_overflow_draws_pay_the_largest_prize_that_still_fits(tenant: Tenant, conn) -> None:
    await setup(tenant)
    await campaign(
        tenant,
        prizes=[
            {"multiplier": 1, "weight": 1},
            {"multiplier": 3, "weight": 1},
            {"multiplier": 10, "weight": 1000000},
        ],
        budget={"total_points": 950},
    )
    # Base 100 each: the first 10x costs 900, leaving 50: then 3x (200) does not fit either.
    first = (await tenant.hook(purchase("t1", mcc="5812", amount_minor=10000))).json()["draw"]
    second = (await tenant.hook(purchase("t2", mcc="5812", amount_minor=10000))).json()["draw"]
    third = (await tenant.hook(purchase("t3", mcc="5812", amount_minor=2500))).json()["draw"]
    assert (first["drawn_multiplier"], first["multiplier"]) == (10, 10)
    assert (second["drawn_multiplier"], second["multiplier"]) == (10, 1)
    assert (third["multiplier"], third["points"]) == (3, 50)  # base 25 × 2 fits the 50 left
    await check_ledger(conn)


async def test_a_campaign_with_conditions_draws_only_for_eligible_purchases(tenant: Tenant) -> None:
    await setup(tenant)
    await campaign(tenant, conditions={"mcc_in": ["5812"]})
    assert (await tenant.hook(purchase("t1", mcc="5541"))).json()["draw"] is None
    assert (await tenant.hook(purchase("t2", mcc="5812"))).json()["draw"] is not None


async def test_invalid_campaigns_are_refused(tenant: Tenant) -> None:
    await setup(tenant)
    for bad in (
        {"prizes": []},
        {"prizes": [{"multiplier": 0, "weight": 1}]},
        {"prizes": [{"multiplier": 2, "weight": 0}]},
        {"starts_at": iso(days_ago(-365)), "ends_at": iso(days_ago(0))},
        {"conditions": {"h3_cells": ["zzzzzzzzzzzzzzz"]}},
        {"budget": {"total_points": -1}},
    ):
        response = await tenant.client.post(
            "/v1/admin/draw-campaigns", json=EVERY_SWIPE | bad, headers=tenant.admin
        )
        assert response.status_code == 422, (bad, response.text)
