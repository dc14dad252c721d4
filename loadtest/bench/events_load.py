"""Outbound events under load: the single hook's throughput with a webhook set against
without one (same server, alternating rounds), and how fast a backlog of events drains to a
local receiver.

Run: .venv/bin/python -m loadtest.bench.events_load [--seconds 10] [--rounds 2] [--backlog 10000]

With REWARDS_DELIVER_EVENTS=false the server writes events but sends none: the rounds then
measure what writing them costs the hook, apart from delivering them.

The receiver is a minimal ASGI app under uvicorn in its own process (loadtest/
event_receiver.py), so that it is not what limits the drain. The backlog is made by batch
hooks while the receiver answers 503 (each event's first attempt fails and is due again an
hour later); then the receiver is resumed and every event is made due at once — the
operator's redeliver, in bulk — and the time until the last is delivered is measured.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time

import asyncpg
import httpx
import msgspec

from loadtest import wire
from loadtest.bench.hook_load import Server, drive, report, transaction
from loadtest.wire import free_port
from rewards.core.credentials import hook_signature


def _receiver() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "loadtest.drills.event_receiver", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/count", timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the receiver did not start")


def _webhook(server: Server, url: str | None) -> None:
    admin = {"Authorization": f"Bearer {server.tenant['admin_api_key']}"}
    httpx.patch(
        f"{server.url}/v1/admin/program", json={"webhook_url": url}, headers=admin
    ).raise_for_status()
    time.sleep(1.5)  # every worker sees the new program version on its next hook


async def _count(dsn: str, tenant: str, status: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        found: int = await conn.fetchval(
            "SELECT count(*) FROM outbox_events WHERE tenant_id = $1 AND status = $2",
            tenant,
            status,
        )
        return found
    finally:
        await conn.close()


async def _due_soon(dsn: str, tenant: str) -> int:
    """Pending events not yet tried, or in flight (no outcome recorded yet)."""
    conn = await asyncpg.connect(dsn)
    try:
        found: int = await conn.fetchval(
            "SELECT count(*) FROM outbox_events WHERE tenant_id = $1 AND status = 'pending'"
            " AND (attempts = 0 OR last_error IS NULL)",
            tenant,
        )
        return found
    finally:
        await conn.close()


async def _due_now(dsn: str, tenant: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE outbox_events SET next_attempt_at = now() WHERE tenant_id = $1"
            " AND status = 'pending'",
            tenant,
        )
    finally:
        await conn.close()


def _backlog(server: Server, size: int, rng: random.Random) -> None:
    secret, tenant = server.tenant["hook_secret"], server.tenant["tenant_id"]
    with httpx.Client(base_url=server.url, timeout=300) as client:
        for start in range(0, size, 1000):
            txs = [transaction(n, rng, "backlog") for n in range(start, min(start + 1000, size))]
            body = msgspec.json.encode({"transactions": txs})
            headers = {
                "Content-Type": "application/json",
                "X-Rewards-Tenant": tenant,
                "X-Rewards-Signature": hook_signature(secret, int(time.time()), body),
            }
            client.post(
                "/v1/hooks/transactions/batch", content=body, headers=headers
            ).raise_for_status()


def main() -> int:
    args = wire.scenario_arguments("events_load", seconds=10, rounds=(int, 2), backlog=(int, 10000))
    os.environ["REWARDS_WEBHOOK_ALLOW_PRIVATE"] = "1"
    os.environ["REWARDS_WEBHOOK_RETRY_BASE_SECONDS"] = "3600"
    receiver, receiver_url = _receiver()
    server = Server(args.workers)
    rng = random.Random(11)
    try:
        server.populate()
        dsn, tenant = server.dsn(), server.tenant["tenant_id"]
        print()
        print("| scenario | requests | awards/s | p50 ms | p95 ms | p99 ms | errors |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        rates: dict[bool, list[float]] = {False: [], True: []}
        n = 0
        for _ in range(args.rounds):
            for with_webhook in (False, True):
                _webhook(server, receiver_url + "/events" if with_webhook else None)
                bodies = [msgspec.json.encode(transaction(n + k, rng, "s")) for k in range(200_000)]
                n += 200_000
                result = asyncio.run(
                    drive(server, bodies, "/v1/hooks/transactions", args.connections, args.seconds)
                )
                label = "with webhook" if with_webhook else "no webhook"
                row = report(f"single hook, {label}, {args.connections} connections", result, 1)
                rates[with_webhook].append(row["awards_per_s"])
        without, with_ = statistics.median(rates[False]), statistics.median(rates[True])
        print(
            f"\nsingle hook, medians: {without:,.1f} awards/s without a webhook, "
            f"{with_:,.1f} with one ({with_ / without:.0%})"
        )
        if args.backlog <= 0 or os.environ.get("REWARDS_DELIVER_EVENTS") == "false":
            return 0  # no delivery (the cost of writing events alone), no backlog to drain
        # The backlog: made while the receiver refuses, then drained at once.
        httpx.post(f"{receiver_url}/pause")
        _webhook(server, receiver_url + "/events")
        asyncio.run(asyncio.sleep(2))
        delivered_before = asyncio.run(_count(dsn, tenant, "delivered"))
        _backlog(server, args.backlog, rng)
        # Every first attempt fails (503) and is due again an hour later.
        while asyncio.run(_due_soon(dsn, tenant)) > 0:
            time.sleep(0.5)
        pending = asyncio.run(_count(dsn, tenant, "pending"))
        httpx.post(f"{receiver_url}/resume")
        started = time.monotonic()
        asyncio.run(_due_now(dsn, tenant))
        while True:
            done = asyncio.run(_count(dsn, tenant, "delivered")) - delivered_before
            if done >= pending or time.monotonic() - started > 600:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        count = httpx.get(f"{receiver_url}/count").json()
        print(
            f"backlog: {pending:,} events drained in {elapsed:.1f} s = "
            f"{done / elapsed:,.0f} events/s to a local receiver "
            f"({args.workers} workers; receiver counted {count['received']:,} deliveries, "
            f"{count['unique']:,} distinct events)"
        )
    finally:
        server.stop()
        receiver.terminate()
        receiver.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
