"""Statements of merchant-funded offers: exact to the fen against the ledger's offer records,
closed once and never changed, refunds after the close in the next period, each merchant
its own."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from typing import Any

import asyncpg

from tests.dates import NOW, iso, month_start
from tests.integration.bulk import wait_job
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_offers import Merchant, shell
from tests.integration.test_points_hook import setup

FUNDED = {
    "id": "fuel-12-funded",
    "title": "12% off fuel",
    "category": "fuel",
    "reward": {"kind": "percent_off", "value": 12, "max_reward_minor": 5000},
    "min_spend_minor": 20000,
    "store_ids": ["shell-01"],
    "activation": "auto",
    "funding": {"merchant_share_pct": 50, "fee_minor_per_match": 30},
}
LAST = month_start(-1)
PERIOD = f"{LAST:%Y-%m}"
THIS = f"{month_start(0):%Y-%m}"


def _period(moment: Any) -> str:
    return f"{moment:%Y-%m}"


async def _csv(merchant: Merchant, period: str) -> bytes:
    response = await merchant.tenant.client.get(
        f"/v1/merchant/statements/{period}/lines", headers=merchant.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response.content


def _sums(csv: bytes) -> dict[str, int]:
    lines = csv.decode().splitlines()
    header = lines[0].split(",")
    sums = dict.fromkeys(("reward_minor", "merchant_share_minor", "fee_minor"), 0)
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=True))
        for k in sums:
            sums[k] += int(row[k])
    return sums | {"lines": len(lines) - 1}


async def _statement(merchant: Merchant, period: str) -> Any:
    return await merchant.tenant.client.get(
        f"/v1/merchant/statements/{period}", headers=merchant.headers
    )


async def _records(conn: asyncpg.Connection, tenant: Tenant, where: str) -> dict[str, int]:
    row = await conn.fetchrow(
        "SELECT count(*) AS lines, coalesce(sum(reward_minor), 0) AS reward_minor,"
        " coalesce(sum(merchant_share_minor), 0) AS merchant_share_minor,"
        " coalesce(sum(fee_minor), 0) AS fee_minor"
        f" FROM offer_redemptions WHERE tenant_id = $1 AND merchant_id = 'shell' AND {where}",
        tenant.id,
    )
    return dict(row)


def _totals(statement: dict[str, Any]) -> dict[str, int]:
    return {
        "lines": statement["lines"],
        "reward_minor": statement["reward_minor"],
        "merchant_share_minor": statement["merchant_due_minor"],
        "fee_minor": statement["fees_minor"],
    }


async def test_a_month_of_funded_fuel_purchases_settles_to_the_fen(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, {"settlement": {"return_days": 0}})
    await conn.execute(
        "UPDATE programs SET config = jsonb_set(config, '{webhook_url}', to_jsonb($2::text))"
        " WHERE tenant_id = $1",
        tenant.id,
        "https://hooks.bank.invalid/events",
    )
    merchant = await shell(tenant)
    offer = await merchant.offer(FUNDED, approve=tenant)
    assert offer["funding"] == {"merchant_share_pct": 50, "fee_minor_per_match": 30}
    other = Merchant(tenant, await tenant.merchant("mart", "Mart", "grocery"))

    rng = random.Random(32)
    span = (month_start(0) - LAST).total_seconds() - 3600
    purchases = [
        purchase(
            f"p-{i}",
            f"m-{i % 2000}",
            merchant_id="shell",
            store_id="shell-01",
            amount_minor=rng.randint(20000, 60000),
            occurred_at=iso(LAST + timedelta(seconds=int(span * i / 10000))),
        )
        for i in range(10000)
    ]
    for i in range(0, len(purchases), 1000):
        answered = await tenant.hook_batch(purchases[i : i + 1000])
        assert answered.status_code == 200, answered.text
    refunded = rng.sample(purchases, 300)

    def refund(p: dict[str, Any], n: int, at: Any) -> dict[str, Any]:
        amount = p["amount_minor"] if n % 3 else p["amount_minor"] // 3  # some in part
        return purchase(
            f"r-{p['id']}",
            p["member_id"],
            kind="refund",
            original_id=p["id"],
            merchant_id="shell",
            amount_minor=amount,
            occurred_at=iso(at),
        )

    before = [
        refund(p, n, month_start(0) - timedelta(minutes=30)) for n, p in enumerate(refunded[:150])
    ]
    answered = await tenant.hook_batch(before)
    assert answered.status_code == 200, answered.text

    # Open: the statement is the month's records as they stand; lines add up to its totals.
    month = f"day >= '{LAST.date()}' AND day < '{month_start(0).date()}'"
    records = await _records(conn, tenant, month)
    assert records["lines"] == 10150
    opened = (await _statement(merchant, PERIOD)).json()
    assert opened["status"] == "open"
    csv = await _csv(merchant, PERIOD)
    assert _totals(opened) == _sums(csv) == records
    assert opened["sha256"] == hashlib.sha256(csv).hexdigest()
    assert opened["program_due_minor"] == opened["reward_minor"] - opened["merchant_due_minor"]
    # 12% capped at 50 yuan, half of it the merchant's, to the fen.
    expected = sum(min(p["amount_minor"] * 12 // 100, 5000) for p in purchases)
    matched = await _records(conn, tenant, f"{month} AND original_id IS NULL")
    assert matched["reward_minor"] == expected
    assert matched["fee_minor"] == 30 * 10000

    # A merchant reads only its own statements.
    assert (await _statement(other, PERIOD)).status_code == 404
    missing = await other.tenant.client.get(
        f"/v1/merchant/statements/{PERIOD}/lines", headers=other.headers
    )
    assert missing.status_code == 404
    assert (await other.tenant.client.get("/v1/merchant/statements", headers=other.headers)).json()[
        "items"
    ] == []

    # Closing: not the month still running, not twice, not a month that is not one.
    early = await tenant.client.post(f"/v1/admin/settlements/{THIS}/close", headers=tenant.admin)
    assert early.status_code == 409, early.text
    assert early.json()["type"].endswith("period_not_ready")
    bad = await tenant.client.post("/v1/admin/settlements/2026-13/close", headers=tenant.admin)
    assert bad.status_code in (404, 422)
    started = await tenant.client.post(
        f"/v1/admin/settlements/{PERIOD}/close", headers=tenant.admin
    )
    assert started.status_code == 202, started.text
    again = await tenant.client.post(f"/v1/admin/settlements/{PERIOD}/close", headers=tenant.admin)
    assert again.status_code == 409
    assert again.json()["type"].endswith("period_closed")
    job = await wait_job(tenant, started.json()["job_id"])
    assert job["status"] == "done", job
    assert job["counts"] == {"statements": 1, "lines": 10150}

    closed = (await _statement(merchant, PERIOD)).json()
    assert closed["status"] == "closed"
    closed_csv = await _csv(merchant, PERIOD)
    assert closed_csv == csv
    assert closed["sha256"] == hashlib.sha256(closed_csv).hexdigest() == opened["sha256"]
    settled = await _records(conn, tenant, f"settled = '{LAST.date()}'")
    assert _totals(closed) == _sums(closed_csv) == settled == records

    # Refunds after the close: the closed statement never changes; they are lines of the
    # next open period, negative.
    after = [refund(p, n, NOW - timedelta(minutes=5)) for n, p in enumerate(refunded[150:])]
    answered = await tenant.hook_batch(after)
    assert answered.status_code == 200, answered.text
    assert (await _statement(merchant, PERIOD)).json() == closed
    assert await _csv(merchant, PERIOD) == closed_csv
    # Erasing a member (a keyed pseudonym everywhere) changes no statement's byte either.
    erased = await tenant.client.post("/v1/admin/members/m-7/erase", headers=tenant.admin)
    assert erased.status_code == 200, erased.text
    assert await _csv(merchant, PERIOD) == closed_csv
    late = (await _statement(merchant, THIS)).json()
    assert late["status"] == "open"
    late_csv = await _csv(merchant, THIS)
    assert _totals(late) == _sums(late_csv)
    assert late["reward_minor"] < 0
    assert late["lines"] == 150
    assert all(",clawback," in line for line in late_csv.decode().splitlines()[1:])
    everything = await _records(conn, tenant, "true")
    assert {k: _totals(closed)[k] + _totals(late)[k] for k in everything} == everything
    listed = (await tenant.client.get("/v1/merchant/statements", headers=merchant.headers)).json()
    assert [(s["period"], s["status"]) for s in listed["items"]] == [
        (THIS, "open"),
        (PERIOD, "closed"),
    ]
    # The operator sees every merchant's statement of the period.
    operator = await tenant.client.get(
        "/v1/admin/settlements", params={"period": PERIOD}, headers=tenant.admin
    )
    assert operator.status_code == 200, operator.text
    assert operator.json()["status"] == "closed"
    assert [s["merchant_id"] for s in operator.json()["items"]] == ["shell"]
    assert operator.json()["items"][0]["sha256"] == closed["sha256"]
    events = await conn.fetch(
        "SELECT data FROM outbox_events WHERE tenant_id = $1 AND type = 'statement.closed'",
        tenant.id,
    )
    assert len(events) == 1
    await check_ledger(conn)
