"""Outbound events survive a crash: `rewards serve` is killed (kill -9, every process of it)
while deliveries are in flight, started again, and every event reaches a real receiver."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import msgspec

from loadtest.wire import descendants
from rewards.core.credentials import hook_signature
from rewards.tenants.service import create_tenant
from tests.integration.conftest import purchase
from tests.integration.receiver import receiving
from tests.integration.test_points_hook import PROGRAM
from tests.integration.test_serve_process import _free_port, _rewards, _wait_ready

EVENTS = 400


def _serve(database: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DATABASE_URL": database,
        "REWARDS_WEBHOOK_ALLOW_PRIVATE": "1",
        "REWARDS_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        "REWARDS_WEBHOOK_TIMEOUT_SECONDS": "2",
        "REWARDS_WEBHOOK_DEADLINE_SECONDS": "2",
        "REWARDS_WEBHOOK_LEASE_SECONDS": "3",  # raised to the deadline + 5 s
        "REWARDS_ACCESS_LOG": "false",
    }
    with log.open("ab") as sink:
        return subprocess.Popen(
            [*_rewards(), "serve", "--port", str(port), "--workers", "2"],
            stdout=sink,
            stderr=sink,
            env=env,
        )


async def _post_hooks(client: httpx.AsyncClient, url: str, tenant_id: str, secret: str) -> None:
    """EVENTS signed purchases in batches of 100: one points.awarded event each."""
    for start in range(0, EVENTS, 100):
        body = msgspec.json.encode(
            {"transactions": [purchase(f"c-{n}", f"m-{n % 50}") for n in range(start, start + 100)]}
        )
        headers = {
            "Content-Type": "application/json",
            "X-Rewards-Tenant": tenant_id,
            "X-Rewards-Signature": hook_signature(secret, int(time.time()), body),
        }
        sent = await client.post(
            f"{url}/v1/hooks/transactions/batch", content=body, headers=headers
        )
        assert sent.status_code == 200, sent.text


async def test_no_event_is_lost_when_the_server_is_killed_mid_delivery(
    database: str, conn, tmp_path: Path
) -> None:
    async with conn.transaction():
        tenant = await create_tenant(conn, "Crash Bank")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with receiving() as receiver:
        receiver.slow_seconds = 0.05  # deliveries stay in flight for a while
        process = _serve(database, port, tmp_path / "serve.log")
        try:
            await asyncio.to_thread(_wait_ready, url, process)
            admin = {"Authorization": f"Bearer {tenant.admin_api_key}"}
            program = PROGRAM | {"webhook_url": receiver.url + "/slow"}
            async with httpx.AsyncClient(timeout=60) as client:
                put = await client.put(f"{url}/v1/admin/program", json=program, headers=admin)
                assert put.is_success, put.text
                await _post_hooks(client, url, tenant.tenant_id, tenant.hook_secret)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if len(receiver.received) >= 40:
                    break
                await asyncio.sleep(0.02)
            before_kill = len(receiver.received)
            assert 0 < before_kill < EVENTS, before_kill
            victims = [process.pid, *descendants(process.pid)]
            for pid in victims:
                os.kill(pid, signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
        pending = await conn.fetchval(
            "SELECT count(*) FROM outbox_events WHERE status = 'pending' AND tenant_id = $1",
            tenant.tenant_id,
        )
        assert pending > 0  # the kill left work undone
        process = _serve(database, port, tmp_path / "serve.log")
        try:
            await asyncio.to_thread(_wait_ready, url, process)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                left = await conn.fetchval(
                    "SELECT count(*) FROM outbox_events WHERE status <> 'delivered'"
                    " AND tenant_id = $1",
                    tenant.tenant_id,
                )
                if left == 0:
                    break
                await asyncio.sleep(0.2)
            assert left == 0
        finally:
            process.terminate()
            process.wait(timeout=30)
        stored = {
            r["event_id"]
            for r in await conn.fetch(
                "SELECT 'evt_' || sequence AS event_id FROM outbox_events WHERE tenant_id = $1",
                tenant.tenant_id,
            )
        }
        received = receiver.ids("/slow")
    assert len(stored) == EVENTS
    assert set(received) == stored  # every event arrived at least once
    duplicates = len(received) - len(set(received))
    # Receivers deduplicate by id; the bodies of an event's copies are the same event.
    by_id: dict[str, dict[str, object]] = {}
    for event in receiver.events("/slow"):
        assert by_id.setdefault(str(event["id"]), event) == event
    print(
        f"\ncrash test: {EVENTS} events, {before_kill} received before kill -9 of "
        f"{len(victims)} processes, {len(set(received))} delivered, {duplicates} duplicates"
    )
