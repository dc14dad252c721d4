"""Tenants and API keys."""

from __future__ import annotations

import asyncpg

from db.queries import sql
from db.rows import one
from db.types import Conn
from rewards.models import ApiKeyRecord, Role, TenantSecrets


async def insert_tenant(
    conn: Conn, tenant_id: str, name: str, hook_secret: str, member_secret: str
) -> None:
    await conn.execute(sql("tenant_insert"), tenant_id, name, [hook_secret], member_secret)


async def find_tenant_by_name(conn: Conn, name: str) -> str | None:
    tenant_id: str | None = await conn.fetchval(sql("tenant_find_by_name"), name)
    return tenant_id


async def tenant_secrets(conn: Conn | asyncpg.Pool, tenant_id: str) -> TenantSecrets | None:
    return one(await conn.fetchrow(sql("tenant_secrets"), tenant_id), TenantSecrets)


async def rotate_hook_secret(conn: Conn, tenant_id: str, secret: str) -> bool:
    return await conn.fetchval(sql("tenant_rotate_hook_secret"), tenant_id, secret) is not None


async def insert_api_key(
    conn: Conn,
    tenant_id: str,
    key_hash: bytes,
    role: Role,
    merchant_id: str | None,
    label: str,
) -> None:
    await conn.execute(sql("api_key_insert"), tenant_id, key_hash, role, merchant_id, label)


async def lookup_api_key(
    conn: Conn | asyncpg.Pool, tenant_id: str, key_hash: bytes
) -> ApiKeyRecord | None:
    return one(await conn.fetchrow(sql("api_key_lookup"), tenant_id, key_hash), ApiKeyRecord)
