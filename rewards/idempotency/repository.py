"""The SQL of idempotency keys: claimed, read, answered, forgotten."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__)


class StoredKey(msgspec.Struct, frozen=True):
    request_hash: bytes
    status: int | None
    response: Any


async def reserve_key(conn: Conn, tenant_id: str, scope: str, key: str, digest: bytes) -> bool:
    reserved = await conn.fetchval(sql("idempotency_reserve"), tenant_id, scope, key, digest)
    return reserved is not None


async def get_key(conn: Conn, tenant_id: str, scope: str, key: str) -> StoredKey | None:
    row = await conn.fetchrow(sql("idempotency_get"), tenant_id, scope, key)
    if row is None:
        return None
    return StoredKey(bytes(row["request_hash"]), row["status"], row["response"])


async def save_key(
    conn: Conn, tenant_id: str, scope: str, key: str, status: int, response: Any
) -> None:
    await conn.execute(sql("idempotency_save"), tenant_id, scope, key, status, response)


async def forget_old_keys(conn: Conn, before: datetime) -> None:
    await conn.execute(sql("job_forget_old_idempotency_keys"), before)


async def release_key(conn: Conn, tenant_id: str, scope: str, key: str) -> None:
    await conn.execute(sql("idempotency_release"), tenant_id, scope, key)
