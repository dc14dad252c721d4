"""Hook throughput against the real service: `rewards serve --workers N` over PostgreSQL,
driven over loopback by signed single and batch hook calls.

Run: .venv/bin/python -m loadtest.bench.hook_load [--seconds 20] [--workers 2] [--connections 32]

It starts its own server on a free port (embedded PostgreSQL in a temporary folder unless
DATABASE_URL is set), sets up a program with a fuel rule and a draw campaign, brings it to
a running state (20,000 members who have each swiped once, and statistics fresh, as
autovacuum keeps them), and prints throughput and latency percentiles. The load generator
runs on the same machine and takes part of its CPU: the figures are what this machine does
end to end, generator included.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from db.embedded import EmbeddedPostgres
from db.queries import parse_queries
from loadtest import wire
from loadtest.wire import Request, Run, free_port, percentile
from rewards.core.credentials import hook_signature

SQL = parse_queries((Path(__file__).parent / "settle.sql").read_text(), "settle.sql")


def load_program(url: str, tenant: dict[str, str]) -> None:
    """The program the load runs under: base points, a capped fuel rule, a draw campaign."""
    admin = {"Authorization": f"Bearer {tenant['admin_api_key']}"}
    with httpx.Client(base_url=url, headers=admin) as client:
        client.put(
            "/v1/admin/program",
            json={"base_rate": "1", "mcc_rates": {"5541": "0.5"}, "excluded_mccs": ["6011"]},
        ).raise_for_status()
        client.post(
            "/v1/admin/earn-rules",
            json={
                "id": "fuel-3x",
                "name": "fuel",
                "effect": {"kind": "multiplier", "value": "3"},
                "conditions": {"mcc_in": ["5541"], "card_product_in": ["car-owner"]},
                "caps": {"per_member_per_day": 5000},
            },
        ).raise_for_status()
        client.post(
            "/v1/admin/draw-campaigns",
            json={
                "id": "every-swipe",
                "name": "every swipe",
                "prizes": [
                    {"multiplier": 1, "weight": 700},
                    {"multiplier": 2, "weight": 200},
                    {"multiplier": 5, "weight": 80},
                    {"multiplier": 10, "weight": 20},
                ],
                "budget": {"daily_points": 10**11, "total_points": 10**12},
            },
        ).raise_for_status()


class Server:
    """`rewards serve` in a child process, with a tenant set up for the load."""

    def __init__(
        self, workers: int, http_server: str | None = None, postgres: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = tempfile.mkdtemp(prefix="rewards-load-")
        self._db: EmbeddedPostgres | None = None
        env = os.environ | {
            "REWARDS_ACCESS_LOG": os.environ.get("LOAD_ACCESS_LOG", "false"),
            "REWARDS_LOG_LEVEL": "INFO",
        }
        data = ["--data-dir", self.folder]
        http_server = http_server or os.environ.get("LOAD_HTTP_SERVER")
        server = ["--server", http_server] if http_server else []
        cli = [sys.executable, "-m", "api.cli"]
        created = subprocess.run(
            [*cli, "tenant", "create", "--name", "Load Bank", "--json", *data],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        self.tenant = json.loads(created.stdout)
        if postgres and "DATABASE_URL" not in os.environ:
            # The embedded server stopped with the command above: it starts again with these.
            with (Path(self.folder) / "pgdata" / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{name} = '{value}'\n" for name, value in postgres.items())
        self.log = Path(os.environ.get("LOAD_SERVER_LOG", os.devnull)).open("wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [*cli, "serve", "--port", str(self.port), "--workers", str(workers), *server, *data],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        load_program(self.url, self.tenant)
        time.sleep(6)  # let every worker's credential cache see the tenant

    def dsn(self) -> str:
        """The service's database."""
        url = os.environ.get("DATABASE_URL")
        if url is not None:
            return url
        if self._db is None:
            # Another handle on the server's embedded PostgreSQL (stopped with the last one).
            self._db = EmbeddedPostgres(Path(self.folder))
        return self._db.dsn()

    def settle(self) -> None:
        """Fresh planner statistics and visibility map, as autovacuum keeps them on a
        service that has been running: call after loading a scenario's data."""

        async def run() -> None:
            conn = await asyncpg.connect(self.dsn())
            try:
                await conn.execute(SQL["settle"])
            finally:
                await conn.close()

        asyncio.run(run())

    def populate(self, members: int = 20_000) -> None:
        """A program in use: one purchase by each of ``members`` members (those the load's
        skew favours), through the batch hook, then ``settle``."""
        secret, tenant = self.tenant["hook_secret"], self.tenant["tenant_id"]
        with httpx.Client(base_url=self.url, timeout=300) as client:
            for start in range(0, members, 1000):
                txs = [
                    {
                        "id": f"populate-{n}",
                        "kind": "purchase",
                        "member_id": f"m-{n}",
                        "amount_minor": 20_000,
                        "currency": "CNY",
                        "mcc": "5812",
                        "occurred_at": "2026-11-20T08:30:00+08:00",
                    }
                    for n in range(start, min(start + 1000, members))
                ]
                body = msgspec.json.encode({"transactions": txs})
                headers = {
                    "Content-Type": "application/json",
                    "X-Rewards-Tenant": tenant,
                    "X-Rewards-Signature": hook_signature(secret, int(time.time()), body),
                }
                client.post(
                    "/v1/hooks/transactions/batch", content=body, headers=headers
                ).raise_for_status()
        self.settle()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
        if self._db is not None:
            self._db.stop()
        shutil.rmtree(self.folder, ignore_errors=True)  # the database goes with the run


def transaction(n: int, rng: random.Random, run: str) -> dict[str, Any]:
    # Skewed members: the busiest cardholder makes ~0.2 % of all swipes, most swipe rarely.
    member = int(200_000 * rng.random() ** 2)
    mcc = rng.choices(["5541", "5812", "5411", "5311", "6011"], [3, 3, 4, 2, 1])[0]
    return {
        "id": f"{run}-{n}",
        "kind": "purchase",
        "member_id": f"m-{member}",
        "card_product": rng.choice(["car-owner", "classic", "platinum"]),
        "amount_minor": rng.randint(500, 80000),
        "currency": "CNY",
        "mcc": mcc,
        "merchant_id": f"merchant-{rng.randint(1, 2000)}",
        "channel": "offline",
        "occurred_at": "2026-11-21T08:30:00+08:00",
    }


async def drive(
    server: Server, bodies: list[bytes], path: str, connections: int, seconds: float
) -> Run:
    """Post the bodies, each signed as it is sent, until time is up or they run out."""
    secret, tenant = server.tenant["hook_secret"], server.tenant["tenant_id"]

    def signed(n: int) -> Request | None:
        if n >= len(bodies):
            return None
        body = bodies[n]
        headers = {
            "Content-Type": "application/json",
            "X-Rewards-Tenant": tenant,
            "X-Rewards-Signature": hook_signature(secret, int(time.time()), body),
        }
        return "POST", path, headers, body

    return await wire.drive(server.url, connections, seconds, signed)


def report(label: str, run: Run, per: int) -> dict[str, Any]:
    sent, errors, latencies, elapsed = run
    row = {
        "scenario": label,
        "requests": sent,
        "awards_per_s": round(sent * per / elapsed, 1),
        "requests_per_s": round(sent / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "errors": errors,
    }
    print(
        f"| {label} | {row['requests']} | {row['awards_per_s']:,} | {row['p50_ms']} "
        f"| {row['p95_ms']} | {row['p99_ms']} | {errors} |",
        flush=True,
    )
    return row


def main() -> int:
    args = wire.scenario_arguments("hook_load", seconds=20, batch_size=(int, 1000))
    server = Server(args.workers)
    rng = random.Random(7)
    try:
        server.populate()
        print()
        print("| scenario | requests | awards/s | p50 ms | p95 ms | p99 ms | errors |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        singles = [msgspec.json.encode(transaction(n, rng, "s")) for n in range(400_000)]
        result = asyncio.run(
            drive(server, singles, "/v1/hooks/transactions", args.connections, args.seconds)
        )
        report(f"single hook, {args.connections} connections", result, per=1)
        batches = [
            msgspec.json.encode(
                {
                    "transactions": [
                        transaction(b * args.batch_size + n, rng, "b")
                        for n in range(args.batch_size)
                    ]
                }
            )
            for b in range(int(args.seconds * 30 / args.batch_size * 100) + 10)
        ]
        result = asyncio.run(
            drive(server, batches, "/v1/hooks/transactions/batch", 2, args.seconds)
        )
        report(f"batch hook ({args.batch_size} per call), 2 connections", result, args.batch_size)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
