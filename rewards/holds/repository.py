"""Holds: purchases whose points wait on a risk score."""

from __future__ import annotations

from datetime import datetime

import msgspec

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__)


class Hold(msgspec.Struct, frozen=True):
    transaction_id: str
    member_id: str
    points: int
    remaining: int
    score: int
    source: str | None
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    expires_at: datetime | None


def _hold(row: object) -> Hold:
    return msgspec.convert(dict(row.items()), Hold)  # type: ignore[attr-defined]


async def list_holds(
    conn: Conn,
    tenant_id: str,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Hold]:
    at, tx = after if after else (None, None)
    rows = await conn.fetch(sql("holds_list"), tenant_id, status, at, tx, limit)
    return [_hold(r) for r in rows]


async def lock(conn: Conn, tenant_id: str, transaction_id: str) -> Hold | None:
    row = await conn.fetchrow(sql("holds_lock"), tenant_id, transaction_id)
    return None if row is None else _hold(row)


async def decide(conn: Conn, tenant_id: str, transaction_id: str, status: str, actor: str) -> Hold:
    return _hold(await conn.fetchrow(sql("holds_decide"), tenant_id, transaction_id, status, actor))


async def parts(conn: Conn, tenant_id: str, transaction_id: str) -> dict[str, int]:
    rows = await conn.fetch(sql("holds_parts"), tenant_id, transaction_id)
    return {r["account"]: r["points"] for r in rows}
