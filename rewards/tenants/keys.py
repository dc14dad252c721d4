"""Use cases for API keys: issue (shown once), list, revoke."""

from __future__ import annotations

import secrets

import msgspec

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.credentials import (
    ADMIN_KEY_PREFIX,
    MERCHANT_KEY_PREFIX,
    hash_api_key,
    new_api_key,
    visible_prefix,
)
from rewards.core.errors import Conflict, NotFound
from rewards.core.records import ApiKey, NewApiKey, Role
from rewards.tenants import repository as tenant_db


class LastAdminKey(Conflict):
    """Revoking this key would leave the tenant without an operator key."""

    type = "last_admin_key"
    title = "The last admin key cannot be revoked"


def _audited(key: ApiKey) -> dict[str, object]:
    return {"id": key.key_id, "prefix": key.prefix, "label": key.label, "role": key.role}


async def issue_key(
    conn: Conn,
    tenant_id: str,
    role: Role,
    merchant_id: str | None,
    label: str,
    actor: str | None = None,
) -> NewApiKey:
    """Make a key for the tenant's operators (``merchant_id`` None) or for one merchant.

    The key itself is in the answer and nowhere else: only its hash is stored. With an
    ``actor`` the issue is written to the audit log.
    """
    api_key = new_api_key(ADMIN_KEY_PREFIX if role == "admin" else MERCHANT_KEY_PREFIX, tenant_id)
    key = await tenant_db.insert_api_key(
        conn,
        tenant_id,
        hash_api_key(api_key),
        role,
        merchant_id,
        label,
        "key_" + secrets.token_hex(8),
        visible_prefix(api_key),
    )
    if actor is not None:
        await audit.record(
            conn, tenant_id, actor, "api_key.create", "api_key", key.key_id, None, _audited(key)
        )
    return NewApiKey(key, api_key)


async def list_keys(
    conn: Conn, tenant_id: str, merchant_id: str | None, after: str | None, limit: int
) -> list[ApiKey]:
    """Live keys of the tenant's operators (``merchant_id`` None) or of one merchant."""
    role: Role = "admin" if merchant_id is None else "merchant"
    return await tenant_db.list_api_keys(conn, tenant_id, role, merchant_id, after, limit)


async def revoke_key(
    conn: Conn, tenant_id: str, actor: str, key_id: str, merchant_id: str | None
) -> bytes:
    """Revoke a live key; its hash, so that the caller's worker can forget it at once.

    Raises:
        NotFound: no live key with this id for this holder.
        LastAdminKey: it is the tenant's last live admin key.
    """
    role: Role = "admin" if merchant_id is None else "merchant"
    if role == "admin":
        # The tenant's row serializes revocations: two of them cannot both see a spare key.
        await tenant_db.lock_tenant(conn, tenant_id)
    revoked = await tenant_db.revoke_api_key(conn, tenant_id, key_id, role, merchant_id)
    if revoked is None:
        raise NotFound(f"no live key {key_id}")
    key, key_hash = revoked
    if role == "admin" and await tenant_db.count_live_admin_keys(conn, tenant_id) == 0:
        raise LastAdminKey(f"{key_id} is the last admin key of the tenant: issue another one first")
    await tenant_db.close_sessions_of_key(conn, tenant_id, key_hash)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "api_key.revoke",
        "api_key",
        key.key_id,
        _audited(key),
        msgspec.to_builtins(_audited(key)) | {"revoked": True},
    )
    return key_hash
