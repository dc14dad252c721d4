"""Replays: faithful to the ledger, exact for a draft, and writing nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.integration.conftest import Tenant
from tests.integration.replay_scenario import configure, post_period


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(
        Settings(database_url=database, access_log=False, job_poll_seconds=0.1, pool_max_size=20)
    )


async def replay(tenant: Tenant, body: dict[str, Any], *, within: float = 240) -> dict[str, Any]:
    started = await tenant.client.post("/v1/admin/replays", json=body, headers=tenant.admin)
    assert started.status_code == 202, started.text
    assert started.json()["status"] in ("queued", "running")
    replay_id = started.json()["id"]
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await tenant.client.get(f"/v1/admin/replays/{replay_id}", headers=tenant.admin)
        state: dict[str, Any] = found.json()
        if state["status"] not in ("queued", "running"):
            return state
        assert asyncio.get_running_loop().time() < deadline, state
        await asyncio.sleep(0.2)


def window(opened: datetime) -> dict[str, str]:
    return {
        "from": opened.isoformat(),
        "to": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
    }


async def test_the_baseline_equals_the_ledger_transaction_by_transaction(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    opened = datetime.now(UTC)
    period = await post_period(tenant, transactions=20_000)
    assert len(period.bodies) == 20_000
    refunds = [b for b in period.bodies if b["kind"] == "refund" and b["id"] in period.answers]
    reversals = [b for b in period.bodies if b["kind"] == "reversal" and b["id"] in period.answers]
    assert len(refunds) > 300
    assert len(reversals) > 100
    answers = list(period.answers.values())
    # Every binding happened in the period.
    assert any(a["points"]["capped"] for a in answers)  # the daily points cap
    assert any(a["points"]["referral"] for a in answers)
    assert any(a["offers_applied"] for a in answers)
    assert any(
        d["drawn_multiplier"] and d["drawn_multiplier"] > d["multiplier"]
        for a in answers
        for d in a["draws"]
    )  # the campaign's budget
    applied = {r["rule_id"] for a in answers for r in a["rules_applied"]}
    assert applied == {"fuel", "gold-dining", "weekend", "vip", "car-owner"}
    result = await replay(tenant, window(opened))
    assert result["status"] == "done", result
    bad = {d["transaction_id"] for d in result["fidelity"]["first_differences"]}
    shown = [(b, period.answers.get(b["id"])) for b in period.bodies if b["id"] in bad]
    assert result["fidelity"] == {
        "baseline_equals_ledger": True,
        "differences": 0,
        "first_differences": [],
    }, shown
    assert result["transactions"] == len(period.answers)
    # The baseline's totals are the ledger's.
    assert result["baseline"]["points"]["total"] == sum(a["points"]["total"] for a in answers)
    assert result["draft"] == result["baseline"]
    exhausted = {r["rule_id"]: r["baseline_budget_exhausted_at"] for r in result["by_rule"]}
    assert exhausted["car-owner"] is not None


#: Tables a replay may write: its job, its line errors, what its runs gave.
JOB_TABLES = {"jobs", "job_errors", "replay_transactions"}


async def contents(conn: asyncpg.Connection) -> dict[str, str]:
    """A digest of every row of every table but the jobs' own."""
    tables = [
        r["tablename"]
        for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        if r["tablename"] not in JOB_TABLES
    ]
    found = {}
    for table in sorted(tables):
        found[table] = await conn.fetchval(
            f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table} t"
        )
    return found


async def test_a_replay_writes_nothing_but_its_job(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    opened = datetime.now(UTC)
    await post_period(tenant, transactions=3000, batch=500)
    before = await contents(conn)
    assert {
        "transfers",
        "lots",
        "members",
        "earn_rules",
        "draw_campaigns",
        "offers",
        "outbox_events",
        "audit_log",
        "rule_usage",
        "catalog_items",
    } <= set(before)
    draft = {
        "earn_rules": {"upsert": [BOOST], "remove": ["weekend"]},
        "draw_campaigns": {"upsert": [NEW_DRAW]},
        "program": {"base_rate": "2"},
    }
    result = await replay(tenant, window(opened) | {"draft": draft, "draw_samples": 20})
    assert result["status"] == "done", result
    assert result["draft"]["points"]["total"] > result["baseline"]["points"]["total"]
    # The new campaign was drawn with 20 fresh secrets, within its budget.
    (cost,) = result["draws"]
    assert cost["campaign_id"] == "new-draw"
    assert 0 < cost["p50_points"] <= cost["p95_points"] <= NEW_DRAW["budget"]["total_points"]
    assert await contents(conn) == before


BOOST = {
    "id": "fuel-boost",
    "name": "Fuel boost 3x",
    "effect": {"kind": "multiplier", "value": "3"},
    "conditions": {"mcc_in": ["5541"]},
    "caps": {"budget_points": 120_000},
}

NEW_DRAW = {
    "id": "new-draw",
    "name": "A new lucky draw",
    "prizes": [{"multiplier": 1, "weight": 90}, {"multiplier": 3, "weight": 10}],
    "budget": {"total_points": 20000},
}


def award(answer: dict[str, Any]) -> tuple[Any, ...]:
    p = answer["points"]
    return (
        (p["base"], p["rules"], p["draw"], p["offers"], p["referral"], p["total"], p["capped"]),
        sorted((r["rule_id"], r["points"]) for r in answer["rules_applied"]),
        [(o["offer_id"], o["reward_minor"], o["points"]) for o in answer["offers_applied"]],
        answer.get("forgiven", 0),
    )


async def test_a_draft_gives_exactly_what_the_live_hook_gives_with_it_in_force(
    tenant: Tenant, other_tenant: Tenant, conn: asyncpg.Connection
) -> None:
    """The draft adds a budgeted rule that runs out mid-period; the same transactions,
    posted to a fresh tenant with that rule in force, earn exactly what the draft says, rule
    by rule and transaction by transaction, and its budget runs out on the same purchase."""
    opened = datetime.now(UTC)
    await post_period(tenant, transactions=10_000, draws=False)
    live = await post_period(other_tenant, transactions=10_000, draws=False, extra_rules=[BOOST])
    result = await replay(tenant, window(opened) | {"draft": {"earn_rules": {"upsert": [BOOST]}}})
    assert result["status"] == "done", result
    assert result["fidelity"]["baseline_equals_ledger"], result["fidelity"]
    # Rule by rule, to the point.
    by_rule: dict[tuple[str, str], int] = {}
    for answer in live.answers.values():
        for r in answer["rules_applied"]:
            by_rule[("earn_rule", r["rule_id"])] = (
                by_rule.get(("earn_rule", r["rule_id"]), 0) + r["points"]
            )
        for o in answer["offers_applied"]:
            by_rule[("offer", o["offer_id"])] = (
                by_rule.get(("offer", o["offer_id"]), 0) + o["points"]
            )
    drafted = {(r["kind"], r["rule_id"]): r["draft_points"] for r in result["by_rule"]}
    assert {k: v for k, v in drafted.items() if v} == {k: v for k, v in by_rule.items() if v}
    assert result["draft"]["points"]["total"] == sum(
        a["points"]["total"] for a in live.answers.values()
    )
    # The budget ran out mid-period, on the purchase that exhausted it live.
    used, exhausted_at = 0, None
    for body in live.bodies:
        answer = live.answers.get(body["id"])
        for r in answer["rules_applied"] if answer else []:
            if r["rule_id"] == "fuel-boost":
                used += r["points"]
                if used >= BOOST["caps"]["budget_points"] and exhausted_at is None:
                    exhausted_at = body["occurred_at"]
    assert exhausted_at is not None
    assert used >= BOOST["caps"]["budget_points"]
    boost = next(r for r in result["by_rule"] if r["rule_id"] == "fuel-boost")
    assert datetime.fromisoformat(boost["budget_exhausted_at"]) == datetime.fromisoformat(
        exhausted_at
    )
    assert boost["baseline_points"] == 0
    assert boost["budget_exhausted_at"] is not None
    last = datetime.fromisoformat(live.bodies[-1]["occurred_at"])
    assert datetime.fromisoformat(exhausted_at) < last
    # Transaction by transaction: the draft's answer (kept where it differs from the ledger)
    # is the live one.
    kept = {
        r["transaction_id"]: r["draft"]
        for r in await conn.fetch(
            "SELECT transaction_id, draft FROM replay_transactions WHERE tenant_id = $1 "
            "AND job_id = $2 AND draft IS NOT NULL",
            tenant.id,
            result["id"],
        )
    }
    ledger = {
        r["transaction_id"]: r["answer"]
        for r in await conn.fetch(
            "SELECT transaction_id, answer FROM transactions WHERE tenant_id = $1", tenant.id
        )
    }
    assert set(ledger) == set(live.answers)
    for tx_id, answer in live.answers.items():
        drafted_answer = msgspec.json.decode(kept.get(tx_id, ledger[tx_id]))
        assert award(drafted_answer) == award(answer), tx_id


async def test_replays_are_listed_read_and_cancelled_as_jobs(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    opened = datetime.now(UTC)
    await post_period(tenant, transactions=1000, batch=500)
    done = await replay(tenant, window(opened))
    c = tenant.client
    job = (await c.get(f"/v1/admin/jobs/{done['id']}", headers=tenant.admin)).json()
    assert job["kind"] == "replay"
    assert job["status"] == "done"
    assert job["progress"] == {"done": done["transactions"], "total": done["transactions"]}
    assert job["started_at"] <= job["finished_at"]
    listed = (await c.get("/v1/admin/jobs", params={"kind": "replay"}, headers=tenant.admin)).json()
    assert [j["id"] for j in listed["items"]] == [done["id"]]
    assert (await c.get("/v1/admin/jobs", params={"kind": "import"}, headers=tenant.admin)).json()[
        "items"
    ] == []
    replays = (await c.get("/v1/admin/replays", headers=tenant.admin)).json()
    assert [r["id"] for r in replays["items"]] == [done["id"]]
    errors = await c.get(f"/v1/admin/jobs/{done['id']}/errors", headers=tenant.admin)
    assert errors.json() == {"items": [], "next_cursor": None}
    # A finished job is not cancelled; another tenant's is not found.
    again = await c.delete(f"/v1/admin/replays/{done['id']}", headers=tenant.admin)
    assert again.status_code == 409
    assert again.json()["type"] == "job_not_running"
    for path in (f"/v1/admin/replays/{done['id']}", f"/v1/admin/jobs/{done['id']}"):
        assert (await c.get(path, headers=other_tenant.admin)).status_code == 404
    # Cancelled while it waits or runs: it ends cancelled, with no result.
    started = await c.post("/v1/admin/replays", json=window(opened), headers=tenant.admin)
    cancelled = await c.delete(f"/v1/admin/jobs/{started.json()['id']}", headers=tenant.admin)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    await asyncio.sleep(0.5)
    state = (await c.get(f"/v1/admin/replays/{started.json()['id']}", headers=tenant.admin)).json()
    assert state["status"] == "cancelled"
    assert state["baseline"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2026-01-02T00:00:00+08:00", "to": "2026-01-01T00:00:00+08:00"}, "to"),
        ({"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00+08:00"}, "from"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "draw_samples": 0}, None),
        (
            {
                "from": "2026-01-01T00:00:00Z",
                "to": "2026-01-02T00:00:00Z",
                "draft": {"earn_rules": {"upsert": [{"id": "x", "name": "x"}]}},
            },
            None,
        ),
        (
            {
                "from": "2026-01-01T00:00:00Z",
                "to": "2026-01-02T00:00:00Z",
                "draft": {"program": {"time_zone": "Mars/Olympus"}},
            },
            None,
        ),
        (
            {
                "from": "2026-01-01T00:00:00Z",
                "to": "2026-01-02T00:00:00Z",
                "draft": {"offers": {"upsert": [{"id": "o", "title": "t"}]}},
            },
            None,
        ),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "extra": 1}, None),
    ],
)
async def test_a_bad_replay_request_is_refused_and_queues_nothing(
    tenant: Tenant, conn: asyncpg.Connection, body: dict[str, Any], field: str | None
) -> None:
    response = await tenant.client.post("/v1/admin/replays", json=body, headers=tenant.admin)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert field in {e["field"] for e in response.json().get("errors", [])}, response.json()
    assert await conn.fetchval("SELECT count(*) FROM jobs") == 0


async def test_the_configuration_in_force_at_any_past_moment_is_read_back(
    tenant: Tenant,
) -> None:
    c, admin = tenant.client, tenant.admin
    before = datetime.now(UTC)
    await asyncio.sleep(0.01)
    rule = {"id": "fuel", "name": "Fuel 3x", "effect": {"kind": "multiplier", "value": "3"}}
    assert (await c.post("/v1/admin/earn-rules", json=rule, headers=admin)).status_code == 201
    await asyncio.sleep(0.01)
    first = datetime.now(UTC)
    await asyncio.sleep(0.01)
    patched = await c.patch(
        "/v1/admin/earn-rules/fuel",
        json={"effect": {"kind": "multiplier", "value": "2"}},
        headers=admin,
    )
    assert patched.status_code == 200
    await c.patch("/v1/admin/program", json={"base_rate": "2"}, headers=admin)
    await asyncio.sleep(0.01)
    second = datetime.now(UTC)
    await asyncio.sleep(0.01)
    assert (await c.delete("/v1/admin/earn-rules/fuel", headers=admin)).status_code == 204

    async def rule_at(at: datetime) -> Any:
        return await c.get(
            "/v1/admin/earn-rules/fuel", params={"as_of": at.isoformat()}, headers=admin
        )

    assert (await rule_at(before)).status_code == 404
    assert (await rule_at(first)).json()["effect"]["value"] == "3"
    assert (await rule_at(second)).json()["effect"]["value"] == "2"
    assert (await rule_at(datetime.now(UTC))).status_code == 404
    assert (await c.get("/v1/admin/earn-rules/fuel", headers=admin)).status_code == 404

    async def program_at(at: datetime) -> Any:
        response = await c.get("/v1/admin/program", params={"as_of": at.isoformat()}, headers=admin)
        return response.json()["base_rate"]

    assert await program_at(first) == "1"
    assert await program_at(second) == "2"
    bad = await c.get("/v1/admin/program", params={"as_of": "yesterday"}, headers=admin)
    assert bad.status_code in (400, 422)


async def test_an_offer_reads_back_as_it_stood(tenant: Tenant) -> None:
    c, admin = tenant.client, tenant.admin
    before = datetime.now(UTC)
    await asyncio.sleep(0.01)
    await configure(tenant, draws=False, extra_rules=[])  # fuel-12, reviewed, then approved
    await asyncio.sleep(0.01)
    approved = datetime.now(UTC)
    await asyncio.sleep(0.01)
    found = await c.get("/v1/admin/offers/fuel-12", headers=admin)
    assert found.json()["status"] == "active"

    async def offer_at(at: datetime) -> Any:
        return await c.get(
            "/v1/admin/offers/fuel-12", params={"as_of": at.isoformat()}, headers=admin
        )

    assert (await offer_at(before)).status_code == 404
    then = await offer_at(approved)
    assert then.json()["status"] == "active"
    assert then.json()["title"] == "12% off fuel"
