"""An upload of gigabytes into an import: the serving process's memory while the body
streams in, against its memory after a one-line upload (same run).

Run: .venv/bin/python -m loadtest.bench.upload_memory [--gigabytes 2]

It starts `rewards serve --workers 1` (embedded PostgreSQL in a temporary folder unless
DATABASE_URL is set), posts a one-line import, then streams ``--gigabytes`` of member lines
(with a 3 MiB line among them) to `POST /v1/admin/imports/members` over loopback, sampling
the resident memory of the server's processes, then cancels the job (its stored lines are
dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from loadtest.bench.hook_load import Server
from loadtest.machine import describe
from loadtest.wire import descendants

MIB = 1 << 20
NDJSON = {"Content-Type": "application/x-ndjson"}


def resident(pid: int) -> tuple[int, int]:
    """(resident now, high-water mark) of the server's processes, summed, in KiB."""
    now = peak = 0
    for p in [pid, *descendants(pid)]:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                now += int(line.split()[1])
            elif line.startswith("VmHWM:"):
                peak += int(line.split()[1])
    return now, peak


async def body(size: int) -> AsyncIterator[bytes]:
    line = b'{"member_id": "m-%09d", "tier": "gold", "segments": ["a", "b"]}\n'
    block = b"".join(line % n for n in range(MIB // len(line % 0)))
    sent = blocks = 0
    while sent < size:
        if blocks == 100:
            yield b'{"member_id": "huge", "tier": "' + b"x" * (3 * MIB) + b'"}\n'
        yield block
        sent, blocks = sent + len(block), blocks + 1


async def upload(server: Server, size: int) -> None:
    admin = {"Authorization": f"Bearer {server.tenant['admin_api_key']}"}
    pid = server.process.pid
    async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=3600) as c:
        small = await c.post(
            "/v1/admin/imports/members", content=b'{"member_id": "a"}\n', headers=NDJSON
        )
        small.raise_for_status()
        base_now, base_peak = resident(pid)
        print(
            f"after a one-line upload: resident {base_now / 1024:,.0f} MiB, "
            f"high-water {base_peak / 1024:,.0f} MiB"
        )
        samples: list[int] = []

        async def sample() -> None:
            while True:
                samples.append(resident(pid)[0])
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        began = time.perf_counter()
        started = await c.post("/v1/admin/imports/members", content=body(size), headers=NDJSON)
        took = time.perf_counter() - began
        sampler.cancel()
        started.raise_for_status()
        job = started.json()
        now, peak = resident(pid)
        print(
            f"{size / 2**30:.1f} GiB uploaded in {took:,.0f} s ({size / MIB / took:,.0f} MiB/s), "
            f"{job['progress']['total']:,} lines"
        )
        print(
            f"while it streamed: resident at most {max(samples) / 1024:,.0f} MiB; after: "
            f"resident {now / 1024:,.0f} MiB, high-water {peak / 1024:,.0f} MiB "
            f"(+{(peak - base_peak) / 1024:,.0f} MiB over the one-line upload)"
        )
        (await c.delete(f"/v1/admin/jobs/{job['job_id']}")).raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    args = parser.parse_args()
    print(f"machine: {describe()}")
    print(f"command: python -m loadtest.bench.upload_memory {' '.join(sys.argv[1:])}".strip())
    server = Server(1)
    try:
        asyncio.run(upload(server, int(args.gigabytes * 2**30)))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
