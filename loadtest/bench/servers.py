"""uvicorn against granian, serving the real application with the same workers, in
alternating rounds: a framework floor (/healthz), the mixed mobile traffic and the signed
single hook, each as throughput and p99.

Run: .venv/bin/python -m loadtest.bench.servers [--seconds 8] [--rounds 2]
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys

import msgspec

from loadtest import wire
from loadtest.bench import hook_load, mobile_load
from loadtest.bench.hook_load import Server
from loadtest.bench.nearby_load import seed as seed_city
from loadtest.wire import percentile

SERVERS = ("uvicorn", "granian")
STORES = 20_000


def measure(http_server: str, seconds: float, connections: int, rnd: int) -> dict[str, float]:
    """One round on a fresh service: per scenario, requests per second and p99 ms."""
    server = Server(2, http_server)
    figures: dict[str, float] = {}
    try:
        asyncio.run(seed_city(server, STORES))
        mobile_load.prepare(server)
        asyncio.run(mobile_load.drive(server, STORES, connections, 3))  # warm-up

        run = asyncio.run(
            wire.drive(server.url, connections, seconds, lambda _: ("GET", "/healthz", {}, b""))
        )
        figures["healthz rps"] = run.sent / run.elapsed
        figures["healthz p99"] = percentile(run.latencies, 0.99) * 1000

        traffic = asyncio.run(mobile_load.drive(server, STORES, connections, seconds))
        every = [x for values in traffic.latencies.values() for x in values]
        figures["mobile rps"] = len(every) / traffic.elapsed
        figures["mobile p99"] = percentile(every, 0.99) * 1000

        rng = random.Random(rnd)
        bodies = [
            msgspec.json.encode(hook_load.transaction(n, rng, f"{http_server}{rnd}"))
            for n in range(int(seconds * 2000))
        ]
        run = asyncio.run(
            hook_load.drive(server, bodies, "/v1/hooks/transactions", connections, seconds)
        )
        figures["hook rps"] = run.sent / run.elapsed
        figures["hook p99"] = percentile(run.latencies, 0.99) * 1000
    finally:
        server.stop()
    return figures


def main() -> int:
    args = wire.scenario_arguments(
        "servers", seconds=8, note=f" ({STORES:,} stores)", rounds=(int, 2)
    )
    results: dict[str, list[dict[str, float]]] = {name: [] for name in SERVERS}
    for rnd in range(args.rounds):
        for name in SERVERS if rnd % 2 == 0 else reversed(SERVERS):
            results[name].append(measure(name, args.seconds, args.connections, rnd))
    print()
    print(
        "| scenario (median of rounds) | uvicorn req/s | p99 ms | granian req/s | p99 ms "
        "| granian / uvicorn |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, key in (
        ("/healthz", "healthz"),
        ("mixed mobile", "mobile"),
        ("single hook", "hook"),
    ):
        u = statistics.median(r[f"{key} rps"] for r in results["uvicorn"])
        up = statistics.median(r[f"{key} p99"] for r in results["uvicorn"])
        g = statistics.median(r[f"{key} rps"] for r in results["granian"])
        gp = statistics.median(r[f"{key} p99"] for r in results["granian"])
        print(f"| {label} | {u:,.1f} | {up:.1f} | {g:,.1f} | {gp:.1f} | {g / u:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
