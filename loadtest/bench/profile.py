"""Where a request's time goes: Python (py-spy on every worker) and PostgreSQL
(pg_stat_statements), per request, for single hooks, nearby searches and redemptions.

Run: .venv/bin/python -m loadtest.bench.profile [--seconds 12] [--workers 2] [--connections 32]
     (needs `pip install -e '.[profile]'` for py-spy, and the right to trace processes)

It starts one embedded PostgreSQL with pg_stat_statements loaded, and for each scenario a
`rewards serve` on a database of its own, brought to a running state as the scenario's load
script does (loadtest.bench.hook_load, .nearby_load, .redeem_load). During the
measured run, py-spy samples each worker (without pausing it) and the statement statistics
start from zero. Printed per scenario: requests, the workers' sampled CPU per request by
where it was spent, the functions that used most of it themselves, and PostgreSQL's time per
request by statement.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import msgspec

from db.embedded import EmbeddedPostgres
from db.pool import ensure_database
from db.queries import parse_queries
from loadtest import wire
from loadtest.bench import nearby_load, redeem_load
from loadtest.bench.hook_load import Server, drive, transaction
from loadtest.wire import Run, descendants

SQL = parse_queries((Path(__file__).parent / "profile.sql").read_text(), "profile.sql")
RATE = 250  # samples per second and worker

# Where a sample's innermost frame is, by the file it is in: the first match names it.
PLACES = [
    ("asyncpg (encode, send, receive, decode)", ("asyncpg/",)),
    ("HTTP server (uvicorn, httptools, granian)", ("uvicorn/", "httptools/", "granian/")),
    ("Litestar (routing, DI, middleware)", ("litestar/",)),
    ("msgspec (JSON, structs)", ("msgspec/",)),
    ("the pure cores (planner, offers, rules)", ("rewards/core/", "offers/core/")),
    ("use cases (services, repositories)", ("rewards/", "offers/")),
    ("the edge (api/)", ("api/",)),
    ("asyncio event loop", ("asyncio/", "uvloop/")),
    ("h3", ("h3/",)),
]


def place(frame: str) -> str:
    for name, needles in PLACES:
        if any(n in frame for n in needles):
            return name
    return "other (standard library, hashing, logging, …)"


def workers(server: Server) -> list[int]:
    """The server's worker processes (not the supervisor or the resource tracker)."""
    found = []
    for pid in descendants(server.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"python" in cmdline and b"resource_tracker" not in cmdline:
            found.append(pid)
    return found


def measured(
    server: Server,
    seconds: float,
    run: Callable[[], Awaitable[Run]],
    folder: Path,
    label: str,
    per_request: int = 1,
) -> None:
    """Run the load with py-spy on every worker and fresh statement statistics; print
    where each request's time went (each award's, for batches of ``per_request``)."""

    async def query(name: str, *args: object) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(server.dsn())
        try:
            return await conn.fetch(SQL[name], *args)
        finally:
            await conn.close()

    asyncio.run(query("profile_reset"))
    outputs = [folder / f"{label}-{pid}.txt" for pid in workers(server)]
    spies = [
        subprocess.Popen(
            [
                str(Path(sys.executable).with_name("py-spy")),
                "record",
                "--pid",
                out.stem.rsplit("-", 1)[1],
                "--duration",
                str(int(seconds)),
                "--rate",
                str(RATE),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for out in outputs
    ]
    result = asyncio.run(run())
    for spy in spies:
        spy.wait(timeout=60)
    statements = asyncio.run(query("profile_statements", 10))
    total_ms = asyncio.run(query("profile_total"))[0][0]
    requests = (result.sent - result.errors) * per_request
    unit = "request" if per_request == 1 else "award"
    per = 1000 / max(requests, 1)
    places: Counter[str] = Counter()
    own: Counter[str] = Counter()
    samples = 0
    for out in outputs:
        if not out.exists():
            continue
        for line in out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            n = int(count)
            innermost = stack.rsplit(";", 1)[-1]
            samples += n
            places[place(innermost)] += n
            own[innermost.split(" (")[0] + " " + innermost.rsplit("/", 1)[-1]] += n
    cpu_ms = samples / RATE * 1000
    print(f"\n### {label}\n")
    print(
        f"{requests:,} {unit}s in {result.elapsed:.1f} s ({requests / result.elapsed:,.0f}/s, "
        f"{result.errors} errors). Workers: {samples:,} samples = {cpu_ms / 1000:.1f} CPU "
        f"seconds, **{cpu_ms * per / 1000:.2f} ms of Python per {unit}**. PostgreSQL: "
        f"**{total_ms * per / 1000:.2f} ms of statement time per {unit}**.\n"
    )
    print(f"| where the workers' CPU went | share | ms per {unit} |")
    print("|---|---:|---:|")
    for name, n in places.most_common():
        print(f"| {name} | {n / max(samples, 1):.0%} | {n / RATE * per:.3f} |")
    print("\n| function (own time) | share |")
    print("|---|---:|")
    for name, n in own.most_common(8):
        print(f"| `{name}` | {n / max(samples, 1):.1%} |")
    print(f"\n| statement | calls per {unit} | ms per call | ms per {unit} |")
    print("|---|---:|---:|---:|")
    for s in statements:
        text = " ".join(s["query"].split())[:90].replace("|", "\\|")
        print(
            f"| `{text}` | {s['calls'] * per / 1000:.2f} | {s['mean_ms']:.3f} "
            f"| {s['total_ms'] * per / 1000:.3f} |"
        )


def main() -> int:
    args = wire.scenario_arguments("profile", seconds=12, stores=(int, 100_000))
    folder = Path(tempfile.mkdtemp(prefix="rewards-profile-"))
    pg = EmbeddedPostgres(folder / "db")

    async def preload() -> None:
        conn = await asyncpg.connect(pg.dsn("postgres"))
        try:
            await conn.execute(SQL["profile_preload"])
        finally:
            await conn.close()

    asyncio.run(preload())
    pg.halt()
    pg.restart()

    def server_on(database: str) -> Server:
        asyncio.run(ensure_database(pg.dsn("postgres"), database))
        os.environ["DATABASE_URL"] = pg.dsn(database)

        async def extension() -> None:
            conn = await asyncpg.connect(pg.dsn(database))
            try:
                await conn.execute(SQL["profile_extension"])
            finally:
                await conn.close()

        asyncio.run(extension())
        return Server(args.workers)

    try:
        print("\n## Where a request's time goes\n")
        server = server_on("profile_hook")
        try:
            server.populate()
            rng = random.Random(3)
            bodies = [msgspec.json.encode(transaction(n, rng, "p")) for n in range(400_000)]
            measured(
                server,
                args.seconds,
                lambda: drive(
                    server, bodies, "/v1/hooks/transactions", args.connections, args.seconds
                ),
                folder,
                f"single hook, {args.connections} connections",
            )
            batches = [
                msgspec.json.encode(
                    {"transactions": [transaction(b * 1000 + n, rng, "pb") for n in range(1000)]}
                )
                for b in range(int(args.seconds * 5) + 5)
            ]
            measured(
                server,
                args.seconds,
                lambda: drive(server, batches, "/v1/hooks/transactions/batch", 2, args.seconds),
                folder,
                "batch hook (1,000 a call), 2 connections",
                per_request=1000,
            )
        finally:
            server.stop()
        server = server_on("profile_nearby")
        try:
            asyncio.run(nearby_load.seed(server, args.stores))
            asyncio.run(nearby_load.drive(server, args.connections, 3, warmup=0))
            measured(
                server,
                args.seconds,
                lambda: nearby_load.drive(server, args.connections, args.seconds, warmup=0),
                folder,
                f"nearby, 1 km, {args.stores:,} stores, {args.connections} connections",
            )
        finally:
            server.stop()
        server = server_on("profile_redeem")
        try:
            redeem_load.fund(server)
            server.settle()
            measured(
                server,
                args.seconds,
                lambda: redeem_load.drive(server, args.connections, args.seconds),
                folder,
                f"redemptions of one hot item, {args.connections} connections",
            )
        finally:
            server.stop()
    finally:
        os.environ.pop("DATABASE_URL", None)
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
