"""Group commit: concurrent single hooks are written together, each answered as if alone."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import asyncpg

from api.app import create_app
from api.settings import Settings
from rewards.tenants.service import create_tenant
from tests.integration.conftest import Tenant, purchase
from tests.integration.http import AppClient
from tests.integration.invariants import check_ledger
from tests.integration.test_draws import campaign
from tests.integration.test_points_hook import setup

BUDGETED_RULE = {
    "id": "fuel-3x",
    "name": "Fuel 3x",
    "effect": {"kind": "multiplier", "value": "3"},
    "conditions": {"mcc_in": ["5541"]},
    "caps": {"budget_points": 7_777},
}


async def gathered(client: AppClient) -> tuple[float, float]:
    """(batches written, hooks in them) so far, from /metrics."""
    text = (await client.get("/metrics")).text
    found = dict(re.findall(r"^rewards_hook_gathered_(sum|count) (\S+)$", text, re.M))
    return float(found.get("count", 0)), float(found.get("sum", 0))


async def test_200_concurrent_single_hooks_are_gathered_and_the_budgets_hold_exactly(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, None, BUDGETED_RULE)
    # Every draw wins 2x; the day's 5,000 draw points run out long before 200 purchases.
    await campaign(
        tenant,
        prizes=[{"multiplier": 2, "weight": 1}],
        budget={"daily_points": 5000, "total_points": 1_000_000},
    )
    batches, hooks = await gathered(tenant.client)
    responses = await asyncio.gather(
        *(
            tenant.hook(purchase(f"t{n}", f"m-{n % 70}", mcc="5541", amount_minor=10000))
            for n in range(200)
        )
    )
    assert {r.status_code for r in responses} == {200}, {r.text for r in responses}
    after_batches, after_hooks = await gathered(tenant.client)
    assert after_hooks - hooks == 200
    assert after_batches - batches < 200  # some hooks were written together
    answers = [r.json() for r in responses]
    assert [a["transaction_id"] for a in answers] == [f"t{n}" for n in range(200)]
    # The rule's 7,777 points are spent to the last one, and never more.
    assert sum(a["points"]["rules"] for a in answers) == 7_777
    assert await conn.fetchval("SELECT budget_used FROM earn_rules") == 7_777
    drawn = sum(a["points"]["draw"] for a in answers)
    assert 4_900 < drawn <= 5000
    assert await conn.fetchval("SELECT used FROM draw_daily_usage") == drawn
    assert await conn.fetchval("SELECT count(*) FROM transactions") == 200
    # What each caller was answered is what a repeat delivery gets.
    again = await tenant.hook(purchase("t7", "m-7", mcc="5541", amount_minor=10000))
    assert again.text == responses[7].text
    await check_ledger(conn)


async def test_a_bad_hook_among_gathered_ones_gets_its_own_problem(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant)
    bodies: list[dict[str, Any]] = [purchase(f"t{n}", f"m-{n}") for n in range(40)]
    # A refund of a purchase never seen, and a second body for an id being posted.
    bodies[13] = {**purchase("r13", "m-13"), "kind": "refund", "original_id": "nope"}
    bodies[27] = purchase("t26", "m-26", amount_minor=1)
    responses = await asyncio.gather(*(tenant.hook(b) for b in bodies))
    statuses = {n: r.status_code for n, r in enumerate(responses) if r.status_code != 200}
    assert statuses.keys() <= {13, 26, 27}
    assert statuses[13] == 422
    # Of the two bodies for t26 one is recorded, and the other is refused as a conflict.
    assert sorted([responses[26].status_code, responses[27].status_code]) == [200, 409]
    # 40 bodies: one refused, one a second body of t26.
    assert await conn.fetchval("SELECT count(*) FROM transactions") == 38
    await check_ledger(conn)


async def test_concurrent_copies_of_one_hook_get_one_answer_and_one_award(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant)
    responses = await asyncio.gather(*(tenant.hook(purchase()) for _ in range(30)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    assert await conn.fetchval("SELECT count(*) FROM transfers") == 1
    await check_ledger(conn)


def _client(database: str, **settings: Any) -> AppClient:
    """A client of an app of its own, with these settings."""
    return AppClient(create_app(Settings(database_url=database, access_log=False, **settings)))


async def _tenant_of(client: AppClient, conn: asyncpg.Connection) -> Tenant:
    async with conn.transaction():
        created = await create_tenant(conn, "Bank A")
    tenant = Tenant(client, created)
    await setup(tenant)
    return tenant


async def test_a_lone_hook_waits_no_window(database: str, conn: asyncpg.Connection) -> None:
    # A window of a second: hooks one after another, on a worker with nothing else to
    # write, must not wait for it.
    async with _client(database, hook_gather_window_ms=1000) as client:
        tenant = await _tenant_of(client, conn)
        started = time.monotonic()
        for n in range(5):
            response = await tenant.hook(purchase(f"t{n}"))
            assert response.status_code == 200, response.text
        assert time.monotonic() - started < 4.0
        # Under concurrency, a batch's end starts the next one before the window ends.
        started = time.monotonic()
        responses = await asyncio.gather(*(tenant.hook(purchase(f"u{n}")) for n in range(40)))
        assert {r.status_code for r in responses} == {200}
        assert time.monotonic() - started < 30
    await check_ledger(conn)


async def test_gathering_off_writes_each_hook_alone(
    database: str, conn: asyncpg.Connection
) -> None:
    async with _client(database, hook_gather_max=1) as client:
        tenant = await _tenant_of(client, conn)
        batches, hooks = await gathered(client)
        responses = await asyncio.gather(*(tenant.hook(purchase(f"t{n}")) for n in range(30)))
        assert {r.status_code for r in responses} == {200}
        after_batches, after_hooks = await gathered(client)
        assert after_batches - batches == after_hooks - hooks == 30
    await check_ledger(conn)


async def test_concurrent_batches_with_the_same_transactions_award_each_once(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    # Batch calls are not gathered: each is a transaction of its own, so copies of one id
    # meet at the write, where the first to commit records it and the others start over.
    await setup(tenant)
    txs = [purchase(f"t{n}", f"m-{n}") for n in range(10)]
    calls = [txs[k:] + txs[:k] for k in range(0, 10, 2)]
    responses = await asyncio.gather(*(tenant.hook_batch(c) for c in calls))
    assert {r.status_code for r in responses} == {200}
    answers: dict[str, set[str]] = {}
    for r in responses:
        for item in r.json()["results"]:
            answers.setdefault(item["transaction_id"], set()).add(str(item))
    assert sorted(answers) == sorted(f"t{n}" for n in range(10))
    assert all(len(copies) == 1 for copies in answers.values())
    assert await conn.fetchval("SELECT count(*) FROM transactions") == 10
    assert await conn.fetchval("SELECT count(*) FROM transfers") == 10
    await check_ledger(conn)
