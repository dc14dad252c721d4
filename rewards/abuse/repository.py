"""Devices, claim times and risk events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.abuse import RiskRecord

sql = queries_beside(__file__)


class RiskEvent(msgspec.Struct, frozen=True):
    event_id: int
    member_id: str
    device: bytes | None
    reason: str
    detail: dict[str, Any]
    occurred_at: datetime


async def member_seq(conn: Conn, tenant_id: str, device: bytes, member_id: str) -> int | None:
    """The member's number on the device, if it was seen before."""
    seq: int | None = await conn.fetchval(sql("device_member_seq"), tenant_id, device, member_id)
    return seq


async def add_member(conn: Conn, tenant_id: str, device: bytes, member_id: str) -> int:
    """Number the member on the device (in a transaction: the device row stays locked)."""
    await conn.fetchval(sql("device_lock"), tenant_id, device)
    seq = await member_seq(conn, tenant_id, device, member_id)
    if seq is None:
        seq = await conn.fetchval(sql("device_add_member"), tenant_id, device, member_id)
    assert seq is not None
    return seq


async def claims_since(
    conn: Conn, tenant_id: str, member_id: str, since: datetime
) -> list[datetime]:
    rows = await conn.fetch(sql("member_claims_since"), tenant_id, member_id, since)
    return [r["claimed_at"] for r in rows]


async def record(conn: Conn, tenant_id: str, events: Sequence[RiskRecord]) -> None:
    """Write risk events in the caller's transaction."""
    if not events:
        return
    await conn.execute(
        sql("risk_events_insert"),
        tenant_id,
        [e.member_id for e in events],
        [e.device for e in events],
        [e.reason for e in events],
        [e.detail for e in events],
    )


async def list_events(
    conn: Conn,
    tenant_id: str,
    member_id: str | None,
    reason: str | None,
    since: datetime | None,
    until: datetime | None,
    before: int | None,
    limit: int,
) -> list[RiskEvent]:
    rows = await conn.fetch(
        sql("risk_events_list"), tenant_id, member_id, reason, since, until, limit, before
    )
    return [msgspec.convert(dict(r.items()), RiskEvent) for r in rows]


async def counts_since(conn: Conn, tenant_id: str, since: datetime) -> dict[str, int]:
    rows = await conn.fetch(sql("risk_event_counts"), tenant_id, since)
    return {r["reason"]: r["events"] for r in rows}
