"""What one award writes: WAL bytes and rows, per award, for single and batch hooks.

Run: .venv/bin/python -m loadtest.bench.wal [--awards 2000] [--batch-size 500] [--connections 32]

It starts `rewards serve` on an embedded PostgreSQL (or DATABASE_URL) with the program of
the hook load (a capped fuel rule, a budgeted draw campaign on every swipe), brings it to a
running state, then for each scenario reads `pg_current_wal_lsn()` before and after a
number of purchases and divides the WAL between by the awards; rows written are the heap
records in it that insert, update or delete a row. A `CHECKPOINT` before each scenario and
a warm-up of the same scenario make every measured scenario start equal: each page the load
touches often has had its full-page image since the checkpoint, as on a server that has run
for a while between checkpoints.
`pg_walinspect` then says which relations (tables and their indexes) the bytes went to.

The reference is the minimal award (two postings and a balance, `pgbench_award.sql`),
measured the same way on the same server: the engine's WAL per award is printed as a
multiple of it.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from db.queries import parse_queries
from loadtest import wire
from loadtest.bench.hook_load import Server, drive, transaction

HERE = Path(__file__).parent
SQL = parse_queries((HERE / "wal.sql").read_text(), "wal.sql")
# The minimal award, as the baselines run it: two postings and one balance.
BASELINE = parse_queries((HERE / "baseline.sql").read_text(), "baseline.sql")


async def _snapshot(conn: asyncpg.Connection) -> str:
    lsn: str = await conn.fetchval(SQL["wal_snapshot"])
    return lsn


async def measure(
    dsn: str, run: Any, awards: int, *, label: str, detail: int = 12
) -> dict[str, Any]:
    """Run ``run()`` (which makes ``awards`` awards) between two snapshots."""
    conn = await asyncpg.connect(dsn)
    try:
        start_lsn = await _snapshot(conn)
        await run()
        end_lsn = await _snapshot(conn)
        total = await conn.fetchval(SQL["wal_between"], start_lsn, end_lsn)
        rows = await conn.fetchval(SQL["wal_rows"], start_lsn, end_lsn)
        by_relation = await conn.fetch(SQL["wal_by_relation"], start_lsn, end_lsn, detail)
        by_kind = await conn.fetch(SQL["wal_by_record_type"], start_lsn, end_lsn, 8)
    finally:
        await conn.close()
    return {
        "scenario": label,
        "awards": awards,
        "wal_bytes_per_award": round(total / awards),
        "rows_per_award": round(rows / awards, 2),
        "relations": _per_award(by_relation, "relation", awards),
        "kinds": _per_award(by_kind, "kind", awards),
    }


def _per_award(rows: list[asyncpg.Record], name: str, awards: int) -> list[dict[str, Any]]:
    return [
        {
            name: r[name],
            "bytes_per_award": round(r["bytes"] / awards),
            "full_page_bytes_per_award": round(r["fpi_bytes"] / awards),
            "records_per_award": round(r["records"] / awards, 2),
        }
        for r in rows
    ]


def _print(row: dict[str, Any]) -> None:
    print(f"\n### {row['scenario']}\n")
    print(
        f"{row['awards']:,} awards: **{row['wal_bytes_per_award']:,} WAL bytes** and "
        f"**{row['rows_per_award']} rows written** per award\n"
    )
    for name, title in (("relations", "relation"), ("kinds", "kind of record")):
        print(f"| {title} | WAL bytes per award | of which full-page images | records per award |")
        print("|---|---:|---:|---:|")
        for r in row[name]:
            print(
                f"| {r['relation' if name == 'relations' else 'kind']} | "
                f"{r['bytes_per_award']:,} | {r['full_page_bytes_per_award']:,} "
                f"| {r['records_per_award']} |"
            )
        print()


async def _minimal(dsn: str, awards: int) -> None:
    """The minimal award: two postings and one balance per award, one transaction each."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(BASELINE["baseline_setup"])
        for n in range(awards):
            async with conn.transaction():
                await conn.execute(BASELINE["baseline_award"], f"member:{n % 5000}", 100)
    finally:
        await conn.close()


def main() -> int:
    args = wire.scenario_arguments(
        "wal", seconds=0, awards=(int, 2000), members=(int, 20_000), batch_size=(int, 500)
    )
    server = Server(args.workers)
    rng = random.Random(11)
    rows: list[dict[str, Any]] = []
    try:
        server.populate(args.members)
        dsn = server.dsn()

        async def checkpoint() -> None:
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute("CHECKPOINT")
            finally:
                await conn.close()

        def singles(tag: str) -> list[bytes]:
            return [msgspec.json.encode(transaction(n, rng, tag)) for n in range(args.awards)]

        def batches(tag: str) -> list[bytes]:
            size = args.batch_size
            return [
                msgspec.json.encode(
                    {"transactions": [transaction(b * size + n, rng, tag) for n in range(size)]}
                )
                for b in range(max(1, args.awards // size))
            ]

        async def scenario(make: Any, path: str, label: str, per: int) -> None:
            tag = "s" if per == 1 else "b"
            await checkpoint()
            await drive(server, make(tag + "-warm"), path, args.connections, 600)
            bodies = make(tag)

            async def run() -> None:
                result = await drive(server, bodies, path, args.connections, 600)
                assert result.errors == 0, f"{result.errors} errors"

            rows.append(await measure(dsn, run, len(bodies) * per, label=label))
            _print(rows[-1])

        async def minimal() -> None:
            await checkpoint()
            await _minimal(dsn, args.awards)
            rows.append(
                await measure(
                    dsn,
                    lambda: _minimal(dsn, args.awards),
                    args.awards,
                    label="minimal award (2 postings, 1 balance)",
                )
            )
            _print(rows[-1])

        async def everything() -> None:
            await conn_extension(dsn)
            await scenario(singles, "/v1/hooks/transactions", "single hook", 1)
            await scenario(
                batches,
                "/v1/hooks/transactions/batch",
                f"batch hook ({args.batch_size} a call)",
                args.batch_size,
            )
            await minimal()

        print(f"# WAL per award ({time.strftime('%Y-%m-%d %H:%M')})")
        asyncio.run(everything())
        base = rows[-1]["wal_bytes_per_award"]
        print("\n| scenario | WAL bytes per award | rows per award | × minimal award |")
        print("|---|---:|---:|---:|")
        for row in rows:
            print(
                f"| {row['scenario']} | {row['wal_bytes_per_award']:,} | "
                f"{row['rows_per_award']} | {row['wal_bytes_per_award'] / base:.1f} |"
            )
    finally:
        server.stop()
    return 0


async def conn_extension(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SQL["wal_setup"])
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(main())
