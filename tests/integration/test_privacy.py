"""A member's data: exported whole, and erased without a trace of the old id while the
ledger's totals stay and reconcile."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.integration.bulk import import_members, ndjson, segment_members, wait_job
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.replay_scenario import configure
from tests.integration.test_catalog import item, redeem

WHO = "mem-Erase-Q7x"  # an id that appears nowhere but where this member is written
FRIEND = "friend-Z9"
MEMBER_COLUMNS = ("member_id", "referee_id", "referrer_id")


async def a_member_with_a_history(tenant: Tenant) -> None:
    """The member is in every place a member can be written: attributes (and their
    history), purchases, a refund, draws, rule caps, offers claimed and redeemed, a catalog
    redemption from a device, referrals both ways, risk events, audit entries."""
    await configure(tenant, draws=True, extra_rules=[])
    c, admin = tenant.client, tenant.admin
    device = {"X-Device-Id": "phone-of-q7"}
    put = await c.put(
        f"/v1/admin/members/{WHO}",
        json={"tier": "gold", "segments": ["vip"], "card_products": ["car-owner"]},
        headers=admin,
    )
    assert put.status_code == 200, put.text
    code = (await c.get("/v1/me/referral", headers=tenant.member(WHO, **device))).json()["code"]
    applied = await c.post(
        "/v1/me/referral/apply", json={"code": code}, headers=tenant.member(FRIEND)
    )
    assert applied.status_code == 200, applied.text
    claimed = await c.post("/v1/me/offers/fuel-12/claim", headers=tenant.member(WHO, **device))
    assert claimed.status_code == 200, claimed.text
    fuel = {"merchant_id": "shell", "store_id": "shell-01", "mcc": "5541"}
    for n in range(4):
        answer = await tenant.hook(purchase(f"p-{n}", WHO, amount_minor=90000, **fuel))
        assert answer.status_code == 200, answer.text
    assert (await tenant.hook(purchase("f-1", FRIEND, amount_minor=20000))).status_code == 200
    refund = purchase("r-1", WHO, kind="refund", original_id="p-0", amount_minor=30000)
    assert (await tenant.hook(refund)).status_code == 200
    await item(tenant)
    assert (await redeem(tenant, WHO)).status_code == 201
    adjusted = await c.post(
        f"/v1/admin/members/{WHO}/adjustments",
        json={"points": 10, "reason": "goodwill"},
        headers=admin,
    )
    assert adjusted.status_code in (200, 201), adjusted.text
    # Moved in by an import (a second line of the member is a line error naming them), in
    # a segment loaded in bulk, granted points.
    imported = await import_members(
        tenant,
        ndjson(
            [
                {"member_id": WHO, "tier": "gold", "spend_12m_minor": 100},
                {"member_id": WHO, "tier": "silver"},
            ]
        ),
    )
    assert imported["counts"]["failed"] == 1, imported
    await c.put("/v1/admin/segments/autumn", json={"name": "Autumn"}, headers=admin)
    assert (await segment_members(tenant, "autumn", [WHO, FRIEND]))["status"] == "done"
    grant = {"id": "g-1", "audience": {"member_ids": [WHO]}, "points": 5, "reason": "gift"}
    started = await c.post("/v1/admin/grants", json=grant, headers=admin)
    assert started.status_code == 202, started.text
    assert (await wait_job(tenant, started.json()["job_id"]))["counts"]["granted"] == 1
    # A purchase held on its risk score, and an adjustment waiting for a second key.
    controls = {"abuse": {"hold_above_score": 50}, "approvals": {"adjustment_points_over": 100}}
    assert (await c.patch("/v1/admin/program", json=controls, headers=admin)).status_code == 200
    held = await tenant.hook(purchase("h-1", WHO, risk={"score": 90}, **fuel))
    assert held.json()["points"]["held"] > 0, held.text
    waits = await c.post(
        f"/v1/admin/members/{WHO}/adjustments",
        json={"points": 500, "reason": "complaint 42"},
        headers=admin,
    )
    assert waits.status_code == 202, waits.text


async def member_tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT table_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_name = ANY($1::text[])",
        list(MEMBER_COLUMNS),
    )
    return {r["table_name"] for r in rows}


async def test_the_export_covers_every_table_that_holds_a_member(
    tenant: Tenant, other_tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await a_member_with_a_history(tenant)
    response = await tenant.client.get(f"/v1/admin/members/{WHO}/export", headers=tenant.admin)
    assert response.status_code == 200, response.text
    tables = response.json()["tables"]
    assert await member_tables(conn) <= set(tables)
    # The member is in each of these, and the export shows it.
    for table in (
        "members",
        "member_changes",
        "lots",
        "transfers",
        "transactions",
        "draws",
        "rule_usage",
        "member_spend",
        "offer_members",
        "offer_redemptions",
        "redemptions",
        "referrals",
        "device_members",
        "audit_log",
        "segment_members",
        "member_imports",
        "grant_members",
        "job_errors",
        "holds",
        "approvals",
    ):
        assert tables[table], table
    assert {t["transaction_id"] for t in tables["transactions"]} >= {"p-0", "r-1"}
    assert tables["transactions"][0]["answer"]["member_id"] == WHO
    assert (
        await other_tenant.client.get(f"/v1/admin/members/{WHO}/export", headers=other_tenant.admin)
    ).status_code == 404


async def text_columns(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND data_type IN "
        "('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea') "
        "AND table_name IN (SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE')"
    )
    return [(r["table_name"], r["column_name"]) for r in rows]


async def traces(conn: asyncpg.Connection, needle: str) -> list[tuple[str, str]]:
    found = []
    for table, column in await text_columns(conn):
        value = f"encode(\"{column}\", 'escape')" if column in ("answer",) else f'"{column}"::text'
        hit = await conn.fetchval(
            f'SELECT count(*) FROM "{table}" WHERE strpos({value}, $1) > 0', needle
        )
        if hit:
            found.append((table, column))
    return found


async def test_erasure_leaves_no_trace_and_the_ledger_reconciles(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await a_member_with_a_history(tenant)
    assert await traces(conn, WHO)  # the scan finds the member before
    before = await conn.fetchval(
        "SELECT sum(amount) FROM transfers WHERE tenant_id = $1", tenant.id
    )
    erased = await tenant.client.post(f"/v1/admin/members/{WHO}/erase", headers=tenant.admin)
    assert erased.status_code == 200, erased.text
    pseudonym = erased.json()["pseudonym"]
    assert pseudonym.startswith("erased-")
    assert await traces(conn, WHO) == []
    await check_ledger(conn)
    after = await conn.fetchval("SELECT sum(amount) FROM transfers WHERE tenant_id = $1", tenant.id)
    assert after == before
    kept = await tenant.client.get(f"/v1/admin/members/{pseudonym}", headers=tenant.admin)
    assert kept.status_code == 200
    body: dict[str, Any] = kept.json()
    assert (body["segments"], body["card_products"], body["tier"]) == ([], [], None)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM device_members WHERE tenant_id = $1 AND member_id = $2",
            tenant.id,
            pseudonym,
        )
        == 0
    )
    audit = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()
    assert any(e["action"] == "member.erase" for e in audit["items"])
    # Gone: a second erasure and the export find nothing; a later hook enrols a new member.
    again = await tenant.client.post(f"/v1/admin/members/{WHO}/erase", headers=tenant.admin)
    assert again.status_code == 404
    fresh = await tenant.hook(purchase("p-new", WHO, mcc="5812", amount_minor=10000))
    assert fresh.status_code == 200
    assert fresh.json()["balance"]["available"] == fresh.json()["points"]["total"]
    await check_ledger(conn)
