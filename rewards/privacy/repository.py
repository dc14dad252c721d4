"""What is held about a member, read out or erased."""

from __future__ import annotations

from typing import Any

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__)


async def export(conn: Conn, tenant_id: str, member_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = await conn.fetchval(sql("member_export"), tenant_id, member_id)
    return found


async def erase(conn: Conn, tenant_id: str, member_id: str, pseudonym: str) -> bool:
    done: bool | None = await conn.fetchval(sql("member_erase"), tenant_id, member_id, pseudonym)
    return bool(done)
