"""The single hook with segments in use: two tenants on one server with the same program
(a fuel rule, a draw, and a rule for members of some segments); one has 2,000 segments with
50 memberships per member on average, the other none. Rounds alternate between them and
the medians of their p99s are compared.

Run: .venv/bin/python -m loadtest.bench.segments_hook [--segments 2000] [--per-member 50]
     [--members 200000] [--seconds 10] [--rounds 3] [--connections 32] [--workers 2]

Memberships are written straight into the segments' current generations (what membership
jobs leave), then statistics settle as autovacuum keeps them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import msgspec

from loadtest.bench.hook_load import Server, drive, report, transaction
from loadtest.machine import describe

VIP_RULE = {
    "id": "segment-bonus",
    "name": "Segment bonus",
    "effect": {"kind": "fixed", "value": 20},
    "conditions": {"segment_in": ["seg-7", "seg-42", "seg-1999"]},
}


async def fill(dsn: str, tenant_id: str, segments: int, per_member: int, members: int) -> float:
    began = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO segments (tenant_id, segment_id, name) "
            "SELECT $1::text, 'seg-' || s, 'Segment ' || s FROM generate_series(0, $2::int - 1) s",
            tenant_id,
            segments,
        )
        await conn.execute(
            "INSERT INTO segment_generations (tenant_id, segment_id, generation, active_from) "
            "SELECT tenant_id, segment_id, generation, now() FROM segments WHERE tenant_id = $1",
            tenant_id,
        )
        # Each member in 1 to 2 x per_member - 1 segments (per_member on average), spread
        # over all segments.
        await conn.execute(
            """
            INSERT INTO segment_members (tenant_id, segment_id, generation, member_id)
            SELECT $1::text, s.segment_id, s.generation, 'm-' || m
            FROM generate_series(0, $2::int - 1) AS m
            CROSS JOIN LATERAL
                generate_series(1, 1 + (hashint4(m) & 2147483647) % (2 * $3::int - 1)) AS k
            JOIN segments s ON s.tenant_id = $1::text
             AND s.segment_id = 'seg-' || ((hashint4(m * 7919 + k) & 2147483647) % $4::int)
            ON CONFLICT DO NOTHING
            """,
            tenant_id,
            members,
            per_member,
            segments,
        )
        return time.perf_counter() - began
    finally:
        await conn.close()


def second_tenant(server: Server) -> dict[str, str]:
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "tenant",
            "create",
            "--name",
            "Plain",
            "--json",
            "--data-dir",
            server.folder,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    tenant: dict[str, str] = json.loads(created.stdout)
    return tenant


def configure(server: Server, tenant: dict[str, str]) -> None:
    admin = {"Authorization": f"Bearer {tenant['admin_api_key']}"}
    with httpx.Client(base_url=server.url, headers=admin) as client:
        client.put(
            "/v1/admin/program",
            json={"base_rate": "1", "mcc_rates": {"5541": "0.5"}, "excluded_mccs": ["6011"]},
        ).raise_for_status()
        client.post("/v1/admin/earn-rules", json=VIP_RULE).raise_for_status()


def alternate(
    server: Server,
    tenants: list[tuple[str, dict[str, str]]],
    body: Callable[[int, str], dict[str, Any]],
    rounds: int,
    seconds: float,
    connections: int,
    warm_up: float = 0,
) -> dict[str, list[float]]:
    """Single hooks of each tenant in turn, round after round (after ``warm_up`` seconds of
    each, not counted); each round's row printed, the p99s by label."""
    for label, tenant in tenants if warm_up else ():
        server.tenant = tenant
        warm = [msgspec.json.encode(body(n, f"warm-{label}")) for n in range(int(warm_up * 1500))]
        asyncio.run(drive(server, warm, "/v1/hooks/transactions", connections, warm_up))
    p99: dict[str, list[float]] = {label: [] for label, _ in tenants}
    print("| scenario | requests | awards/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in range(rounds):
        for label, tenant in tenants:
            server.tenant = tenant
            bodies = [
                msgspec.json.encode(body(n, f"{label}{r}")) for n in range(int(seconds * 3000))
            ]
            run = asyncio.run(drive(server, bodies, "/v1/hooks/transactions", connections, seconds))
            p99[label].append(report(f"round {r + 1}, {label}", run, per=1)["p99_ms"])
    return p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=2000)
    parser.add_argument("--per-member", type=int, default=50)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--shared-buffers",
        default=None,
        help="the embedded server's shared_buffers (its default: 128MB), e.g. 4GB",
    )
    args = parser.parse_args()
    print(f"machine: {describe()}")
    print(f"command: python -m loadtest.bench.segments_hook {' '.join(sys.argv[1:])}".strip())
    tuned = {"shared_buffers": args.shared_buffers} if args.shared_buffers else None
    server = Server(args.workers, postgres=tuned)
    try:
        with_segments = server.tenant
        plain = second_tenant(server)
        configure(server, with_segments)
        configure(server, plain)
        took = asyncio.run(
            fill(
                server.dsn(),
                with_segments["tenant_id"],
                args.segments,
                args.per_member,
                args.members,
            )
        )
        rows, buffers = asyncio.run(count(server.dsn(), with_segments["tenant_id"]))
        print(
            f"shared_buffers {buffers}; {rows:,} memberships of {args.members:,} members in "
            f"{args.segments:,} segments ({rows / args.members:.1f} per member) written in "
            f"{took:,.0f} s"
        )
        server.settle()
        time.sleep(6)  # the credential caches see the second tenant
        rng = random.Random(7)
        p99 = alternate(
            server,
            [("none", plain), ("segments", with_segments)],
            lambda n, label: transaction(n, rng, label),
            args.rounds,
            args.seconds,
            args.connections,
        )
        base, seg = statistics.median(p99["none"]), statistics.median(p99["segments"])
        print(
            f"median p99: no segments {base} ms, with segments {seg} ms = "
            f"{seg / base:.2f}x (target: at most 1.10x)"
        )
    finally:
        server.tenant = with_segments
        server.stop()
    return 0


async def count(dsn: str, tenant_id: str) -> tuple[int, str]:
    conn = await asyncpg.connect(dsn)
    try:
        found: int = await conn.fetchval(
            "SELECT count(*) FROM segment_members WHERE tenant_id = $1", tenant_id
        )
        buffers: str = await conn.fetchval("SHOW shared_buffers")
        return found, buffers
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(main())
