"""Grants: points (from the grants account, with an expiry) and/or an offer claimed for
each member of a segment or a list, exactly once under retries and concurrency; events of
kind grant; audited."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.dates import month_start
from tests.integration.bulk import job_errors, segment_members, wait_job
from tests.integration.conftest import Tenant
from tests.integration.invariants import check_ledger
from tests.integration.replay_scenario import PROGRAM, configure

EXPIRES = month_start(3)


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(
        Settings(
            database_url=database, access_log=False, pool_max_size=40, webhook_allow_private=True
        )
    )


def grant(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "spring-festival",
        "audience": {"segment": "vip"},
        "points": 88,
        "expires_at": EXPIRES.isoformat(),
        "reason": "Spring festival",
    }
    return body | fields


async def vip(tenant: Tenant, ids: list[str]) -> None:
    await tenant.client.put("/v1/admin/segments/vip", json={"name": "VIP"}, headers=tenant.admin)
    assert (await segment_members(tenant, "vip", ids))["status"] == "done"


async def test_a_grant_gives_each_member_once_even_when_posted_many_times_at_once(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await configure(tenant, draws=False, extra_rules=[])
    program = PROGRAM | {"webhook_url": "http://127.0.0.1:9/hooks"}
    assert (
        await tenant.client.put("/v1/admin/program", json=program, headers=tenant.admin)
    ).status_code == 200
    ids = [f"g-{n:05d}" for n in range(3000)]
    await vip(tenant, ids)
    posts = await asyncio.gather(
        *(
            tenant.client.post("/v1/admin/grants", json=grant(), headers=tenant.admin)
            for _ in range(6)
        )
    )
    assert {p.status_code for p in posts} == {202}, [p.text for p in posts]
    assert len({p.json()["job_id"] for p in posts}) == 1
    job = await wait_job(tenant, posts[0].json()["job_id"])
    assert job["status"] == "done", job
    assert job["counts"] == {"granted": 3000, "already": 0, "failed": 0, "points": 264_000}
    again = await tenant.client.post("/v1/admin/grants", json=grant(), headers=tenant.admin)
    assert again.json()["job_id"] == job["id"]
    other = await tenant.client.post(
        "/v1/admin/grants", json=grant(points=99), headers=tenant.admin
    )
    assert other.status_code == 409, other.text
    rows = await conn.fetch(
        "SELECT debit_account, kind, count(*) AS n, sum(amount) AS points FROM transfers "
        "WHERE tenant_id = $1 GROUP BY 1, 2",
        tenant.id,
    )
    assert [tuple(r) for r in rows] == [("grants", "grant", 3000, 264_000)]
    expiring = await conn.fetch(
        "SELECT DISTINCT expires_at FROM lots WHERE tenant_id = $1", tenant.id
    )
    assert [r["expires_at"] for r in expiring] == [EXPIRES]
    member = (await tenant.client.get("/v1/admin/members/g-00007", headers=tenant.admin)).json()
    assert member["balance"]["available"] == 88
    events = await conn.fetch(
        "SELECT data FROM outbox_events WHERE tenant_id = $1 AND type = 'points.awarded'",
        tenant.id,
    )
    assert len(events) == 3000
    assert {e["data"]["kind"] for e in events} == {"grant"}
    done = await conn.fetch(
        "SELECT data FROM outbox_events WHERE tenant_id = $1 AND type = 'grant.completed'",
        tenant.id,
    )
    assert [e["data"] for e in done] == [
        {"job_id": job["id"], "grant_id": "spring-festival", "counts": job["counts"]}
    ]
    audit = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND action = 'grant.create'",
        tenant.id,
    )
    assert audit == 1
    shown = await tenant.client.get("/v1/admin/grants/spring-festival", headers=tenant.admin)
    assert shown.status_code == 200
    assert shown.json()["job"]["status"] == "done"
    await check_ledger(conn)


async def test_a_list_grant_with_an_offer_claims_it(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await configure(tenant, draws=False, extra_rules=[])
    body = grant(
        id="fuel-drop",
        audience={"member_ids": ["l-1", "l-2", "l-2", "l-3"]},
        points=None,
        expires_at=None,
        offer_id="fuel-12",
    )
    started = await tenant.client.post("/v1/admin/grants", json=body, headers=tenant.admin)
    assert started.status_code == 202, started.text
    job = await wait_job(tenant, started.json()["job_id"])
    assert job["counts"] == {"granted": 3, "already": 0, "failed": 0, "points": 0}, job
    claims = await conn.fetch(
        "SELECT member_id FROM offer_members WHERE tenant_id = $1 AND offer_id = 'fuel-12' "
        "AND claimed_at IS NOT NULL ORDER BY 1",
        tenant.id,
    )
    assert [r["member_id"] for r in claims] == ["l-1", "l-2", "l-3"]
    claimed = await tenant.client.get("/v1/me/offers/claimed", headers=tenant.member("l-1"))
    assert claimed.status_code == 200
    assert await job_errors(tenant, job["id"]) == {}


async def test_a_bad_grant_is_refused_and_queues_nothing(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await configure(tenant, draws=False, extra_rules=[])
    await vip(tenant, ["x"])
    cases = [
        (grant(points=None), 422),
        (grant(audience={"segment": "vip", "member_ids": ["x"]}), 422),
        (grant(audience={}), 422),
        (grant(audience={"segment": "nope"}), 404),
        (grant(offer_id="no-such-offer"), 404),
        (grant(expires_at="2001-01-01T00:00:00+08:00"), 422),
        (grant(points=0), 422),
        (grant(id="bad id"), 422),
    ]
    for body, status in cases:
        response = await tenant.client.post("/v1/admin/grants", json=body, headers=tenant.admin)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM jobs WHERE tenant_id = $1 AND kind = 'grant'", tenant.id
        )
        == 0
    )
    assert await conn.fetchval("SELECT count(*) FROM grants WHERE tenant_id = $1", tenant.id) == 0
