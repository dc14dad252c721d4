"""A replay's draft run in a process of its own: ``python -m api.replay_run`` reads its
assignment (``rewards.replays.runs.Assignment``) as JSON on stdin, connects to DATABASE_URL,
and writes what it found as JSON on stdout. The replay job that started it
(``rewards.replays.service.run``) plans the baseline meanwhile, on the other core."""

from __future__ import annotations

import asyncio
import os
import sys

import msgspec

from api import wiring
from api.process import die_with_parent
from db.pool import create_pool
from rewards.replays import runs
from rewards.replays import service as replays


async def _run(given: runs.Assignment, dsn: str) -> list[runs.Found]:
    pool = await create_pool(dsn, min_size=1, max_size=2)

    async def quiet(_: int) -> None:
        return None

    try:
        return await runs.run(pool, given, replays.offer_history(), quiet)
    finally:
        await pool.close()


def main() -> int:
    die_with_parent()
    wiring.wire()
    given = msgspec.json.decode(sys.stdin.buffer.read(), type=runs.Assignment)
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    found = asyncio.run(_run(given, dsn))
    sys.stdout.buffer.write(msgspec.json.encode(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
