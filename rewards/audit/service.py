"""Use case: the audit log of every change an operator or a merchant made."""

from __future__ import annotations

from typing import Any

from db.types import Conn
from rewards.audit import repository as audit_db
from rewards.core.records import AuditEntry


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
    """Write one entry (who, what, before and after) in the caller's transaction."""
    await audit_db.record(conn, tenant_id, actor, action, entity_type, entity_id, before, after)


async def entries(
    conn: Conn, tenant_id: str, before_id: int | None, limit: int
) -> list[AuditEntry]:
    """The tenant's entries, newest first, before ``before_id``."""
    return await audit_db.list_entries(conn, tenant_id, before_id, limit)
