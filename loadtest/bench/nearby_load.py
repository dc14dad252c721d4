"""The nearby endpoint under load: `rewards serve --workers 2` over 100,000 stores with an
offer each, 32 connections asking for offers near random points of the city.

Run: .venv/bin/python -m loadtest.bench.nearby_load [--seconds 15] [--stores 100000]
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from db.pool import connect
from loadtest import wire
from loadtest.bench.city import QUERIES, STORES_PER_MERCHANT, city_stores
from loadtest.bench.hook_load import Server
from loadtest.wire import Request, Run, percentile
from offers.core.offers import Offer, OfferReward
from offers.merchants.repository import insert_merchants
from offers.publishing import repository as offer_db
from rewards.core.credentials import encode_member_token


async def seed(server: Server, count: int) -> None:
    """Stores (five per merchant) and one live offer per merchant, written directly."""
    conn = await connect(server.dsn())
    tenant = server.tenant["tenant_id"]
    try:
        merchants = count // STORES_PER_MERCHANT
        async with conn.transaction():
            await insert_merchants(
                conn, tenant, [(f"m{n}", f"merchant {n}", "dining") for n in range(merchants)]
            )
            for chunk in city_stores(count):
                await offer_db.insert_stores(conn, tenant, chunk)
            ids = []
            for n in range(merchants):
                offer = Offer(
                    f"o{n}",
                    f"offer {n}",
                    "dining",
                    OfferReward("bonus_points", 100),
                    activation="auto",
                )
                await offer_db.insert_offer(conn, tenant, f"m{n}", offer)
                ids.append(offer.id)
            await offer_db.activate_all(conn, tenant, ids)
        await conn.execute(QUERIES["bench_vacuum"])
    finally:
        await conn.close()


async def drive(server: Server, connections: int, seconds: float, warmup: float = 3) -> Run:
    """Search within 1 km of random points of the city, as one member, after ``warmup``
    seconds of the same searches that are not measured (each worker builds its in-memory
    index of the city's offers on its first search)."""
    token = encode_member_token(
        server.tenant["member_token_secret"],
        sub="m-1",
        tid=server.tenant["tenant_id"],
        exp=int(time.time()) + 3600,
    )
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(2)

    def search(_: int) -> Request:
        lat, lng = rng.uniform(22.50, 22.75), rng.uniform(113.85, 114.25)
        path = f"/v1/me/offers/nearby?lat={lat:.6f}&lng={lng:.6f}&radius_m=1000&limit=20"
        return "GET", path, headers, b""

    if warmup:
        await wire.drive(server.url, connections, warmup, search)
    return await wire.drive(server.url, connections, seconds, search)


def main() -> int:
    args = wire.scenario_arguments("nearby_load", seconds=15, stores=(int, 100_000))
    server = Server(args.workers)
    try:
        asyncio.run(seed(server, args.stores))
        nearby = asyncio.run(drive(server, args.connections, args.seconds))
        # The floor under any endpoint of this service with this generator: the process-up
        # check, which reads nothing and checks no credential.
        floor = asyncio.run(
            wire.drive(
                server.url, args.connections, args.seconds, lambda _: ("GET", "/healthz", {}, b"")
            )
        )
    finally:
        server.stop()
    print()
    print("| scenario | requests | per second | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, (sent, errors, latencies, elapsed) in [
        (f"nearby, 1 km, {args.stores:,} stores, {args.connections} connections", nearby),
        (f"GET /healthz, same server, {args.connections} connections (floor)", floor),
    ]:
        print(
            f"| {label} | {sent} | {sent / elapsed:,.1f} | {percentile(latencies, 0.5) * 1000:.1f}"
            f" | {percentile(latencies, 0.95) * 1000:.1f}"
            f" | {percentile(latencies, 0.99) * 1000:.1f} | {errors} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
