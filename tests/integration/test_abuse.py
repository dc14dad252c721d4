"""Abuse limits: members per device, claims per hour, points per day — exact under
concurrency, each refusal or cap with its risk event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.dates import PURCHASE_AT, iso
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_catalog import item, redeem
from tests.integration.test_offers import FUEL_12, shell
from tests.integration.test_points_hook import setup


async def limits(tenant: Tenant, **abuse: int) -> None:
    response = await tenant.client.patch(
        "/v1/admin/program", json={"abuse": abuse}, headers=tenant.admin
    )
    assert response.status_code == 200, response.text


async def offers(tenant: Tenant, count: int) -> list[str]:
    merchant = await shell(tenant)
    ids = [f"fuel-{n}" for n in range(count)]
    for offer_id in ids:
        await merchant.offer(FUEL_12 | {"id": offer_id, "targeting": {}}, approve=tenant)
    return ids


async def claim(tenant: Tenant, member: str, offer_id: str, **headers: str) -> Any:
    return await tenant.client.post(
        f"/v1/me/offers/{offer_id}/claim", headers=tenant.member(member, **headers)
    )


async def risk_events(tenant: Tenant, query: str = "") -> list[dict[str, Any]]:
    response = await tenant.client.get(f"/v1/admin/risk-events{query}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_device_serves_only_its_first_members_for_claims_and_redemptions(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    (offer,) = await offers(tenant, 1)
    await item(tenant, points_price=0, cash_price_minor=800)
    await limits(tenant, max_members_per_device=1)
    phone = {"X-Device-Id": "android-7f3a"}
    assert (await claim(tenant, "alice", offer, **phone)).status_code == 200
    refused = await claim(tenant, "bob", offer, **phone)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "device_limit"
    assert refused.json()["request_id"] == refused.headers["x-request-id"]
    assert refused.headers["content-type"].startswith("application/problem+json")
    # Reading stays allowed; the same member on another device may claim.
    assert (
        await tenant.client.get("/v1/me/balance", headers=tenant.member("bob", **phone))
    ).status_code == 200
    assert (await claim(tenant, "bob", offer, **{"X-Device-Id": "bobs-own"})).status_code == 200
    # Redemptions from the shared device are refused too, and change nothing.
    blocked = await tenant.client.post(
        "/v1/me/redemptions",
        json={"sku": "video-month", "quantity": 1},
        headers=tenant.member("bob", **phone),
    )
    assert blocked.status_code == 403
    assert blocked.json()["type"] == "device_limit"
    assert await conn.fetchval("SELECT count(*) FROM redemptions WHERE member_id = 'bob'") == 0
    events = await risk_events(tenant, "?member_id=bob")
    assert [(e["reason"], e["detail"]["action"]) for e in events] == [
        ("device_limit", "redemption"),
        ("device_limit", "claim"),
    ]
    # Devices are kept as keyed hashes, never as sent.
    assert events[0]["device"] == events[1]["device"]
    assert len(events[0]["device"]) == 64
    for table, column in (("device_members", "device"), ("risk_events", "device")):
        raw = await conn.fetchval(
            f"SELECT count(*) FROM {table} WHERE position('android-7f3a'::bytea in {column}) > 0"
        )
        assert raw == 0
    ok = await redeem(tenant, "alice")
    assert ok.status_code == 201, ok.text


async def test_the_device_limit_is_exact_when_20_members_claim_from_one_device_at_once(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    (offer,) = await offers(tenant, 1)
    await limits(tenant, max_members_per_device=3)
    phone = {"X-Device-Id": "shared-phone"}
    members = [f"m-{n:02d}" for n in range(20)]
    responses = await asyncio.gather(*(claim(tenant, m, offer, **phone) for m in members))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 3 + [403] * 17
    assert (
        await conn.fetchval("SELECT count(*) FROM offer_members WHERE tenant_id = $1", tenant.id)
        == 3
    )
    assert len(await risk_events(tenant, "?reason=device_limit&limit=500")) == 17


async def test_claims_per_hour_are_refused_with_429_and_retry_after(tenant: Tenant, conn) -> None:
    await setup(tenant)
    ids = await offers(tenant, 4)
    await limits(tenant, max_claims_per_member_per_hour=2)
    assert (await claim(tenant, "m-1", ids[0])).status_code == 200
    assert (await claim(tenant, "m-1", ids[1])).status_code == 200
    over = await claim(tenant, "m-1", ids[2])
    assert over.status_code == 429, over.text
    assert over.json()["type"] == "rate_limited"
    assert over.json()["request_id"] == over.headers["x-request-id"]
    assert 3500 <= int(over.headers["retry-after"]) <= 3600
    # A claim made already is answered again: it is not a new claim.
    assert (await claim(tenant, "m-1", ids[0])).status_code == 200
    # A 429 is not kept as an Idempotency-Key's answer: once allowed, the same key works.
    keyed = {"Idempotency-Key": "claim-3"}
    assert (await claim(tenant, "m-1", ids[3], **keyed)).status_code == 429
    await limits(tenant, max_claims_per_member_per_hour=5)
    assert (await claim(tenant, "m-1", ids[3], **keyed)).status_code == 200
    events = await risk_events(tenant, "?reason=claim_rate")
    assert len(events) == 2
    assert events[0]["detail"]["limit"] == 2


async def test_claims_per_hour_hold_when_one_member_claims_ten_offers_at_once(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    ids = await offers(tenant, 10)
    await limits(tenant, max_claims_per_member_per_hour=3)
    responses = await asyncio.gather(*(claim(tenant, "m-1", o) for o in ids))
    assert sorted(r.status_code for r in responses) == [200] * 3 + [429] * 7
    claimed = await conn.fetchval(
        "SELECT count(*) FROM offer_members WHERE tenant_id = $1 AND claimed_at IS NOT NULL",
        tenant.id,
    )
    assert claimed == 3


async def test_points_over_the_daily_cap_are_not_awarded_and_the_answer_says_so(
    tenant: Tenant, conn
) -> None:
    await setup(tenant, {"mcc_rates": {}, "abuse": {"max_points_per_member_per_day": 5000}})
    body = (await tenant.hook(purchase("big", "m-1", amount_minor=1_000_000))).json()
    assert body["points"]["base"] == 5000
    assert body["points"]["capped"] == 5000
    assert body["points"]["total"] == 5000
    more = (await tenant.hook(purchase("more", "m-1", amount_minor=10000))).json()
    assert more["points"]["total"] == 0
    assert more["points"]["capped"] == 100
    # Another day of the program's time zone has room again.
    next_day = purchase(
        "next", "m-1", amount_minor=10000, occurred_at=iso(PURCHASE_AT + timedelta(days=1))
    )
    assert (await tenant.hook(next_day)).json()["points"]["total"] == 100
    # A full refund gives back the room it claws back.
    refund = purchase("back", "m-1", amount_minor=1_000_000) | {
        "kind": "reversal",
        "original_id": "big",
    }
    assert (await tenant.hook(refund)).json()["points"]["total"] == -5000
    again = (await tenant.hook(purchase("again", "m-1", amount_minor=300000))).json()
    assert again["points"]["total"] == 3000
    assert again["points"]["capped"] == 0
    events = await risk_events(tenant, "?reason=daily_points_cap")
    assert [e["detail"]["capped"] for e in events] == [100, 5000]
    assert events[0]["detail"]["cap"] == 5000
    simulated = await tenant.client.post(
        "/v1/admin/transactions/simulate",
        json=purchase("sim", "m-1", amount_minor=900000),
        headers=tenant.admin,
    )
    assert simulated.json()["points"]["capped"] == 7000
    assert len(await risk_events(tenant, "?reason=daily_points_cap")) == 2  # simulate wrote none
    await check_ledger(conn)


async def test_the_daily_cap_holds_for_50_purchases_of_one_member_at_once(
    tenant: Tenant, conn
) -> None:
    await setup(tenant, {"mcc_rates": {}, "abuse": {"max_points_per_member_per_day": 5000}})
    responses = await asyncio.gather(
        *(tenant.hook(purchase(f"p-{n}", "m-1", amount_minor=33300)) for n in range(50))
    )
    assert all(r.status_code == 200 for r in responses)
    totals = [r.json()["points"]["total"] for r in responses]
    capped = [r.json()["points"]["capped"] for r in responses]
    assert sum(totals) == 5000
    assert sum(totals) + sum(capped) == 50 * 333
    held = await conn.fetchval(
        "SELECT points_balance FROM members WHERE tenant_id = $1 AND member_id = 'm-1'", tenant.id
    )
    assert held == 5000
    day_points = await conn.fetchval(
        "SELECT points FROM member_day_points WHERE tenant_id = $1 AND member_id = 'm-1'",
        tenant.id,
    )
    assert day_points == 5000
    await check_ledger(conn)


async def test_risk_events_filter_and_page_and_abuse_changes_are_audited(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    await setup(tenant, {"mcc_rates": {}})
    await limits(tenant, max_points_per_member_per_day=10)
    for n in range(5):
        await tenant.hook(purchase(f"p-{n}", f"m-{n % 2}", amount_minor=5000))
    everything = await risk_events(tenant)
    assert len(everything) == 5
    assert len(await risk_events(tenant, "?member_id=m-0")) == 3
    first = await tenant.client.get("/v1/admin/risk-events?limit=2", headers=tenant.admin)
    page = first.json()
    second = await tenant.client.get(
        f"/v1/admin/risk-events?limit=2&cursor={page['next_cursor']}", headers=tenant.admin
    )
    seen = [e["id"] for e in page["items"] + second.json()["items"]]
    assert seen == [e["id"] for e in everything[:4]]
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert await risk_events(tenant, f"?from={later.replace('+', '%2B')}") == []
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+", "%2B")
    assert len(await risk_events(tenant, f"?from={earlier}&to={later.replace('+', '%2B')}")) == 5
    no_offset = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    naive = await tenant.client.get(f"/v1/admin/risk-events?from={no_offset}", headers=tenant.admin)
    assert naive.status_code == 422
    # Another tenant sees none of them.
    assert await risk_events(other_tenant) == []
    audit = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()
    changes = [e for e in audit["items"] if e["entity_type"] == "program"]
    assert changes[0]["after"]["abuse"]["max_points_per_member_per_day"] == 10
    assert changes[0]["before"]["abuse"] is None


async def test_a_bad_device_header_is_a_422_and_remembers_nothing(tenant: Tenant, conn) -> None:
    for bad in (b"x" * 129, "é-phone".encode("latin-1")):
        headers: dict[str, Any] = tenant.member("m-1")
        response = await tenant.client.get("/v1/me/balance", headers=headers | {"X-Device-Id": bad})
        assert response.status_code in (400, 422), response.text
    assert await conn.fetchval("SELECT count(*) FROM device_members") == 0
