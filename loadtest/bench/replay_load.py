"""Replays at scale: a million recorded hook transactions replayed under the baseline and a
draft ("fuel 3x with a budget of 1,000,000 points"), streamed from PostgreSQL.

Run: .venv/bin/python -m loadtest.bench.replay_load [--transactions 1000000] [--members 100000]
     [--keep FOLDER]

It starts an embedded PostgreSQL in a temporary folder (or uses DATABASE_URL), records the
transactions through the hook's own batch path (``rewards.hook.service.process_batch``, the
same code the batch endpoint runs), then, in the same run:

1. the pure planner's own rate: the same transactions, read back, planned with
   ``plan_batch`` in batches of 500 (one pass, no database, nothing else);
2. the replay as an operator runs it, ``rewards replay --json`` in a child process: its wall
   time (both runs, baseline and draft, reading, comparing and reporting included), the
   child's memory high-water mark (``ru_maxrss``), fidelity, and where its time went.

With ``--keep FOLDER`` the database is kept there, and a second run with the same folder
skips the recording.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from api import wiring
from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.pool import connect, create_pool, ensure_database
from loadtest.machine import describe
from rewards.core.campaigns import DrawCampaign
from rewards.core.earning import EarnRule
from rewards.core.errors import RewardsError
from rewards.core.lots import MemberState
from rewards.core.planner import CampaignBudget, Usage, batch_facts, plan_batch
from rewards.core.program import Program
from rewards.core.replay import Draft
from rewards.core.transactions import CardTransaction
from rewards.hook import service as hook
from rewards.program import service as programs
from rewards.replays import repository as replay_db
from rewards.replays import runs
from rewards.replays import service as replays
from rewards.tenants.service import create_tenant

PROGRAM = {
    "time_zone": "Asia/Shanghai",
    "mcc_rates": {"5411": "2"},
    "excluded_mccs": ["6011"],
    "tiers": [{"name": "gold", "min_spend_minor_12m": 3_000_000}],
    "abuse": {"max_points_per_member_per_day": 5000},
}
RULES = [
    {
        "id": "fuel",
        "name": "Fuel 2x",
        "effect": {"kind": "multiplier", "value": "2"},
        "conditions": {"mcc_in": ["5541"]},
        "caps": {"per_member_per_day": 1500, "per_member_per_month": 6000},
    },
    {
        "id": "dining",
        "name": "Gold dining",
        "effect": {"kind": "fixed", "value": 100},
        "conditions": {"mcc_in": ["5812"], "tier_in": ["gold"]},
        "stacking": False,
    },
    {
        "id": "weekend",
        "name": "Weekend 1.5x",
        "effect": {"kind": "multiplier", "value": "1.5"},
        "conditions": {"days_of_week": [6, 7]},
        "stacking": False,
        "caps": {"budget_points": 2_000_000},
    },
    {
        "id": "card",
        "name": "Card 2x",
        "effect": {"kind": "multiplier", "value": "2"},
        "conditions": {"card_product_in": ["car-owner"]},
        "caps": {"per_transaction": 800},
    },
]
CAMPAIGN = {
    "id": "swipe",
    "name": "Every swipe",
    "prizes": [
        {"multiplier": 1, "weight": 90},
        {"multiplier": 2, "weight": 8},
        {"multiplier": 5, "weight": 2},
    ],
    "budget": {"daily_points": 40_000, "total_points": 1_000_000},
}
DRAFT = {
    "earn_rules": {
        "upsert": [
            {
                "id": "fuel-3x",
                "name": "Fuel 3x",
                "effect": {"kind": "multiplier", "value": "3"},
                "conditions": {"mcc_in": ["5541"]},
                "caps": {"budget_points": 1_000_000},
            }
        ]
    }
}
MCCS = ["5541", "5541", "5812", "5411", "5999", "5311", "6011"]


def transactions(count: int, members: int, days: int, seed: int = 11) -> list[CardTransaction]:
    """Purchases over ``days`` days (8% partial refunds, 2% reversals of earlier ones)."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=days)
    found: list[CardTransaction] = []
    open_: list[tuple[CardTransaction, int]] = []
    for n in range(count):
        at = start + timedelta(seconds=days * 86400 * n / count)
        roll = rng.random()
        if roll < 0.1 and open_:
            k = rng.randrange(len(open_))
            original, left = open_[k]
            reversal = roll < 0.02
            amount = left if reversal else max(left // 3, 1)
            if reversal or amount >= left:
                open_[k] = open_[-1]
                open_.pop()
            else:
                open_[k] = (original, left - amount)
            found.append(
                CardTransaction(
                    id=f"r-{n}",
                    kind="reversal" if reversal else "refund",
                    member_id=original.member_id,
                    amount_minor=amount,
                    currency="CNY",
                    occurred_at=original.occurred_at,
                    original_id=original.id,
                )
            )
            continue
        tx = CardTransaction(
            id=f"p-{n}",
            kind="purchase",
            member_id=f"m-{rng.randrange(members)}",
            amount_minor=rng.choice([1500, 5000, 12000, 30000, 80000, 200000]),
            currency="CNY",
            occurred_at=at,
            mcc=rng.choice(MCCS),
            merchant_id=f"shop-{rng.randrange(500)}",
            card_product=rng.choice([None, "car-owner", "classic"]),
            channel=rng.choice(["online", "offline"]),
        )
        found.append(tx)
        if len(open_) < 50_000:
            open_.append((tx, tx.amount_minor))
    return found


async def record(dsn: str, count: int, members: int) -> tuple[str, float]:
    """A tenant with the program, and the transactions recorded through the hook."""
    conn = await connect(dsn)
    await migrate(conn)
    async with conn.transaction():
        tenant = await create_tenant(conn, "Replay Bank")
        program = msgspec.convert(PROGRAM, Program)
        await programs.put_program(conn, tenant.tenant_id, "bench", program)
        for rule in RULES:
            await programs.create_rule(
                conn, tenant.tenant_id, "bench", msgspec.convert(rule, EarnRule)
            )
        await programs.create_campaign(
            conn, tenant.tenant_id, "bench", msgspec.convert(CAMPAIGN, DrawCampaign)
        )
    await conn.close()
    txs = transactions(count, members, days=30)
    pool = await create_pool(dsn, min_size=2, max_size=2)
    batches = [txs[n : n + 1000] for n in range(0, len(txs), 1000)]
    began = time.perf_counter()
    done = 0

    async def worker(mine: list[list[CardTransaction]]) -> None:
        nonlocal done
        async with pool.acquire() as c:
            for batch in mine:
                results = await hook.process_batch(c, tenant.tenant_id, batch)
                bad = [r for r in results if isinstance(r, RewardsError)]
                assert len(bad) < len(batch) // 10, bad[:3]
                done += len(batch)
                if done % 100_000 < 1000:
                    rate = done / (time.perf_counter() - began)
                    print(f"  recorded {done:,} ({rate:,.0f}/s)", flush=True)

    # Two connections, each with the batches of its own members' halves kept in order.
    await asyncio.gather(worker(batches[0::2]), worker(batches[1::2]))
    await pool.close()
    return tenant.tenant_id, time.perf_counter() - began


async def planner_rate(dsn: str, tenant_id: str) -> tuple[int, float]:
    """The pure planner over the recorded transactions: one pass, planning only timed."""
    conn = await connect(dsn)
    compiled = await programs.compiled_for(conn, tenant_id)
    rows = await conn.fetch(
        "SELECT transaction_id, kind, member_id, original_id, amount_minor, currency, "
        "occurred_at, body FROM transactions WHERE tenant_id = $1 ORDER BY seq",
        tenant_id,
    )
    await conn.close()
    txs = [
        msgspec.convert(
            dict(r["body"])
            | {
                "id": r["transaction_id"],
                "kind": r["kind"],
                "member_id": r["member_id"],
                "original_id": r["original_id"],
                "amount_minor": r["amount_minor"],
                "currency": r["currency"],
                "occurred_at": r["occurred_at"],
            },
            CardTransaction,
        )
        for r in rows
    ]
    campaigns = {
        row.campaign.id: CampaignBudget(row.campaign, row.secret, 0) for row in compiled.campaigns
    }
    # The million transactions read are left out of the collector's walks, as the replay
    # leaves its own state out: the planner is timed, not the collector.
    gc.freeze()
    now = datetime.now(UTC)
    elapsed = 0.0
    for n in range(0, len(txs), 500):
        batch = txs[n : n + 500]
        members = {tx.member_id: MemberState(tx.member_id, None, [], [], 0, 0, []) for tx in batch}
        began = time.perf_counter()
        facts = batch_facts(batch, members, compiled.program)
        plan_batch(
            batch,
            program=compiled.program,
            rules=compiled.rules,
            campaigns=campaigns,
            members=members,
            originals={},
            usage=Usage({}, {}),
            now=now,
            facts=facts,
        )
        elapsed += time.perf_counter() - began
    return len(txs), elapsed


async def planner_in_history(dsn: str, tenant_id: str) -> tuple[int, float]:
    """The planner's own time over the same history with the state it needs: one run (the
    baseline) in this process, the planner's calls timed apart from the reading and the
    keeping of caps, budgets and awards between batches."""
    pool = await create_pool(dsn, min_size=1, max_size=2)
    opens = datetime.now(UTC) - timedelta(days=400)
    closes = datetime.now(UTC) + timedelta(minutes=1)
    async with pool.acquire() as conn:
        w = await replay_db.window(conn, tenant_id, opens, closes)
    given = runs.Assignment(
        tenant_id,
        "bench",
        opens,
        closes,
        w.first_seq,
        w.last_seq,
        w.total,
        w.opens_history,
        Draft(),
        {},
        5000,
        (runs.BASELINE,),
    )

    async def quiet(_: int) -> None:
        return None

    (found,) = await runs.run(pool, given, replays.offer_history(), quiet)
    await pool.close()
    return w.total, found.timings[f"{runs.BASELINE}_planner"]


def replay(dsn: str, tenant_id: str, folder: Path) -> tuple[dict[str, Any], float, int]:
    """``rewards replay --json`` in a child: its result, wall time, and peak RSS in KiB."""
    draft = folder / "draft.json"
    draft.write_text(json.dumps(DRAFT))
    window = [
        "--from",
        (datetime.now(UTC) - timedelta(days=400)).isoformat(),
        "--to",
        (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
    ]
    began = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "replay",
            "--tenant",
            tenant_id,
            *window,
            "--draft",
            str(draft),
            "--json",
        ],
        env=os.environ | {"DATABASE_URL": dsn},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"rewards replay failed: {done.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(done.stdout), elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--keep", help="keep the database in this folder (and reuse it)")
    args = parser.parse_args()
    wiring.wire()
    print(f"machine: {describe()}")
    command = ["python", "-m", "loadtest.bench.replay_load", *sys.argv[1:]]
    print(f"command: {' '.join(command)}")
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rewards-replay-"))
    folder.mkdir(parents=True, exist_ok=True)
    embedded = None
    dsn = os.environ.get("DATABASE_URL")
    if dsn is None:
        embedded = EmbeddedPostgres(folder / "db")
        asyncio.run(ensure_database(embedded.dsn("postgres"), "rewards"))
        dsn = embedded.dsn()
    try:
        marker = folder / "tenant.txt"
        if marker.exists():
            tenant_id = marker.read_text().strip()
            print(f"reusing the recorded tenant {tenant_id}")
        else:
            tenant_id, took = asyncio.run(record(dsn, args.transactions, args.members))
            marker.write_text(tenant_id)
            print(
                f"recorded {args.transactions:,} transactions through the hook in {took:,.1f} s "
                f"({args.transactions / took:,.0f}/s)"
            )
        planned, planning = asyncio.run(planner_rate(dsn, tenant_id))
        bare = planned / planning
        print(
            f"pure planner, each batch from empty state: {planned:,} transactions in "
            f"{planning:,.1f} s = {bare:,.0f}/s"
        )
        planned, planning = asyncio.run(planner_in_history(dsn, tenant_id))
        planner = planned / planning
        print(
            f"pure planner over the history with its state (plan_batch calls only): {planned:,} "
            f"transactions in {planning:,.1f} s = {planner:,.0f}/s"
        )
        result, took, peak = replay(dsn, tenant_id, folder)
        rate = result["transactions"] / took
        print(
            f"replay (baseline and draft): {result['transactions']:,} transactions in "
            f"{took:,.1f} s = {rate:,.0f}/s = {rate / planner:.2f}x the planner's rate over "
            f"the history ({rate / bare:.2f}x the empty-state rate; each transaction is "
            f"planned twice: {2 * rate:,.0f} plans/s)"
        )
        print(f"replay peak memory (RSS high-water of its process): {peak / 1024:,.0f} MiB")
        print(
            f"fidelity: {result['fidelity']['baseline_equals_ledger']} "
            f"({result['fidelity']['differences']} differences)"
        )
        timings = result.get("timings", {})
        if timings:
            print(
                "where the replay's time went: "
                + ", ".join(f"{k} {v:,.1f} s" for k, v in timings.items())
            )
        boost = next((r for r in result["by_rule"] if r["rule_id"] == "fuel-3x"), None)
        if boost:
            print(
                f"draft fuel-3x: {boost['draft_points']:,} points, budget ran out at "
                f"{boost['budget_exhausted_at']}"
            )
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
