"""The single hook with exclusion lists in use: two tenants on one server with the same
program (a capped fuel rule and a draw campaign); one has 100,000 merchant ids, 10,000
parts of merchant names and 1,000 acquirers on exclusion lists, uploaded through the API
(the upload is timed), the other none. Every purchase carries a merchant name and an
acquirer; about 1 in 200 matches a list. After a warm-up of each, rounds alternate between
the tenants and the medians of their p99s are compared.

Run: .venv/bin/python -m loadtest.bench.exclusions_hook [--entries 100000] [--names 10000]
     [--seconds 10] [--rounds 3] [--connections 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from typing import Any

import httpx

from loadtest.bench.hook_load import Server, load_program, transaction
from loadtest.bench.segments_hook import alternate, second_tenant
from loadtest.machine import describe

WORDS = ["Futian", "Nanshan", "Luohu", "Store", "Fuel", "Cafe", "Market", "Pharmacy", "Hotel"]


def upload(
    server: Server, tenant: dict[str, str], list_id: str, match: str, lines: list[str]
) -> float:
    """Make the list and upload its entries; seconds until its job has ended."""
    admin = {"Authorization": f"Bearer {tenant['admin_api_key']}"}
    with httpx.Client(base_url=server.url, headers=admin, timeout=120) as client:
        client.put(
            f"/v1/admin/exclusions/{list_id}", json={"name": list_id, "match": match}
        ).raise_for_status()
        began = time.perf_counter()
        started = client.put(
            f"/v1/admin/exclusions/{list_id}/entries",
            content="".join(f"{line}\n" for line in lines).encode(),
            headers={"Content-Type": "text/plain"},
        )
        started.raise_for_status()
        job_id = started.json()["job_id"]
        while True:
            job = client.get(f"/v1/admin/jobs/{job_id}").json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        took = time.perf_counter() - began
        if job["status"] != "done" or job["counts"]["failed"]:
            raise SystemExit(f"the upload of {list_id} failed: {job}")
        return took


def purchase(n: int, rng: random.Random, run: str) -> dict[str, Any]:
    body = transaction(n, rng, run)
    # 1 in 200 at an excluded merchant (of the tenant with lists); names of 3 to 5 words.
    if rng.random() < 0.005:
        body["merchant_id"] = f"bad-{rng.randrange(100_000):06d}"
    body["merchant_name"] = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 5)))
    body["acquirer_id"] = f"acq-{rng.randrange(2_000)}"
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--names", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {describe()}")
    print(f"command: python -m loadtest.bench.exclusions_hook {' '.join(sys.argv[1:])}".strip())
    server = Server(args.workers)
    try:
        with_lists = server.tenant
        plain = second_tenant(server)
        load_program(server.url, plain)  # what the server's own tenant was given
        rng = random.Random(11)
        ids = [f"bad-{n:06d}" for n in range(args.entries)]
        took = upload(server, with_lists, "merchants", "merchant_id", ids)
        print(f"{args.entries:,} merchant ids uploaded and applied in {took:.1f} s (target: 10 s)")
        names = sorted(
            {f"{rng.choice(['cash', '还款', 'pay', 'loan'])}{n}x" for n in range(args.names)}
        )
        took = upload(server, with_lists, "names", "merchant_name_contains", names)
        print(f"{len(names):,} name parts uploaded and applied in {took:.1f} s")
        acquirers = [f"acq-{n}" for n in range(5_000, 6_000)]
        upload(server, with_lists, "acquirers", "acquirer_id", acquirers)
        server.settle()
        time.sleep(6)  # the credential caches see the second tenant
        p99 = alternate(
            server,
            [("none", plain), ("lists", with_lists)],
            lambda n, label: purchase(n, rng, label),
            args.rounds,
            args.seconds,
            args.connections,
            warm_up=5,
        )
        base, lists = statistics.median(p99["none"]), statistics.median(p99["lists"])
        print(
            f"median p99: no lists {base} ms, with lists {lists} ms = "
            f"{lists / base:.2f}x (target: at most 1.10x)"
        )
    finally:
        server.tenant = with_lists
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
