"""Grants: what each one gives, and the members who have had it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__)


class GrantRow(msgspec.Struct, frozen=True):
    grant_id: str
    job_id: str
    body_hash: bytes
    audience: dict[str, Any]
    points: int | None
    expires_at: datetime | None
    offer_id: str | None
    reason: str
    created_by: str
    created_at: datetime


async def insert(
    conn: Conn,
    tenant_id: str,
    grant_id: str,
    job_id: str,
    body_hash: bytes,
    audience: dict[str, Any],
    points: int | None,
    expires_at: datetime | None,
    offer_id: str | None,
    reason: str,
    actor: str,
) -> bool:
    found = await conn.fetchval(
        sql("grant_insert"),
        tenant_id,
        grant_id,
        job_id,
        body_hash,
        audience,
        points,
        expires_at,
        offer_id,
        reason,
        actor,
    )
    return found is not None


async def get(conn: Conn, tenant_id: str, grant_id: str) -> GrantRow | None:
    row = await conn.fetchrow(sql("grant_get"), tenant_id, grant_id)
    return None if row is None else msgspec.convert(dict(row.items()), GrantRow)


async def mark_granted(
    conn: Conn,
    tenant_id: str,
    grant_id: str,
    member_ids: Sequence[str],
    points: int,
    offer_claimed: bool,
) -> list[str]:
    """The members not granted before, now marked granted."""
    rows = await conn.fetch(
        sql("grant_members_insert"), tenant_id, grant_id, sorted(member_ids), points, offer_claimed
    )
    return [r["member_id"] for r in rows]
