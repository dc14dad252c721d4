"""Mixed mobile-app traffic against the real service, members and merchants drawn from a
power law, with each worker's resident memory after the run (and across a soak).

Run: .venv/bin/python -m loadtest.bench.mobile_load [--seconds 30] [--soak 0] [--stores 20000]

The mix, per 100 requests: 20 profile, 20 balance, 10 activity, 25 nearby searches, 10
catalog reads, 5 claimed-offer lists, 4 claims, 3 redemptions, 3 redemption lists. Member
n is drawn with probability falling as a power law (a few very active members, a long tail
of rare ones); nearby searches are around stores of merchants drawn the same way, and
claims go to those merchants' offers. 4xx answers the product gives on purpose (a claim
already used up, too few points) are counted apart from errors (5xx, broken connections).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import httpx
import msgspec

from loadtest import wire
from loadtest.bench.city import city_stores
from loadtest.bench.hook_load import Server
from loadtest.bench.nearby_load import seed as seed_city
from loadtest.wire import Connection, descendants, percentile
from rewards.core.credentials import encode_member_token, hook_signature

MEMBERS = 20_000
FUNDED = 4_000  # the busiest members have points to redeem
ITEMS = 20
MIX = [
    ("profile", 20),
    ("balance", 20),
    ("activity", 10),
    ("nearby", 25),
    ("catalog", 10),
    ("claimed", 5),
    ("claim", 4),
    ("redeem", 3),
    ("redemptions", 3),
]


def power_law(rng: random.Random, n: int, exponent: float = 3.0) -> int:
    """0 … n-1, low numbers far more often: index ~ n·u^exponent."""
    return int(n * rng.random() ** exponent)


def prepare(server: Server) -> None:
    """Twenty catalog items and points for the busiest members (through the batch hook)."""
    tenant, secret = server.tenant["tenant_id"], server.tenant["hook_secret"]
    admin = {"Authorization": f"Bearer {server.tenant['admin_api_key']}"}
    with httpx.Client(base_url=server.url, timeout=120) as client:
        for n in range(ITEMS):
            client.post(
                "/v1/admin/catalog/items",
                headers=admin,
                json={
                    "sku": f"item-{n}",
                    "title": f"Benefit {n}",
                    "category": ["video", "audio", "dining", "fitness"][n % 4],
                    "points_price": 100 + 50 * n,
                    "stock": 10_000_000,
                },
            ).raise_for_status()
        txs = [
            {
                "id": f"fund-{n}",
                "kind": "purchase",
                "member_id": f"m-{n}",
                "amount_minor": 50_000_000,
                "currency": "CNY",
                "mcc": "5812",
                "occurred_at": "2026-11-21T08:30:00+08:00",
            }
            for n in range(FUNDED)
        ]
        for start in range(0, FUNDED, 1000):
            body = msgspec.json.encode({"transactions": txs[start : start + 1000]})
            client.post(
                "/v1/hooks/transactions/batch",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Rewards-Tenant": tenant,
                    "X-Rewards-Signature": hook_signature(secret, int(time.time()), body),
                },
            ).raise_for_status()


class Traffic(NamedTuple):
    """Latencies and answers per kind of request."""

    latencies: dict[str, list[float]]
    refused: dict[str, int]
    errors: dict[str, int]
    elapsed: float


async def drive(server: Server, stores: int, connections: int, seconds: float) -> Traffic:
    secret, tenant = server.tenant["member_token_secret"], server.tenant["tenant_id"]
    expires = int(time.time()) + 24 * 3600
    tokens: dict[int, str] = {}
    locations = [(s.lat, s.lng, s.merchant_id) for chunk in city_stores(stores) for s in chunk]
    merchants = sorted({m for _, _, m in locations}, key=lambda m: int(m[1:]))
    store_of: dict[str, tuple[float, float]] = {}
    for lat, lng, m in locations:
        store_of.setdefault(m, (lat, lng))
    rng = random.Random(5)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    latencies: dict[str, list[float]] = defaultdict(list)
    refused: dict[str, int] = defaultdict(int)
    errors: dict[str, int] = defaultdict(int)
    stop_at = time.perf_counter() + seconds

    def token(member: int) -> str:
        if member not in tokens:
            tokens[member] = encode_member_token(secret, sub=f"m-{member}", tid=tenant, exp=expires)
        return tokens[member]

    def next_request() -> tuple[str, str, str, bytes]:
        kind = rng.choices(kinds, weights)[0]
        if kind == "nearby":
            lat, lng = store_of[merchants[power_law(rng, len(merchants), 2.0)]]
            lat += rng.uniform(-0.005, 0.005)
            lng += rng.uniform(-0.005, 0.005)
            return kind, "GET", f"/v1/me/offers/nearby?lat={lat:.6f}&lng={lng:.6f}&limit=20", b""
        if kind == "claim":
            merchant = merchants[power_law(rng, len(merchants), 2.0)]
            return kind, "POST", f"/v1/me/offers/o{merchant[1:]}/claim", b""
        if kind == "redeem":
            sku = f"item-{power_law(rng, ITEMS, 2.0)}"
            return kind, "POST", "/v1/me/redemptions", b'{"sku":"%s","quantity":1}' % sku.encode()
        path = {
            "profile": "/v1/me",
            "balance": "/v1/me/balance",
            "activity": "/v1/me/activity?limit=20",
            "catalog": "/v1/me/catalog",
            "claimed": "/v1/me/offers/claimed",
            "redemptions": "/v1/me/redemptions?limit=20",
        }[kind]
        return kind, "GET", path, b""

    async def worker() -> None:
        conn = Connection(server.url)
        try:
            while time.perf_counter() < stop_at:
                kind, method, path, body = next_request()
                member = power_law(rng, MEMBERS)
                headers = {"Authorization": f"Bearer {token(member)}"}
                if body:
                    headers["Content-Type"] = "application/json"
                started = time.perf_counter()
                try:
                    status, _ = await conn.request(method, path, headers, body)
                except (OSError, ValueError, asyncio.IncompleteReadError):
                    status = 0
                    conn = Connection(server.url)
                latencies[kind].append(time.perf_counter() - started)
                if status >= 500 or status == 0:
                    errors[kind] += 1
                elif status >= 400:
                    refused[kind] += 1
        finally:
            await conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return Traffic(latencies, refused, errors, time.perf_counter() - began)


def worker_rss_mib(server: Server) -> dict[int, float]:
    """Resident memory of each worker process of the service, in MiB."""
    rss: dict[int, float] = {}
    for pid in descendants(server.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if b"python" not in cmdline or b"resource_tracker" in cmdline:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[pid] = int(line.split()[1]) / 1024
    return rss


def print_traffic(traffic: Traffic) -> None:
    total = sum(len(v) for v in traffic.latencies.values())
    print("| request | count | share | per second | p50 ms | p95 ms | p99 ms | 4xx | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    everything: list[float] = []
    for kind, _ in MIX:
        values = traffic.latencies.get(kind, [])
        everything += values
        print(
            f"| {kind} | {len(values)} | {len(values) / max(total, 1):.0%} "
            f"| {len(values) / traffic.elapsed:,.1f} | {percentile(values, 0.5) * 1000:.1f} "
            f"| {percentile(values, 0.95) * 1000:.1f} | {percentile(values, 0.99) * 1000:.1f} "
            f"| {traffic.refused.get(kind, 0)} | {traffic.errors.get(kind, 0)} |"
        )
    print(
        f"| all | {total} | 100% | {total / traffic.elapsed:,.1f} "
        f"| {percentile(everything, 0.5) * 1000:.1f} | {percentile(everything, 0.95) * 1000:.1f} "
        f"| {percentile(everything, 0.99) * 1000:.1f} | {sum(traffic.refused.values())} "
        f"| {sum(traffic.errors.values())} |"
    )


def main() -> int:
    server_name = os.environ.get("LOAD_HTTP_SERVER", "uvicorn")
    args = wire.scenario_arguments(
        "mobile_load",
        seconds=30,
        note=f" (server: {server_name})",
        soak=(float, 0.0),
        stores=(int, 20_000),
    )
    server = Server(args.workers)
    try:
        asyncio.run(seed_city(server, args.stores))
        prepare(server)
        server.settle()
        asyncio.run(drive(server, args.stores, args.connections, 3))  # warm-up, not counted
        traffic = asyncio.run(drive(server, args.stores, args.connections, args.seconds))
        print()
        print_traffic(traffic)
        after = worker_rss_mib(server)
        print()
        print("| worker | resident MiB after the mixed run |")
        print("|---|---:|")
        for pid, mib in sorted(after.items()):
            print(f"| {pid} | {mib:.1f} |")
        if args.soak:
            samples: list[dict[int, float]] = [after]
            step = max(args.soak / 10, 5)
            ends = time.monotonic() + args.soak
            while time.monotonic() < ends:
                asyncio.run(drive(server, args.stores, args.connections, step))
                samples.append(worker_rss_mib(server))
            print()
            print(f"| worker | MiB before the soak | MiB after {args.soak:g} s more | growth |")
            print("|---|---:|---:|---:|")
            for pid in sorted(samples[0]):
                first, last = samples[0][pid], samples[-1].get(pid, float("nan"))
                print(f"| {pid} | {first:.1f} | {last:.1f} | {(last - first) / first:+.1%} |")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
