"""Use cases for merchants."""

from __future__ import annotations

import secrets

import msgspec

from db.types import Conn
from offers.core.offers import Merchant
from offers.merchants import repository as merchant_db
from rewards.audit import service as audit
from rewards.core.errors import AlreadyExists, NotFound
from rewards.tenants.keys import issue_key


class NewMerchant(msgspec.Struct, frozen=True):
    """A created merchant with its API key, shown once."""

    merchant: Merchant
    api_key: str


async def create_merchant(
    conn: Conn,
    tenant_id: str,
    actor: str,
    merchant_id: str | None,
    name: str,
    category: str,
) -> NewMerchant:
    """Create a merchant and its first API key, scoped to that merchant."""
    merchant_id = merchant_id or "mer_" + secrets.token_hex(8)
    merchant = await merchant_db.insert_merchant(conn, tenant_id, merchant_id, name, category)
    if merchant is None:
        raise AlreadyExists(f"merchant {merchant_id} exists already")
    key = await issue_key(conn, tenant_id, "merchant", merchant_id, "first merchant key")
    await audit.record(
        conn,
        tenant_id,
        actor,
        "merchant.create",
        "merchant",
        merchant_id,
        None,
        msgspec.to_builtins(merchant),
    )
    return NewMerchant(merchant, key.api_key)


async def get_merchant(conn: Conn, tenant_id: str, merchant_id: str) -> Merchant:
    merchant = await merchant_db.get_merchant(conn, tenant_id, merchant_id)
    if merchant is None:
        raise NotFound(f"no merchant {merchant_id}")
    return merchant


async def list_merchants(
    conn: Conn, tenant_id: str, after: str | None, limit: int
) -> list[Merchant]:
    return await merchant_db.list_merchants(conn, tenant_id, after, limit)


async def issue_merchant_key(conn: Conn, tenant_id: str, merchant_id: str, label: str) -> str:
    """Another API key for an existing merchant (shown once)."""
    await get_merchant(conn, tenant_id, merchant_id)
    return (await issue_key(conn, tenant_id, "merchant", merchant_id, label)).api_key


async def exists(conn: Conn, tenant_id: str, merchant_id: str) -> bool:
    return await merchant_db.get_merchant(conn, tenant_id, merchant_id) is not None


count_merchants = merchant_db.count_merchants

#: Load many merchants (id, name, category) at once, without keys or audit entries (the
#: demo's city); ids that exist already are skipped.
import_merchants = merchant_db.insert_merchants
