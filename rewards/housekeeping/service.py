"""Use case: the periodic job — expire due points, recompute tiers, forget old idempotency
keys and offer changes. Every API process runs it on an interval (``rewards expire`` runs it
by hand); an advisory lock lets one process at a time do it."""

from __future__ import annotations

from datetime import datetime, timedelta

from db.types import Conn
from offers.nearby import service as nearby
from rewards.events import service as events
from rewards.housekeeping import repository as job_db
from rewards.idempotency import service as idempotency
from rewards.ledger import service as ledger

JOB_LOCK = 0x45585052  # "EXPR"
IDEMPOTENCY_KEEP = timedelta(hours=48)
OFFER_CHANGES_KEEP = timedelta(days=1)  # every process refreshes far more often than this
EVENT_RETENTION = timedelta(days=7)  # delivered events, unless the server says otherwise


async def run(
    conn: Conn, now: datetime, event_retention: timedelta = EVENT_RETENTION
) -> dict[str, int] | None:
    """Run the job as of ``now``: the points expired per tenant, or None when another
    process is running it right now."""
    if not await job_db.try_job_lock(conn, JOB_LOCK):
        return None
    try:
        done = await ledger.expire_due(conn, now)
        await idempotency.forget_before(conn, now - IDEMPOTENCY_KEEP)
        await nearby.prune_changes(conn, now - OFFER_CHANGES_KEEP)
        await ledger.recompute_all_tiers(conn, now)
        async with conn.transaction():
            await events.announce_expiring(conn, now)
        await events.prune(conn, now, event_retention)
        return done
    finally:
        await job_db.job_unlock(conn, JOB_LOCK)


async def preview(conn: Conn, now: datetime) -> dict[str, int]:
    """What :func:`run` would expire per tenant, written nowhere."""
    return await ledger.expiry_preview(conn, now)
