"""Tenants and API keys."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from db.queries import queries_beside
from db.rows import many, one
from db.types import Conn
from rewards.core.records import ApiKey, ApiKeyRecord, Role, TenantSecrets, key_name

sql = queries_beside(__file__)


async def insert_tenant(conn: Conn, tenant_id: str, name: str, secrets: dict[str, str]) -> bool:
    """Insert a tenant with its first secret of each kind; False when the id is taken."""
    inserted = await conn.fetchval(
        sql("tenant_insert"), tenant_id, name, list(secrets), list(secrets.values())
    )
    return inserted is not None


async def lock_tenant(conn: Conn, tenant_id: str) -> bool:
    """Lock the tenant's row for this transaction; False when there is no such tenant."""
    return await conn.fetchval(sql("tenant_lock"), tenant_id) is not None


async def find_tenant_by_name(conn: Conn, name: str) -> str | None:
    tenant_id: str | None = await conn.fetchval(sql("tenant_find_by_name"), name)
    return tenant_id


async def tenant_secrets(conn: Conn | asyncpg.Pool, tenant_id: str) -> TenantSecrets | None:
    return one(await conn.fetchrow(sql("tenant_secrets"), tenant_id), TenantSecrets)


async def rotate_secret(
    conn: Conn, tenant_id: str, kind: str, secret: str, overlap_seconds: float
) -> bool:
    """Make ``secret`` the current one of its kind, the previous one accepted for the
    overlap; False when there is no such tenant."""
    if not await lock_tenant(conn, tenant_id):
        return False
    await conn.execute(sql("secret_retire"), tenant_id, kind, overlap_seconds)
    await conn.execute(sql("secret_insert"), tenant_id, kind, secret)
    return True


async def insert_api_key(
    conn: Conn,
    tenant_id: str,
    key_hash: bytes,
    role: Role,
    merchant_id: str | None,
    label: str,
    key_id: str,
    prefix: str,
) -> ApiKey:
    row = await conn.fetchrow(
        sql("api_key_insert"), tenant_id, key_hash, role, merchant_id, label, key_id, prefix
    )
    key = one(row, ApiKey)
    assert key is not None
    return key


async def list_api_keys(
    conn: Conn, tenant_id: str, role: Role, merchant_id: str | None, after: str | None, limit: int
) -> list[ApiKey]:
    rows = await conn.fetch(sql("api_key_list"), tenant_id, role, merchant_id, after, limit)
    return many(rows, ApiKey)


async def revoke_api_key(
    conn: Conn, tenant_id: str, key_id: str, role: Role, merchant_id: str | None
) -> tuple[ApiKey, bytes] | None:
    """Revoke a live key; the key and its hash (to drop it from caches), or None."""
    row = await conn.fetchrow(sql("api_key_revoke"), tenant_id, key_id, role, merchant_id)
    if row is None:
        return None
    fields = dict(row.items())
    key_hash: bytes = fields.pop("key_hash")
    return msgspec.convert(fields, ApiKey), key_hash


async def count_live_admin_keys(conn: Conn, tenant_id: str) -> int:
    count: int = await conn.fetchval(sql("api_key_count_live_admin"), tenant_id)
    return count


async def revoke_labelled_keys(conn: Conn, tenant_id: str, labels: list[str]) -> int:
    return len(await conn.fetch(sql("api_key_revoke_labelled"), tenant_id, labels))


async def lookup_api_key(
    conn: Conn | asyncpg.Pool, tenant_id: str, key_hash: bytes
) -> ApiKeyRecord | None:
    return one(await conn.fetchrow(sql("api_key_lookup"), tenant_id, key_hash), ApiKeyRecord)


class SessionHolder(msgspec.Struct, frozen=True):
    """Who a web session belongs to, and the token its forms must carry."""

    tenant_id: str
    role: Role
    merchant_id: str | None
    csrf_token: str
    key_id: str = ""
    label: str = ""
    prefix: str = ""

    @property
    def named(self) -> str:
        """The key the session was opened with, as the audit log names it."""
        return key_name(self.key_id, self.label, self.prefix)


async def open_session(
    conn: Conn | asyncpg.Pool,
    tenant_id: str,
    key_hash: bytes,
    session_hash: bytes,
    csrf_token: str,
    lifetime_seconds: float,
    role: Role,
) -> ApiKeyRecord | None:
    """Open a session for a live key of ``role``; None when there is no such key."""
    row = await conn.fetchrow(
        sql("web_session_open"),
        tenant_id,
        key_hash,
        session_hash,
        csrf_token,
        lifetime_seconds,
        role,
    )
    return one(row, ApiKeyRecord)


async def find_session(
    conn: Conn | asyncpg.Pool, tenant_id: str, session_hash: bytes
) -> SessionHolder | None:
    return one(await conn.fetchrow(sql("web_session_find"), tenant_id, session_hash), SessionHolder)


async def close_session(conn: Conn | asyncpg.Pool, tenant_id: str, session_hash: bytes) -> None:
    await conn.execute(sql("web_session_close"), tenant_id, session_hash)


async def close_sessions_of_key(conn: Conn, tenant_id: str, key_hash: bytes) -> None:
    await conn.execute(sql("web_sessions_close_revoked"), tenant_id, key_hash)


async def sign_in_failures_now(conn: Conn | asyncpg.Pool, tenant_id: str, client: str) -> int:
    failures: int = await conn.fetchval(sql("sign_in_failures_now"), tenant_id, client)
    return failures


async def note_sign_in_failure(
    conn: Conn | asyncpg.Pool, tenant_id: str, client: str
) -> tuple[int, int]:
    """One more failed sign-in of ``client`` with a key naming ``tenant_id``: (failures
    this minute, seconds left in it)."""
    row = await conn.fetchrow(sql("sign_in_failure_note"), tenant_id, client)
    assert row is not None
    return row["failures"], max(row["seconds_left"], 1)


async def tenant_exists(conn: Conn | asyncpg.Pool, tenant_id: str) -> bool:
    found: bool = await conn.fetchval(sql("tenant_exists"), tenant_id)
    return found


class TenantRow(msgspec.Struct, frozen=True):
    tenant_id: str
    name: str
    created_at: datetime


async def list_tenants(conn: Conn, after: str | None, limit: int) -> list[TenantRow]:
    return many(await conn.fetch(sql("tenant_list"), after, limit), TenantRow)
