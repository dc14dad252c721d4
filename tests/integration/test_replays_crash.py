"""A replay whose serving process is killed with SIGKILL is taken up again by the next
process once its lease runs out, and ends as an uninterrupted replay ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from loadtest.wire import descendants, free_port, wait_ready
from tests.integration.conftest import Tenant
from tests.integration.replay_scenario import post_period


@pytest.fixture
async def app(database: str) -> Litestar:
    # The in-process app only posts the period; the served processes work on the jobs.
    return create_app(Settings(database_url=database, access_log=False, run_jobs=False))


ENDED = ("done", "failed", "cancelled")


def serve(database: str, log: Path, chunk: int = 100) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database,
        "REWARDS_JOB_LEASE_SECONDS": "2",
        "REWARDS_JOB_POLL_SECONDS": "0.1",
        "REWARDS_REPLAY_CHUNK": str(chunk),
        "REWARDS_BULK_CHUNK": str(chunk),
    }
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "1"],
            stdout=sink,
            stderr=sink,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    return process, url


def kill_9(process: subprocess.Popen[bytes]) -> None:
    for pid in [*descendants(process.pid), process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


async def until(client: httpx.AsyncClient, path: str, done: Any, within: float = 120) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        state = (await client.get(path)).json()
        if done(state):
            return state
        assert loop.time() < deadline, state
        await asyncio.sleep(0.02)


async def test_a_replay_killed_mid_way_finishes_by_itself_as_if_never_killed(
    tenant: Tenant, database: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    opened = datetime.now(UTC)
    await post_period(tenant, transactions=8000)
    body = {
        "from": opened.isoformat(),
        "to": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
        "draft": {"program": {"base_rate": "2"}},
    }
    log = tmp_path / "serve.log"
    first, url = serve(database, log)
    killed = None
    try:
        async with httpx.AsyncClient(base_url=url, headers=tenant.admin, timeout=10) as c:
            for _ in range(5):  # until a kill lands while the replay runs
                replay_id = (await c.post("/v1/admin/replays", json=body)).json()["id"]
                state = await until(
                    c,
                    f"/v1/admin/replays/{replay_id}",
                    lambda s: s["progress"]["done"] > 0 or s["status"] in ENDED,
                )
                if state["status"] == "running":
                    kill_9(first)
                    killed = replay_id
                    break
    finally:
        if first.poll() is None:
            first.terminate()
            first.wait(timeout=20)
    assert killed is not None, "every replay ended before the kill"
    row = await conn.fetchrow(
        "SELECT status, progress_done, attempts FROM jobs WHERE job_id = $1", killed
    )
    assert row["status"] == "running"
    assert row["attempts"] == 1
    second, url = serve(database, log)
    try:
        async with httpx.AsyncClient(base_url=url, headers=tenant.admin, timeout=10) as c:
            resumed = await until(c, f"/v1/admin/replays/{killed}", lambda s: s["status"] in ENDED)
            again_id = (await c.post("/v1/admin/replays", json=body)).json()["id"]
            again = await until(c, f"/v1/admin/replays/{again_id}", lambda s: s["status"] in ENDED)
    finally:
        second.terminate()
        second.wait(timeout=20)
    assert resumed["status"] == "done", resumed
    attempts = await conn.fetchval("SELECT attempts FROM jobs WHERE job_id = $1", killed)
    assert attempts == 2
    assert resumed["fidelity"]["baseline_equals_ledger"], resumed["fidelity"]
    same = ("transactions", "baseline", "draft", "fidelity", "by_rule", "by_day")
    assert {k: resumed[k] for k in same} == {k: again[k] for k in same}
    assert resumed["progress"] == {
        "done": resumed["transactions"],
        "total": resumed["transactions"],
    }
