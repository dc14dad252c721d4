"""`rewards replay`: the same replay from the command line, with a progress bar and --json."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.integration.conftest import Tenant
from tests.integration.replay_scenario import post_period
from tests.integration.test_cli import one_clear_line, rewards


@pytest.fixture
async def app(database: str) -> Litestar:
    # Jobs are left to the command line.
    return create_app(Settings(database_url=database, access_log=False, run_jobs=False))


async def test_rewards_replay_prints_the_replay_with_a_progress_bar(
    tenant: Tenant, database: str, tmp_path: Path
) -> None:
    opened = datetime.now(UTC)
    await post_period(tenant, transactions=2000, batch=500)
    closes = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    draft = tmp_path / "draft.json"
    rule = {
        "id": "fuel-boost",
        "name": "Fuel boost",
        "effect": {"kind": "multiplier", "value": "3"},
        "conditions": {"mcc_in": ["5541"]},
    }
    draft.write_text(json.dumps({"earn_rules": {"upsert": [rule]}}))
    window = ["--tenant", tenant.id, "--from", opened.isoformat(), "--to", closes]
    done = await asyncio.to_thread(
        rewards, "replay", *window, "--draft", str(draft), "--json", database=database
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "done"
    assert result["fidelity"]["baseline_equals_ledger"] is True
    boost = next(r for r in result["by_rule"] if r["rule_id"] == "fuel-boost")
    assert boost["baseline_points"] == 0
    assert boost["draft_points"] > 0
    # The same through the API.
    again = await tenant.client.get(f"/v1/admin/replays/{result['id']}", headers=tenant.admin)
    assert again.json()["draft"] == result["draft"]
    shown = await asyncio.to_thread(rewards, "replay", *window, database=database)
    assert shown.returncode == 0, shown.stderr
    assert "baseline equals the ledger: yes" in shown.stdout
    assert "replay" in shown.stderr  # the progress bar
    assert "tx" in shown.stderr


async def test_rewards_replay_says_what_is_wrong_in_one_line(
    tenant: Tenant, database: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    window = ["--from", now.isoformat(), "--to", (now + timedelta(hours=1)).isoformat()]
    missing = await asyncio.to_thread(
        rewards, "replay", "--tenant", "nobody", *window, database=database
    )
    one_clear_line(missing, 1, "no tenant nobody")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    broken = await asyncio.to_thread(
        rewards, "replay", "--tenant", tenant.id, *window, "--draft", str(bad), database=database
    )
    one_clear_line(broken, 2, "not JSON")
    bad.write_text(json.dumps({"earn_rules": {"upsert": [{"id": "x"}]}}))
    invalid = await asyncio.to_thread(
        rewards, "replay", "--tenant", tenant.id, *window, "--draft", str(bad), database=database
    )
    one_clear_line(invalid, 2, "earn_rules")
    reversed_ = await asyncio.to_thread(
        rewards,
        "replay",
        "--tenant",
        tenant.id,
        "--from",
        window[3],
        "--to",
        window[1],
        database=database,
    )
    one_clear_line(reversed_, 2, "after")
