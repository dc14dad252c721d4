"""Reads of the ledger: balances, activity, liability; the expiry job's look-ups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from db.queries import sql
from db.types import Conn


class ExpiryBucket(msgspec.Struct, frozen=True):
    expires_at: datetime | None
    points: int
    pending: int


class MemberBalance(msgspec.Struct, frozen=True):
    balance: int
    lifetime_earned: int
    buckets: list[ExpiryBucket]


class ActivityRow(msgspec.Struct, frozen=True):
    transfer_id: int
    debit_account: str
    credit_account: str
    amount: int
    kind: str
    transaction_id: str | None
    detail: dict[str, Any]
    created_at: datetime


class LiabilityDay(msgspec.Struct, frozen=True):
    day: date
    issued: int
    redeemed: int
    redemptions_cancelled: int
    expired: int
    clawed_back: int
    adjusted_up: int
    adjusted_down: int


async def expired_members(conn: Conn, tenant_id: str, now: datetime, limit: int) -> list[str]:
    rows = await conn.fetch(sql("lots_expired_members"), tenant_id, now, limit)
    return [r["member_id"] for r in rows]


async def tenants_with_expired(conn: Conn, now: datetime) -> list[str]:
    return [r["tenant_id"] for r in await conn.fetch(sql("lots_expired_tenants"), now)]


async def member_balance(
    conn: Conn, tenant_id: str, member_id: str, now: datetime
) -> MemberBalance | None:
    row = await conn.fetchrow(sql("member_balance"), tenant_id, member_id)
    if row is None:
        return None
    buckets = [
        ExpiryBucket(r["expires_at"], r["points"], r["pending"] or 0)
        for r in await conn.fetch(sql("member_lots_by_expiry"), tenant_id, member_id, now)
    ]
    return MemberBalance(row["points_balance"], row["lifetime_earned"], buckets)


async def activity(
    conn: Conn, tenant_id: str, member_id: str, before: int | None, limit: int
) -> list[ActivityRow]:
    rows = await conn.fetch(sql("member_activity"), tenant_id, member_id, before, limit)
    return [msgspec.convert(dict(r.items()), ActivityRow) for r in rows]


async def liability(
    conn: Conn, tenant_id: str, zone: str, first: date, last: date
) -> tuple[int, int, int, list[LiabilityDay]]:
    """(outstanding by balances, members holding points, outstanding by the ledger, days)."""
    totals = await conn.fetchrow(sql("liability_outstanding"), tenant_id)
    assert totals is not None
    ledger = await conn.fetchval(sql("liability_ledger_outstanding"), tenant_id)
    rows = await conn.fetch(sql("liability_daily"), tenant_id, zone, first, last)
    days = [msgspec.convert(dict(r.items()), LiabilityDay) for r in rows]
    return totals["outstanding"], totals["members_with_points"], ledger, days


async def try_job_lock(conn: Conn, key: int) -> bool:
    return bool(await conn.fetchval(sql("job_try_lock"), key))


async def job_unlock(conn: Conn, key: int) -> None:
    await conn.execute(sql("job_unlock"), key)


async def tenants_with_tiers(conn: Conn) -> list[str]:
    return [r["tenant_id"] for r in await conn.fetch(sql("job_tenants_with_tiers"))]
