"""Closing a month of merchant statements at city scale: a million offer records (matches
and 3% clawbacks) over 100,000 merchants, settled, totalled and digested merchant by
merchant by the close job.

Run: .venv/bin/python -m loadtest.bench.settlement_close [--lines 1000000]
     [--merchants 100000]

It starts an embedded PostgreSQL in a temporary folder (or uses DATABASE_URL), then, in the
same run:

1. a small tenant (a tenth of the lines and merchants) closed first, so that the close's
   memory can be compared across sizes;
2. the baseline: the least a close must do, in one transaction rolled back — one UPDATE of
   every record of the month and one ordered read of their CSV lines through a cursor,
   hashed in Python;
3. the close as the operator runs it: ``POST /v1/admin/settlements/{period}/close``'s job,
   worked by the job runner in a child process (its peak RSS from ``ru_maxrss``);
4. checks: one statement a merchant, every record settled once, totals equal to the
   records' sums to the fen, and each digest equal to the SHA-256 of the lines as the
   merchant downloads them (a sample of merchants).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from api import wiring
from api.settings import Settings
from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.pool import connect, create_pool, ensure_database
from loadtest.machine import describe
from offers.core.settlement import period_text
from offers.settlement import service as settlement
from rewards.core.program import Program, Settlement, add_months
from rewards.jobs import service as jobs
from rewards.program.service import put_program
from rewards.tenants.service import create_tenant

ZONE = "Asia/Shanghai"

LOAD = """
INSERT INTO merchants (tenant_id, merchant_id, name, category)
SELECT $1, 'mer' || lpad(i::text, 6, '0'), 'Merchant ' || i, 'fuel'
FROM generate_series(0, $2::int - 1) AS i;

INSERT INTO offer_redemptions (tenant_id, offer_id, transaction_id, member_id, original_id,
    uses, reward_minor, points, spend_minor, day, merchant_id, store_id, occurred_at,
    share_pct, fee_per_match, merchant_share_minor, fee_minor)
SELECT $1, 'off' || lpad(m::text, 6, '0'), 'tx' || i, 'm' || (i % 200000), NULL, 1, r, 0, s,
       $4::date + d, 'mer' || lpad(m::text, 6, '0'), 'st' || m,
       ($4::date + d)::timestamp AT TIME ZONE 'Asia/Shanghai' + (i % 86400) * interval '1 s',
       50, 30, merchant_share(r, 50), 30
FROM generate_series(0::bigint, $3::int - 1) AS i,
     LATERAL (SELECT i % $2::int AS m, ((i / $2::int) % 28)::int AS d,
                     least(12 * (20000 + (i * 104729) % 40000) / 100, 5000) AS r,
                     20000 + (i * 104729) % 40000 AS s) AS x;

-- 3% refunded: half of them in part.
INSERT INTO offer_redemptions (tenant_id, offer_id, transaction_id, member_id, original_id,
    uses, reward_minor, points, spend_minor, day, merchant_id, store_id, occurred_at,
    share_pct, fee_per_match, merchant_share_minor, fee_minor)
SELECT tenant_id, offer_id, 'rf' || transaction_id, member_id, transaction_id,
       CASE WHEN part THEN 0 ELSE -1 END, -reward, 0, -spend, day, merchant_id, store_id,
       occurred_at + interval '1 day', share_pct, fee_per_match,
       merchant_share(-reward, share_pct), CASE WHEN part THEN 0 ELSE -fee_per_match END
FROM (SELECT o.*, (hashtext(o.transaction_id) % 2 = 0) AS part,
             CASE WHEN hashtext(o.transaction_id) % 2 = 0 THEN o.reward_minor / 3
                  ELSE o.reward_minor END AS reward,
             CASE WHEN hashtext(o.transaction_id) % 2 = 0 THEN o.spend_minor / 3
                  ELSE o.spend_minor END AS spend
      FROM offer_redemptions o
      WHERE o.tenant_id = $1 AND hashtext(o.transaction_id || 'r') % 100 BETWEEN 0 AND 2)
     AS picked;

ANALYZE offer_redemptions;
"""


def last_month() -> date:
    return add_months(datetime.now(ZoneInfo(ZONE)).date(), -1)


async def setup(dsn: str, name: str, merchants: int, lines: int, period: date) -> str:
    conn = await connect(dsn)
    try:
        async with conn.transaction():
            created = await create_tenant(conn, name)
            await put_program(
                conn, created.tenant_id, "bench", Program(settlement=Settlement(return_days=0))
            )
        given = {"$1": created.tenant_id, "$2": merchants, "$3": lines, "$4": period}
        for statement in LOAD.split(";\n\n"):
            args = [v for k, v in given.items() if k in statement]
            await conn.execute(statement, *args)
        return created.tenant_id
    finally:
        await conn.close()


async def baseline(dsn: str, tenant_id: str, period: date) -> tuple[float, int]:
    """One UPDATE of the month's records and one ordered, hashed read of their lines,
    rolled back: the floor of a close."""
    conn = await connect(dsn)
    try:
        began = time.perf_counter()
        read = 0
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(
            "UPDATE offer_redemptions SET settled = $2 WHERE tenant_id = $1 AND settled IS NULL"
            " AND day < $3",
            tenant_id,
            period,
            add_months(period, 1),
        )
        digest = hashlib.sha256()
        async for r in conn.cursor(
            "SELECT merchant_id, statement_line(r) AS line, reward_minor, merchant_share_minor,"
            " fee_minor FROM offer_redemptions r WHERE tenant_id = $1 AND settled = $2"
            " ORDER BY merchant_id, occurred_at, transaction_id, offer_id",
            tenant_id,
            period,
            prefetch=2000,
        ):
            digest.update(r["line"].encode())
            read += 1
        took = time.perf_counter() - began
        await transaction.rollback()
        return took, read
    finally:
        await conn.close()


async def start(dsn: str, tenant_id: str, period: date) -> str:
    conn = await connect(dsn)
    try:
        async with conn.transaction():
            job = await settlement.start_close(conn, tenant_id, "bench", period)
        return job.job_id
    finally:
        await conn.close()


async def work(dsn: str, tenant_id: str, job_id: str) -> None:
    """The child: the job runner works the close."""
    wiring.wire()
    pool = await create_pool(dsn, min_size=1, max_size=3)
    try:
        runner = jobs.Runner(pool, wiring.jobs(Settings(database_url=dsn)), dsn=dsn)
        ended = await runner.run_one(only=(tenant_id, job_id))
        if ended is None or ended.status != "done":
            raise SystemExit(f"the close did not end well: {ended}")
    finally:
        await pool.close()


def close(dsn: str, tenant_id: str, period: date) -> tuple[float, int]:
    """The close in a child process: wall time (queue to done) and the child's peak RSS."""
    began = time.perf_counter()
    job_id = asyncio.run(start(dsn, tenant_id, period))
    done = subprocess.run(
        [sys.executable, "-m", "loadtest.bench.settlement_close", "--work", tenant_id, job_id],
        env=os.environ | {"DATABASE_URL": dsn},
        capture_output=True,
        check=False,
    )
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode()[-2000:])
    return took, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


async def checks(dsn: str, tenant_id: str, period: date) -> dict[str, object]:
    conn = await connect(dsn)
    try:
        totals = await conn.fetchrow(
            "SELECT count(*) AS statements, sum(lines) AS lines, sum(reward_minor) AS reward,"
            " sum(merchant_due_minor) AS merchant, sum(fees_minor) AS fees"
            " FROM statements WHERE tenant_id = $1 AND period = $2",
            tenant_id,
            period,
        )
        records = await conn.fetchrow(
            "SELECT count(*) AS lines, sum(reward_minor) AS reward,"
            " sum(merchant_share_minor) AS merchant, sum(fee_minor) AS fees,"
            " count(*) FILTER (WHERE settled IS NULL) AS open"
            " FROM offer_redemptions WHERE tenant_id = $1",
            tenant_id,
        )
        sample = await conn.fetch(
            "SELECT merchant_id, sha256 FROM statements WHERE tenant_id = $1 AND period = $2"
            " ORDER BY md5(merchant_id) LIMIT 20",
            tenant_id,
            period,
        )
        digests_equal = 0
        for s in sample:
            async with conn.transaction():
                body = settlement.statement_csv(conn, tenant_id, s["merchant_id"], period)
                digest = hashlib.sha256()
                async for chunk in await body:
                    digest.update(chunk)
            digests_equal += digest.hexdigest() == s["sha256"]
        return {
            "statements": totals["statements"],
            "lines": totals["lines"],
            "records": records["lines"],
            "records left open": records["open"],
            "totals equal the records": (totals["reward"], totals["merchant"], totals["fees"])
            == (records["reward"], records["merchant"], records["fees"]),
            "digests equal to the download (sample)": f"{digests_equal}/{len(sample)}",
        }
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--merchants", type=int, default=100_000)
    parser.add_argument("--work", nargs=2, metavar=("TENANT", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.work:
        asyncio.run(work(os.environ["DATABASE_URL"], *args.work))
        return
    print(f"machine: {describe()}")
    print(f"command: python -m loadtest.bench.settlement_close {' '.join(sys.argv[1:])}".strip())
    folder = Path(tempfile.mkdtemp(prefix="rewards-settle-"))
    embedded = None
    dsn = os.environ.get("DATABASE_URL")
    if dsn is None:
        embedded = EmbeddedPostgres(folder / "db")
        asyncio.run(ensure_database(embedded.dsn("postgres"), "rewards"))
        dsn = embedded.dsn()
    period = last_month()
    try:
        asyncio.run(_migrate(dsn))
        for scale in (10, 1):
            merchants, lines = args.merchants // scale, args.lines // scale
            began = time.perf_counter()
            tenant_id = asyncio.run(setup(dsn, f"Settle bench 1/{scale}", merchants, lines, period))
            print(
                f"\n{lines:,} matches (and 3% clawbacks) over {merchants:,} merchants in "
                f"{period_text(period)}, loaded in {time.perf_counter() - began:,.1f} s"
            )
            floor, read = asyncio.run(baseline(dsn, tenant_id, period))
            print(
                f"baseline, one UPDATE and one hashed ordered read, rolled back: {read:,} "
                f"records in {floor:,.1f} s"
            )
            took, peak = close(dsn, tenant_id, period)
            print(
                f"close (job, merchants a chunk a step): {took:,.1f} s = {floor / took:.2f}x "
                f"the baseline's rate = {read / took:,.0f} records/s; peak RSS of the worker "
                f"process so far {peak / 1024:,.0f} MiB"
            )
            print(f"checks: {asyncio.run(checks(dsn, tenant_id, period))}")
    finally:
        if embedded is not None:
            embedded.stop()


async def _migrate(dsn: str) -> None:
    conn = await connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
