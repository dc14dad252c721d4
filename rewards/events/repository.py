"""The outbox: events written with changes, leased by delivery workers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.events import NewEvent, event_id

sql = queries_beside(__file__)


class StoredEvent(msgspec.Struct, frozen=True):
    sequence: int
    type: str
    member_id: str | None
    data: Any
    occurred_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None

    @property
    def event_id(self) -> str:
        return event_id(self.sequence)


class Leased(msgspec.Struct, frozen=True):
    """An event a delivery worker holds for one attempt, with where and how to send it."""

    tenant_id: str
    sequence: int
    type: str
    data: Any
    answer: bytes | None  # the hook answer it reports, as sent (when data is None)
    occurred_at: datetime
    attempts: int
    give_up_at: datetime
    url: str | None
    secrets: list[str]  # the tenant's event signing secrets, the current one first

    @property
    def event_id(self) -> str:
        return event_id(self.sequence)


class Outcome(msgspec.Struct, frozen=True):
    """What one delivery attempt came to."""

    tenant_id: str
    sequence: int
    status: str  # delivered | pending (due again at next_at) | failed
    next_at: datetime | None
    error: str | None


async def insert(conn: Conn, tenant_id: str, events: Sequence[NewEvent]) -> None:
    if not events:
        return
    await conn.execute(
        sql("events_insert"),
        tenant_id,
        [e.type for e in events],
        [e.member_id for e in events],
        [e.transaction_id for e in events],
        [e.data for e in events],
    )


async def lease(
    conn: Conn,
    limit: int,
    tenants: list[str],
    rooms: list[int],
    default_room: int,
    seconds: float,
) -> list[Leased]:
    """Lease up to ``limit`` due events: at most ``rooms[i]`` of ``tenants[i]`` and
    ``default_room`` of any other tenant, for ``seconds``."""
    rows = await conn.fetch(sql("events_lease"), limit, tenants, rooms, default_room, seconds)
    return [msgspec.convert(dict(r.items()), Leased) for r in rows]


async def record_outcomes(conn: Conn, outcomes: Sequence[Outcome]) -> None:
    await conn.execute(
        sql("events_record_outcomes"),
        [o.tenant_id for o in outcomes],
        [o.sequence for o in outcomes],
        [o.status for o in outcomes],
        [o.next_at for o in outcomes],
        [o.error for o in outcomes],
    )


async def list_events(
    conn: Conn,
    tenant_id: str,
    status: str | None,
    type_: str | None,
    before: int | None,
    limit: int,
) -> list[StoredEvent]:
    rows = await conn.fetch(sql("events_list"), tenant_id, status, type_, limit, before)
    return [msgspec.convert(dict(r.items()), StoredEvent) for r in rows]


async def redeliver(conn: Conn, tenant_id: str, sequence: int) -> StoredEvent | None:
    row = await conn.fetchrow(sql("event_redeliver"), tenant_id, sequence)
    return None if row is None else msgspec.convert(dict(row.items()), StoredEvent)


async def prune(conn: Conn, before: datetime) -> None:
    await conn.execute(sql("job_events_prune"), before)


async def depth(conn: Conn) -> tuple[int, float]:
    row = await conn.fetchrow(sql("job_outbox_depth"))
    assert row is not None
    return row["pending"], row["oldest_seconds"]


class ExpiryDue(msgspec.Struct, frozen=True):
    tenant_id: str
    member_id: str
    expires_at: datetime
    points: int


async def expiry_due(conn: Conn, until: datetime, after: datetime, limit: int) -> list[ExpiryDue]:
    rows = await conn.fetch(sql("expiry_notices_due"), until, after, limit)
    return [msgspec.convert(dict(r.items()), ExpiryDue) for r in rows]


async def notice_expiry(conn: Conn, tenant_id: str, due: Sequence[ExpiryDue]) -> list[ExpiryDue]:
    """Record the notices; those recorded now (not by a concurrent run)."""
    rows = await conn.fetch(
        sql("expiry_notices_insert"),
        tenant_id,
        [d.member_id for d in due],
        [d.expires_at for d in due],
        [d.points for d in due],
    )
    return [ExpiryDue(tenant_id, r["member_id"], r["expires_at"], r["points"]) for r in rows]
