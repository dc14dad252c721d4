"""Use case: outbound events — written with the change they report (the outbox), listed and
redelivered by the operator, announced ahead of expiry, pruned once delivered.

Delivery itself runs in every serving process (``rewards.events.delivery``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from db.types import Conn
from rewards.core.errors import NotFound
from rewards.core.events import NewEvent, sequence_of
from rewards.events import repository as events_db
from rewards.events.repository import StoredEvent

__all__ = ["NewEvent", "StoredEvent", "emit", "events", "redeliver"]

EXPIRING_AHEAD = timedelta(days=30)

#: The tenant's events, newest first, by status and type.
events = events_db.list_events

#: Cross-tenant: (events waiting, seconds the oldest has waited), for /metrics.
depth = events_db.depth


async def emit(conn: Conn, tenant_id: str, found: Sequence[NewEvent]) -> None:
    """Write events in the caller's transaction (nothing when the program has no
    webhook_url): they are sent once it commits, and never if it rolls back."""
    await events_db.insert(conn, tenant_id, found)


async def redeliver(conn: Conn, tenant_id: str, event_id: str) -> StoredEvent:
    """Send an event again (delivered or failed ones too), with 72 more hours of retries."""
    sequence = sequence_of(event_id)
    found = None if sequence is None else await events_db.redeliver(conn, tenant_id, sequence)
    if found is None:
        raise NotFound(f"no event {event_id}")
    return found


async def prune(conn: Conn, now: datetime, keep: timedelta) -> None:
    """Forget delivered events older than ``keep``."""
    await events_db.prune(conn, now - keep)


async def announce_expiring(conn: Conn, now: datetime, batch: int = 5000) -> int:
    """``points.expiring`` once per member and expiry date, ``EXPIRING_AHEAD`` before it
    (tenants with a webhook only); the number of events written."""
    written = 0
    while True:
        due = await events_db.expiry_due(conn, now + EXPIRING_AHEAD, now, batch)
        if not due:
            return written
        by_tenant: dict[str, list[events_db.ExpiryDue]] = {}
        for d in due:
            by_tenant.setdefault(d.tenant_id, []).append(d)
        for tenant_id, notices in by_tenant.items():
            fresh = await events_db.notice_expiry(conn, tenant_id, notices)
            await emit(
                conn,
                tenant_id,
                [
                    NewEvent(
                        "points.expiring",
                        d.member_id,
                        {"member_id": d.member_id, "points": d.points, "expires_at": d.expires_at},
                    )
                    for d in fresh
                ],
            )
            written += len(fresh)
        if len(due) < batch:
            return written
