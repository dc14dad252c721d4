"""Bulk work at bank scale: a million members moved in with three opening lots each, a
segment of a million members replaced, and a grant to 490,000 members.

Run: .venv/bin/python -m loadtest.bench.bulk_load [--members 1000000] [--segment 1000000]
     [--grant 490000]

It starts an embedded PostgreSQL in a temporary folder (or uses DATABASE_URL), then, in the
same run:

1. the baseline: a plain ``COPY`` of the same members and lots into two bare tables (no
   keys, no indexes, no ledger): the fastest PostgreSQL takes these rows;
2. the import as an operator runs it, ``rewards import members FILE`` in a child process
   (upload and job, streamed; its memory high-water mark from ``ru_maxrss``), then checks
   that every lot was posted once and the ledger reconciles;
3. a segment replaced with ``--segment`` ids (uploaded, loaded as a generation, switched);
4. a grant of points to ``--grant`` members of a segment.

Figures are wall times on this machine, with rows/s beside the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from api import wiring
from api.settings import Settings
from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.pool import connect, create_pool, ensure_database
from loadtest.machine import describe
from rewards.grants import service as grants
from rewards.jobs import service as jobs
from rewards.segments import service as segments
from rewards.tenants.service import create_tenant

LOTS = 3


def write_file(path: Path, members: int) -> int:
    """The import file: each member with a tier, spend, card products and three lots."""
    now = datetime.now(UTC).replace(microsecond=0)
    earned = [(now - timedelta(days=d)).isoformat() for d in (400, 200, 20)]
    expiry = [(now + timedelta(days=d)).isoformat() for d in (60, 400, 800)]
    size = 0
    with path.open("wb") as out:
        for n in range(members):
            line = msgspec.json.encode(
                {
                    "member_id": f"m{n:08d}",
                    "tier": ("silver", "gold", "platinum")[n % 3],
                    "card_products": ["platinum-card"],
                    "spend_12m_minor": 100_000 + n % 5_000_000,
                    "opening_lots": [
                        {
                            "points": 100 + (n + k) % 900,
                            "earned_at": earned[k],
                            "expires_at": expiry[k],
                        }
                        for k in range(LOTS)
                    ],
                }
            )
            out.write(line + b"\n")
            size += len(line) + 1
    return size


async def baseline_copy(dsn: str, members: int) -> float:
    """The same rows COPYed into bare tables: the floor of what PostgreSQL takes."""
    now = datetime.now(UTC)
    earned = [now - timedelta(days=d) for d in (400, 200, 20)]
    expiry = [now + timedelta(days=d) for d in (60, 400, 800)]
    conn = await connect(dsn)
    try:
        await conn.execute(
            "DROP TABLE IF EXISTS bare_members, bare_lots;"
            "CREATE UNLOGGED TABLE bare_members (member_id text, tier text, spend bigint);"
            "CREATE UNLOGGED TABLE bare_lots (member_id text, points bigint,"
            " earned_at timestamptz, expires_at timestamptz);"
        )
        began = time.perf_counter()
        await conn.copy_records_to_table(
            "bare_members",
            records=(
                (f"m{n:08d}", ("silver", "gold", "platinum")[n % 3], 100_000 + n % 5_000_000)
                for n in range(members)
            ),
        )
        await conn.copy_records_to_table(
            "bare_lots",
            records=(
                (f"m{n:08d}", 100 + (n + k) % 900, earned[k], expiry[k])
                for n in range(members)
                for k in range(LOTS)
            ),
        )
        took = time.perf_counter() - began
        await conn.execute("DROP TABLE bare_members, bare_lots")
        return took
    finally:
        await conn.close()


def import_file(dsn: str, tenant_id: str, path: Path) -> tuple[dict[str, object], float, int]:
    """``rewards import members`` in a child process: its answer, wall time, peak RSS (KiB)."""
    began = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "import",
            "members",
            str(path),
            "--tenant",
            tenant_id,
            "--json",
        ],
        env=os.environ | {"DATABASE_URL": dsn},
        capture_output=True,
        check=False,
    )
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode()[-2000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(done.stdout), took, peak


async def _ids(prefix: str, count: int) -> AsyncIterator[bytes]:
    step = 100_000
    for start in range(0, count, step):
        yield "".join(f"{prefix}{n:08d}\n" for n in range(start, min(count, start + step))).encode()


async def run_job(dsn: str, tenant_id: str, job_id: str) -> jobs.Job:
    settings = Settings(database_url=dsn)
    pool = await create_pool(dsn, min_size=1, max_size=3)
    try:
        runner = jobs.Runner(pool, wiring.jobs(settings), dsn=dsn)
        ended = await runner.run_one(only=(tenant_id, job_id))
        assert ended is not None
        return ended
    finally:
        await pool.close()


async def replace_segment(
    dsn: str, tenant_id: str, segment: str, prefix: str, count: int
) -> tuple[jobs.Job, float]:
    began = time.perf_counter()
    conn = await connect(dsn)
    try:
        async with conn.transaction():
            job = await segments.start_members_job(conn, tenant_id, "bench", segment, "replace")
            await jobs.store_lines(conn, tenant_id, job.job_id, _ids(prefix, count))
    finally:
        await conn.close()
    ended = await run_job(dsn, tenant_id, job.job_id)
    return ended, time.perf_counter() - began


async def grant(dsn: str, tenant_id: str, segment: str) -> tuple[jobs.Job, float]:
    began = time.perf_counter()
    conn = await connect(dsn)
    try:
        async with conn.transaction():
            job = await grants.start(
                conn,
                tenant_id,
                "bench",
                grants.GrantRequest("festival", "Mid-autumn festival", segment=segment, points=88),
            )
    finally:
        await conn.close()
    ended = await run_job(dsn, tenant_id, job.job_id)
    return ended, time.perf_counter() - began


async def setup(dsn: str) -> str:
    conn = await connect(dsn)
    try:
        await migrate(conn)
        async with conn.transaction():
            created = await create_tenant(conn, "Bulk bench")
            for segment in ("list", "festival"):
                await segments.put(conn, created.tenant_id, "bench", segment, segment, "")
        return created.tenant_id
    finally:
        await conn.close()


async def checks(dsn: str, tenant_id: str) -> dict[str, int]:
    conn = await connect(dsn)
    try:
        return {
            "members": await conn.fetchval(
                "SELECT count(*) FROM members WHERE tenant_id = $1", tenant_id
            ),
            "opening transfers": await conn.fetchval(
                "SELECT count(*) FROM transfers WHERE tenant_id = $1 AND kind = 'opening'",
                tenant_id,
            ),
            "lots": await conn.fetchval(
                "SELECT count(*) FROM lots WHERE tenant_id = $1", tenant_id
            ),
            "postings sum": await conn.fetchval(
                "SELECT coalesce(sum(amount), 0) FROM postings WHERE tenant_id = $1", tenant_id
            ),
            "balances off their postings": await conn.fetchval(
                "SELECT count(*) FROM members m LEFT JOIN ("
                " SELECT substr(account_id, 8) AS member_id, sum(amount) AS total"
                " FROM postings WHERE tenant_id = $1 AND account_id LIKE 'member:%'"
                " GROUP BY 1) p USING (member_id)"
                " WHERE m.tenant_id = $1 AND m.points_balance <> coalesce(p.total, 0)",
                tenant_id,
            ),
        }
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--segment", type=int, default=1_000_000)
    parser.add_argument("--grant", type=int, default=490_000)
    args = parser.parse_args()
    wiring.wire()
    print(f"machine: {describe()}")
    print(f"command: python -m loadtest.bench.bulk_load {' '.join(sys.argv[1:])}".strip())
    folder = Path(tempfile.mkdtemp(prefix="rewards-bulk-"))
    embedded = None
    dsn = os.environ.get("DATABASE_URL")
    if dsn is None:
        embedded = EmbeddedPostgres(folder / "db")
        asyncio.run(ensure_database(embedded.dsn("postgres"), "rewards"))
        dsn = embedded.dsn()
    try:
        tenant_id = asyncio.run(setup(dsn))
        path = folder / "members.ndjson"
        size = write_file(path, args.members)
        rows = args.members * (1 + LOTS)
        print(
            f"file: {args.members:,} members, {args.members * LOTS:,} lots, {size / 2**20:,.0f} MiB"
        )
        copy = asyncio.run(baseline_copy(dsn, args.members))
        print(
            f"baseline, plain COPY into bare tables: {rows:,} rows in {copy:,.1f} s = "
            f"{rows / copy:,.0f} rows/s"
        )
        answer, took, peak = import_file(dsn, tenant_id, path)
        print(
            f"import (rewards import members: upload and job): {answer['counts']} in "
            f"{took:,.1f} s = {args.members / took:,.0f} members/s = {rows / took:,.0f} rows/s "
            f"= {copy / took:.2f}x the COPY baseline's rate; peak RSS {peak / 1024:,.0f} MiB"
        )
        print(f"after the import: {asyncio.run(checks(dsn, tenant_id))}")
        again, took_again, _ = import_file(dsn, tenant_id, path)
        print(f"the same file again: {again['counts']} in {took_again:,.1f} s")
        first, took = asyncio.run(replace_segment(dsn, tenant_id, "list", "a", args.segment))
        print(f"segment loaded ({first.counts}): {args.segment:,} ids in {took:,.1f} s")
        second, took = asyncio.run(replace_segment(dsn, tenant_id, "list", "b", args.segment))
        print(
            f"segment replaced by {args.segment:,} other ids ({second.counts}) in "
            f"{took:,.1f} s = {args.segment / took:,.0f} ids/s"
        )
        asyncio.run(replace_segment(dsn, tenant_id, "festival", "m", args.grant))
        granted, took = asyncio.run(grant(dsn, tenant_id, "festival"))
        print(
            f"grant to {args.grant:,} members ({granted.counts}) in {took:,.1f} s = "
            f"{args.grant / took:,.0f} members/s"
        )
        print(
            f"this process's peak RSS (segment and grant jobs): "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
        )
        print(f"after the grant: {asyncio.run(checks(dsn, tenant_id))}")
    finally:
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(folder, ignore_errors=True)  # gigabytes: the run's database and file


if __name__ == "__main__":
    main()
