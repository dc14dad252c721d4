"""Replays: faithful to the ledger, exact for a draft, and writing nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.integration.conftest import Tenant
from tests.integration.replay_scenario import post_period


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(
        Settings(database_url=database, access_log=False, job_poll_seconds=0.1, pool_max_size=20)
    )


async def replay(tenant: Tenant, body: dict[str, Any], *, timeout: float = 240) -> dict[str, Any]:
    started = await tenant.client.post("/v1/admin/replays", json=body, headers=tenant.admin)
    assert started.status_code == 202, started.text
    assert started.json()["status"] in ("queued", "running")
    replay_id = started.json()["id"]
    deadline = asyncio.get_running_loop().time() + timeout
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
    assert len(refunds) > 300 and len(reversals) > 100
    answers = list(period.answers.values())
    # Every binding happened in the period.
    assert any(a["points"]["capped"] for a in answers)  # the daily points cap
    assert any(a["points"]["referral"] for a in answers)
    assert any(a["offers_applied"] for a in answers)
    assert any(d["drawn_multiplier"] and d["drawn_multiplier"] > d["multiplier"]
               for a in answers for d in a["draws"])  # the campaign's budget
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
