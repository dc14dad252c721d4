"""Redemptions of one hot catalog item against the real service, exact stock checked after.

Run: .venv/bin/python -m loadtest.bench.redeem_load [--seconds 15] [--workers 2] [--connections 32]
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx
import msgspec

from loadtest import wire
from loadtest.bench.hook_load import Server
from loadtest.wire import Request, Run, percentile
from rewards.core.credentials import encode_member_token, hook_signature

MEMBERS = 2000
STOCK = 1_000_000


def fund(server: Server) -> None:
    """One purchase per member (100,000 points each) through the batch hook."""
    tenant, secret = server.tenant["tenant_id"], server.tenant["hook_secret"]
    with httpx.Client(base_url=server.url, timeout=120) as client:
        admin = {"Authorization": f"Bearer {server.tenant['admin_api_key']}"}
        client.post(
            "/v1/admin/catalog/items",
            headers=admin,
            json={
                "sku": "hot-item",
                "title": "Hot item",
                "category": "video",
                "points_price": 10,
                "stock": STOCK,
            },
        ).raise_for_status()
        txs = [
            {
                "id": f"fund-{n}",
                "kind": "purchase",
                "member_id": f"m-{n}",
                "amount_minor": 10_000_000,
                "currency": "CNY",
                "mcc": "5812",
                "occurred_at": "2026-11-21T08:30:00+08:00",
            }
            for n in range(MEMBERS)
        ]
        for start in range(0, MEMBERS, 1000):
            body = msgspec.json.encode({"transactions": txs[start : start + 1000]})
            headers = {
                "Content-Type": "application/json",
                "X-Rewards-Tenant": tenant,
                "X-Rewards-Signature": hook_signature(secret, int(time.time()), body),
            }
            client.post("/v1/hooks/transactions/batch", content=body, headers=headers)


async def drive(server: Server, connections: int, seconds: float) -> Run:
    """Redeem the hot item, one member after another, over ``connections`` connections."""
    secret, tenant = server.tenant["member_token_secret"], server.tenant["tenant_id"]
    tokens = [
        encode_member_token(secret, sub=f"m-{n}", tid=tenant, exp=int(time.time()) + 3600)
        for n in range(MEMBERS)
    ]
    body = b'{"sku":"hot-item","quantity":1}'

    def redemption(n: int) -> Request:
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {tokens[n % MEMBERS]}",
        }
        return "POST", "/v1/me/redemptions", headers, body

    return await wire.drive(server.url, connections, seconds, redemption, ok=201)


def main() -> int:
    args = wire.scenario_arguments("redeem_load", seconds=15)
    server = Server(args.workers)
    try:
        fund(server)
        server.settle()
        sent, errors, latencies, elapsed = asyncio.run(
            drive(server, args.connections, args.seconds)
        )
        admin = {"Authorization": f"Bearer {server.tenant['admin_api_key']}"}
        item = httpx.get(f"{server.url}/v1/admin/catalog/items/hot-item", headers=admin).json()
    finally:
        server.stop()
    ok = sent - errors
    print()
    print(
        "| scenario | redemptions | per second | p50 ms | p95 ms | p99 ms | errors | stock exact |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    exact = item["stock_left"] + item["redeemed"] == STOCK and item["redeemed"] == ok
    print(
        f"| one hot item, {args.connections} connections | {ok} | {ok / elapsed:,.1f} "
        f"| {percentile(latencies, 0.5) * 1000:.1f} | {percentile(latencies, 0.95) * 1000:.1f} "
        f"| {percentile(latencies, 0.99) * 1000:.1f} | {errors} | {'yes' if exact else 'NO'} |"
    )
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
