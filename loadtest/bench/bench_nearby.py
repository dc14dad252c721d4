"""Nearby search at city scale: 100,000 stores, the service's H3 paths (its in-memory index,
and the same search as one SQL statement over the cell indexes) against PostgreSQL's own
earthdistance (GiST) and PostGIS doing the same queries on the same data.

Run: .venv/bin/python -m loadtest.bench.bench_nearby [--stores 100000] [--queries 2000]
     [--dsn postgresql://…]   (a server with PostGIS: then PostGIS is measured too)

PostGIS is not packaged for the embedded PostgreSQL; with --dsn the three paths run on that
one server, on the same data, so they compare like with like.

The SQL paths use every core (one PostgreSQL backend per connection). The in-memory index
is measured twice: in this one process, and as the service runs it, one copy in each of
--workers processes.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.pool import connect, create_pool, ensure_database
from loadtest.bench.city import QUERIES, city_stores
from loadtest.bench.nearby_db import stores_within
from loadtest.machine import describe
from offers.core.index import OfferIndex
from offers.core.offers import Offer, OfferReward, OfferState, Store
from offers.nearby.repository import stores_of_merchants
from offers.publishing.repository import insert_stores
from rewards.tenants.service import create_tenant


async def seed(dsn: str, count: int) -> str:
    conn = await connect(dsn)
    try:
        await migrate(conn)
        async with conn.transaction():
            tenant = (await create_tenant(conn, "Bench Bank")).tenant_id
        for chunk in city_stores(count):
            async with conn.transaction():
                await insert_stores(conn, tenant, chunk)
        await conn.execute(QUERIES["bench_earthdistance_setup"])
        if await conn.fetchval(QUERIES["bench_postgis_available"]):
            await conn.execute(QUERIES["bench_postgis_setup"])
        await conn.execute(QUERIES["bench_vacuum"])
        return tenant
    finally:
        await conn.close()


def points(n: int) -> list[tuple[float, float, float]]:
    rng = random.Random(2)
    radii = [200, 500, 1000, 1000, 1000, 2000, 5000]
    return [
        (rng.uniform(22.50, 22.75), rng.uniform(113.85, 114.25), rng.choice(radii))
        for _ in range(n)
    ]


async def run(
    pool: asyncpg.Pool, work: list[tuple[float, float, float]], one: object, concurrency: int
) -> tuple[float, list[float], list[set[str]]]:
    latencies: list[float] = [0.0] * len(work)
    results: list[set[str]] = [set()] * len(work)
    queue = iter(range(len(work)))

    async def worker() -> None:
        async with pool.acquire() as conn:
            for i in queue:
                started = time.perf_counter()
                results[i] = await one(conn, *work[i])  # type: ignore[operator]
                latencies[i] = time.perf_counter() - started

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - began, latencies, results


# The index the worker processes search (inherited when they are forked).
_INDEX: OfferIndex | None = None


def _search_slice(work: list[tuple[float, float, float]]) -> tuple[float, list[float]]:
    """One worker process's share of the queries: (elapsed, latencies)."""
    assert _INDEX is not None
    latencies = []
    began = time.perf_counter()
    for lat, lng, r in work:
        started = time.perf_counter()
        _INDEX.search(lat, lng, r, None, lambda _: True, 1 << 30)
        latencies.append(time.perf_counter() - started)
    return time.perf_counter() - began, latencies


def in_processes(
    index: OfferIndex, work: list[tuple[float, float, float]], processes: int
) -> tuple[float, list[float]]:
    """The in-memory path as the service runs it: one index in each of ``processes`` worker
    processes, the queries shared out; (queries per second, latencies)."""
    global _INDEX
    _INDEX = index
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(_search_slice, [work[:50]] * processes)  # warm up
        shares = pool.map(_search_slice, [work[n::processes] for n in range(processes)])
    _INDEX = None
    return len(work) / max(elapsed for elapsed, _ in shares), [
        x for _, latencies in shares for x in latencies
    ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main_async(args: argparse.Namespace) -> int:
    server = None
    if args.dsn:
        await ensure_database(args.dsn, "rewards_nearby_bench")
        dsn = args.dsn.rsplit("/", 1)[0] + "/rewards_nearby_bench"
    else:
        server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="rewards-nearby-")), delete=True)
        await ensure_database(server.dsn("postgres"), "rewards")
        dsn = server.dsn()
    try:
        tenant = await seed(dsn, args.stores)
        pool = await create_pool(dsn, min_size=args.concurrency, max_size=args.concurrency)
        work = points(args.queries)

        async def h3_path(conn: asyncpg.Connection, lat: float, lng: float, r: float) -> set[str]:
            return {s.store_id for _, s in await stores_within(conn, tenant, lat, lng, r)}

        def by_sql(query: str) -> object:
            async def one(conn: asyncpg.Connection, lat: float, lng: float, r: float) -> set[str]:
                return await typed(await conn.fetch(QUERIES[query], tenant, lat, lng, r))

            return one

        async def typed(rows: list[asyncpg.Record]) -> set[str]:
            # The same work as the service does with its rows: typed stores, nearest first.
            found = [
                (
                    row["distance"],
                    Store(
                        row["store_id"],
                        row["merchant_id"],
                        row["name"],
                        row["address"],
                        row["lat"],
                        row["lng"],
                    ),
                )
                for row in rows
            ]
            found.sort(key=lambda item: (item[0], item[1].store_id))
            return {s.store_id for _, s in found}

        # The endpoint's own path: the process's in-memory index of the same stores, loaded
        # by the service's loader (one offer per merchant, so one answer per store).
        merchants = sorted({s.merchant_id for chunk in city_stores(args.stores) for s in chunk})
        async with pool.acquire() as conn:
            rows = await stores_of_merchants(conn, tenant, merchants)
        index = OfferIndex(1)
        index.replace(
            [],
            [
                OfferState(
                    Offer(f"o-{m}", m, "misc", OfferReward("bonus_points", 1)), m, frozenset(), 0, 0
                )
                for m in merchants
            ],
            rows,
            1,
        )

        async def in_memory(_: asyncpg.Connection, lat: float, lng: float, r: float) -> set[str]:
            return {
                hit.store.store_id
                for hit in index.search(lat, lng, r, None, lambda _: True, len(rows) + 1)
            }

        paths: list[tuple[str, object]] = [
            ("H3 in-memory index, one process", in_memory),
            ("H3 cells + haversine", h3_path),
            ("earthdistance GiST", by_sql("bench_earthdistance")),
        ]
        async with pool.acquire() as conn:
            version = await conn.fetchval(QUERIES["bench_version"])
            if await conn.fetchval(QUERIES["bench_postgis_available"]):
                paths.append(("PostGIS ST_DWithin GiST", by_sql("bench_postgis")))
        figures = {}
        answers = {}
        for name, one in paths:
            await run(pool, work[:200], one, args.concurrency)  # warm up
            elapsed, latencies, results = await run(pool, work, one, args.concurrency)
            figures[name] = (
                len(work) / elapsed,
                statistics.median(latencies) * 1000,
                pct(latencies, 0.99),
            )
            answers[name] = results
        rate, latencies = in_processes(index, work, args.workers)
        figures[f"H3 in-memory index, {args.workers} worker processes (as served)"] = (
            rate,
            statistics.median(latencies) * 1000,
            pct(latencies, 0.99),
        )
        identical = all(a == answers["H3 cells + haversine"] for a in answers.values())
        found = statistics.mean(len(r) for r in answers["H3 cells + haversine"])
        await pool.close()
    finally:
        if server is not None:
            server.stop()
    best = max(f[0] for f in figures.values())
    print(f"machine: {describe()}")
    print(
        f"command: python -m loadtest.bench.bench_nearby --stores {args.stores} --queries "
        f"{args.queries} --concurrency {args.concurrency} --workers {args.workers}"
        + (" --dsn …" if args.dsn else "")
    )
    print(f"PostgreSQL {version}")
    print(
        f"{args.stores:,} stores over ~2,000 km²; radii 200 m to 5 km; "
        f"{found:.0f} stores found per query on average"
    )
    print()
    print("| path | queries/s | median ms | p99 ms | vs best |")
    print("|---|---:|---:|---:|---:|")
    for name, (rate, median, p99) in figures.items():
        print(f"| {name} | {rate:,.0f} | {median:.2f} | {p99:.2f} | {rate / best:.2f} |")
    print()
    print(f"identical results: {'yes' if identical else 'NO'}")
    return 0 if identical else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="processes for the index path")
    parser.add_argument("--dsn", help="a PostgreSQL server to use (e.g. one with PostGIS)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
