"""Merchants."""

from __future__ import annotations

from db.queries import sql
from db.rows import many, one
from db.types import Conn
from rewards.models import Merchant


async def insert_merchant(
    conn: Conn, tenant_id: str, merchant_id: str, name: str, category: str
) -> Merchant | None:
    """Insert a merchant; None when the id is taken."""
    row = await conn.fetchrow(sql("merchant_insert"), tenant_id, merchant_id, name, category)
    return one(row, Merchant)


async def get_merchant(conn: Conn, tenant_id: str, merchant_id: str) -> Merchant | None:
    return one(await conn.fetchrow(sql("merchant_get"), tenant_id, merchant_id), Merchant)


async def list_merchants(
    conn: Conn, tenant_id: str, after: str | None, limit: int
) -> list[Merchant]:
    return many(await conn.fetch(sql("merchant_list"), tenant_id, after, limit), Merchant)
