"""Approvals: changes made with one admin key, waiting for another."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__)


class Approval(msgspec.Struct, frozen=True):
    approval_id: str
    kind: str
    status: str
    summary: dict[str, Any]
    request: dict[str, Any]
    requested_by: str
    requested_key: str
    decided_by: str | None
    decided_at: datetime | None
    result: Any
    created_at: datetime


def _approval(row: Any) -> Approval:
    return msgspec.convert(dict(row.items()), Approval)


async def add(
    conn: Conn,
    tenant_id: str,
    approval_id: str,
    kind: str,
    summary: dict[str, Any],
    request: dict[str, Any],
    actor: str,
    key_id: str,
) -> Approval:
    row = await conn.fetchrow(
        sql("approval_add"),
        tenant_id,
        approval_id,
        kind,
        summary,
        request,
        actor,
        key_id,
    )
    return _approval(row)


async def lock(conn: Conn, tenant_id: str, approval_id: str) -> Approval | None:
    row = await conn.fetchrow(sql("approval_lock"), tenant_id, approval_id)
    return None if row is None else _approval(row)


async def decide(
    conn: Conn,
    tenant_id: str,
    approval_id: str,
    status: str,
    actor: str,
    key_id: str,
    result: Any,
) -> Approval:
    row = await conn.fetchrow(
        sql("approval_decide"), tenant_id, approval_id, status, actor, key_id, result
    )
    return _approval(row)


async def list_approvals(
    conn: Conn,
    tenant_id: str,
    status: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[Approval]:
    at, key = before if before else (None, None)
    rows = await conn.fetch(sql("approval_list"), tenant_id, status, at, key, limit)
    return [_approval(r) for r in rows]
