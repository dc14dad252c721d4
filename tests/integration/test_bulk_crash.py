"""An import and a grant whose serving process is killed with SIGKILL mid-job finish by
themselves in the next process, and leave exactly what an uninterrupted job leaves: no lot
posted twice, no member granted twice, the ledger reconciled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from api import wiring
from api.app import create_app
from api.settings import Settings
from db.pool import create_pool
from rewards.jobs import service as jobs
from tests.dates import days_ago, month_start
from tests.integration.bulk import IDS, NDJSON, ndjson, wait_job
from tests.integration.conftest import Tenant
from tests.integration.invariants import check_ledger
from tests.integration.test_points_hook import setup
from tests.integration.test_replays_crash import ENDED, kill_9, serve, until

MEMBERS = 12_000


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(
        # Only the served processes (and drain(), below) work on jobs: a worker in this
        # process would take a job over too whenever a lease lapses.
        Settings(
            database_url=database,
            access_log=False,
            bulk_chunk=300,
            pool_max_size=20,
            run_jobs=False,
        )
    )


def lines() -> bytes:
    return ndjson(
        [
            {
                "member_id": f"c-{n:06d}",
                "tier": ["silver", "gold"][n % 2],
                "segments": ["vip"] if n % 3 == 0 else [],
                "opening_lots": [
                    {
                        "points": 100 + n % 7,
                        "earned_at": days_ago(300).isoformat(),
                        "expires_at": month_start(4).isoformat(),
                    },
                    {"points": 5, "earned_at": days_ago(20).isoformat()},
                ],
            }
            for n in range(MEMBERS)
        ]
    )


async def drain(database: str) -> None:
    """Work on the waiting jobs in this process until none is left."""
    settings = Settings(database_url=database, bulk_chunk=300)
    pool = await create_pool(database, min_size=1, max_size=4)
    try:
        runner = jobs.Runner(pool, wiring.jobs(settings))
        while await runner.run_one() is not None:
            pass
    finally:
        await pool.close()


async def state(conn: asyncpg.Connection, tenant: Tenant) -> dict[str, Any]:
    members = await conn.fetch(
        "SELECT member_id, tier, points_balance, member_segments(tenant_id, member_id) AS s "
        "FROM members WHERE tenant_id = $1 ORDER BY member_id",
        tenant.id,
    )
    return {
        "members": [tuple(r) for r in members],
        "transfers": await conn.fetchval(
            "SELECT count(*) FROM transfers WHERE tenant_id = $1", tenant.id
        ),
        "lots": await conn.fetch(
            "SELECT member_id, amount, expires_at FROM lots WHERE tenant_id = $1 "
            "ORDER BY member_id, expires_at",
            tenant.id,
        ),
    }


async def kill_mid_job(
    database: str, log: Path, admin: dict[str, str], start: Any
) -> tuple[str, dict[str, Any]]:
    """Start a job on a served process, kill it with SIGKILL once the job has made progress,
    and let a second process finish it."""
    first, url = serve(database, log, chunk=300)
    try:
        async with httpx.AsyncClient(base_url=url, headers=admin, timeout=60) as c:
            job_id = await start(c)
            running = await until(
                c,
                f"/v1/admin/jobs/{job_id}",
                lambda s: s["progress"]["done"] > 0 or s["status"] in ENDED,
            )
            assert running["status"] == "running", running
            kill_9(first)
    finally:
        if first.poll() is None:
            first.terminate()
            first.wait(timeout=20)
    second, url = serve(database, log, chunk=300)
    try:
        async with httpx.AsyncClient(base_url=url, headers=admin, timeout=60) as c:
            ended = await until(
                c, f"/v1/admin/jobs/{job_id}", lambda s: s["status"] in ENDED, within=300
            )
    finally:
        second.terminate()
        second.wait(timeout=20)
    return job_id, ended


async def test_an_import_killed_mid_way_finishes_as_if_never_killed(
    tenant: Tenant,
    other_tenant: Tenant,
    database: str,
    conn: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    body = lines()

    async def start(c: httpx.AsyncClient) -> str:
        started = await c.post("/v1/admin/imports/members", content=body, headers=NDJSON)
        assert started.status_code == 202, started.text
        job_id: str = started.json()["job_id"]
        return job_id

    job_id, ended = await kill_mid_job(database, tmp_path / "serve.log", tenant.admin, start)
    assert ended["status"] == "done", ended
    attempts = await conn.fetchval("SELECT attempts FROM jobs WHERE job_id = $1", job_id)
    assert attempts == 2
    assert ended["counts"] == {"created": MEMBERS, "updated": 0, "unchanged": 0, "failed": 0}
    posted = await other_tenant.client.post(
        "/v1/admin/imports/members", content=body, headers=other_tenant.admin | NDJSON
    )
    assert posted.status_code == 202, posted.text
    await drain(database)
    uninterrupted = await wait_job(other_tenant, posted.json()["job_id"])
    assert uninterrupted["counts"] == ended["counts"]
    killed, whole = await state(conn, tenant), await state(conn, other_tenant)
    assert killed["transfers"] == whole["transfers"] == MEMBERS
    assert killed == whole
    await check_ledger(conn)


async def test_a_grant_killed_mid_way_grants_each_member_once(
    tenant: Tenant, database: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await tenant.client.put("/v1/admin/segments/all", json={"name": "All"}, headers=tenant.admin)
    ids = [f"g-{n:06d}" for n in range(MEMBERS)]
    loaded = await tenant.client.put(
        "/v1/admin/segments/all/members",
        content="".join(f"{m}\n" for m in ids).encode(),
        headers=tenant.admin | IDS,
    )
    assert loaded.status_code == 202, loaded.text
    await drain(database)
    assert (await wait_job(tenant, loaded.json()["job_id"]))["status"] == "done"
    grant = {"id": "g-1", "audience": {"segment": "all"}, "points": 8, "reason": "festival"}

    async def start(c: httpx.AsyncClient) -> str:
        started = await c.post("/v1/admin/grants", json=grant)
        assert started.status_code == 202, started.text
        job_id: str = started.json()["job_id"]
        return job_id

    job_id, ended = await kill_mid_job(database, tmp_path / "serve.log", tenant.admin, start)
    assert ended["status"] == "done", ended
    assert ended["counts"]["granted"] == MEMBERS
    assert await conn.fetchval("SELECT attempts FROM jobs WHERE job_id = $1", job_id) == 2
    per_member = await conn.fetch(
        "SELECT member_id, count(*) AS n, sum(amount) AS points FROM transfers "
        "WHERE tenant_id = $1 AND kind = 'grant' GROUP BY member_id",
        tenant.id,
    )
    assert len(per_member) == MEMBERS
    assert {(r["n"], r["points"]) for r in per_member} == {(1, 8)}
    await check_ledger(conn)


async def funded_month(conn: asyncpg.Connection, tenant: Tenant, merchants: int) -> str:
    """Five funded offer records for each of ``merchants`` merchants, last month; its id."""
    period = month_start(-1)
    await setup(tenant, {"settlement": {"return_days": 0}})
    await conn.execute(
        "INSERT INTO merchants (tenant_id, merchant_id, name, category)"
        " SELECT $1, 'mer' || lpad(i::text, 5, '0'), 'M', 'fuel' FROM generate_series(1, $2) i",
        tenant.id,
        merchants,
    )
    await conn.execute(
        "INSERT INTO offer_redemptions (tenant_id, offer_id, transaction_id, member_id, uses,"
        " reward_minor, points, spend_minor, day, merchant_id, store_id, occurred_at,"
        " share_pct, fee_per_match, merchant_share_minor, fee_minor)"
        " SELECT $1, 'o' || m, 't' || i, 'm' || i, 1, 1000 + i % 4000, 0, 40000,"
        " $3::date + i % 28, 'mer' || lpad(m::text, 5, '0'), 's' || m,"
        " ($3::date + i % 28)::timestamptz + i * interval '1 s', 50, 30,"
        " merchant_share(1000 + i % 4000, 50), 30"
        " FROM generate_series(0, $2 * 5 - 1) i, LATERAL (SELECT i % $2 + 1 AS m) x",
        tenant.id,
        merchants,
        period.date(),
    )
    return f"{period:%Y-%m}"


async def statements(conn: asyncpg.Connection, tenant: Tenant) -> list[tuple[Any, ...]]:
    rows = await conn.fetch(
        "SELECT period, merchant_id, lines, reward_minor, merchant_due_minor, fees_minor, sha256"
        " FROM statements WHERE tenant_id = $1 ORDER BY period, merchant_id",
        tenant.id,
    )
    return [tuple(r) for r in rows]


async def test_a_close_killed_mid_way_closes_each_statement_once(
    tenant: Tenant,
    other_tenant: Tenant,
    database: str,
    conn: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    period = ""
    for t in (tenant, other_tenant):
        period = await funded_month(conn, t, 6000)

    async def start(c: httpx.AsyncClient) -> str:
        started = await c.post(f"/v1/admin/settlements/{period}/close")
        assert started.status_code == 202, started.text
        job_id: str = started.json()["job_id"]
        return job_id

    job_id, ended = await kill_mid_job(database, tmp_path / "serve.log", tenant.admin, start)
    assert ended["status"] == "done", ended
    assert await conn.fetchval("SELECT attempts FROM jobs WHERE job_id = $1", job_id) == 2
    assert ended["counts"] == {"statements": 6000, "lines": 30000}
    whole = await other_tenant.client.post(
        f"/v1/admin/settlements/{period}/close", headers=other_tenant.admin
    )
    assert whole.status_code == 202, whole.text
    await drain(database)
    assert (await wait_job(other_tenant, whole.json()["job_id"]))["counts"] == ended["counts"]
    killed = await statements(conn, tenant)
    assert len(killed) == 6000
    assert killed == await statements(conn, other_tenant)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM offer_redemptions WHERE tenant_id = $1 AND settled IS NULL",
            tenant.id,
        )
        == 0
    )
