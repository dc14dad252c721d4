"""Use case: the periodic job — expire due points, recompute tiers, forget old idempotency
keys, delivered events and segment history past replays' reach, announce expiring points,
and run the upkeep the caller hands over (the offers' forgetting of old changes:
``api/wiring.py``). Every API process runs it on
an interval (``rewards expire`` runs it by hand); an advisory lock lets one process at a time
do it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from db.types import Conn
from rewards.events import service as events
from rewards.exclusions import service as exclusions
from rewards.housekeeping import repository as job_db
from rewards.idempotency import service as idempotency
from rewards.ledger import service as ledger
from rewards.segments import service as segments

JOB_LOCK = 0x45585052  # "EXPR"
IDEMPOTENCY_KEEP = timedelta(hours=48)
SEGMENT_HISTORY = timedelta(days=400)  # replays look back at most this far
EVENT_RETENTION = timedelta(days=7)  # delivered events, unless the server says otherwise


#: More of the periodic job, run as of a time with its lock held.
Upkeep = Callable[[Conn, datetime], Awaitable[None]]


async def run(
    conn: Conn,
    now: datetime,
    event_retention: timedelta = EVENT_RETENTION,
    *,
    also: Sequence[Upkeep] = (),
) -> dict[str, int] | None:
    """Run the job as of ``now``: the points expired per tenant, or None when another
    process is running it right now."""
    if not await job_db.try_job_lock(conn, JOB_LOCK):
        return None
    try:
        done = await ledger.expire_due(conn, now)
        await idempotency.forget_before(conn, now - IDEMPOTENCY_KEEP)
        for upkeep in also:
            await upkeep(conn, now)
        await ledger.recompute_all_tiers(conn, now)
        async with conn.transaction():
            await events.announce_expiring(conn, now)
        await events.prune(conn, now, event_retention)
        await segments.prune(conn, now - SEGMENT_HISTORY)
        await exclusions.prune(conn)
        return done
    finally:
        await job_db.job_unlock(conn, JOB_LOCK)


async def preview(conn: Conn, now: datetime) -> dict[str, int]:
    """What :func:`run` would expire per tenant, written nowhere."""
    return await ledger.expiry_preview(conn, now)
