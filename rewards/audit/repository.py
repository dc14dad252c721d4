"""The audit log of operator and merchant changes."""

from __future__ import annotations

from typing import Any

from db.queries import queries_beside
from db.rows import many
from db.types import Conn
from rewards.core.records import AuditEntry

sql = queries_beside(__file__)


async def record(
    conn: Conn,
    tenant_id: str,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> None:
    """Write one audit entry in the caller's transaction."""
    await conn.execute(
        sql("audit_insert"), tenant_id, actor, action, entity_type, entity_id, before, after
    )


async def list_entries(
    conn: Conn, tenant_id: str, before_id: int | None, limit: int
) -> list[AuditEntry]:
    return many(await conn.fetch(sql("audit_list"), tenant_id, before_id, limit), AuditEntry)
