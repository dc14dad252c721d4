"""Merchants."""

from __future__ import annotations

from db.queries import queries_beside
from db.rows import many, one
from db.types import Conn
from offers.core.offers import Merchant

sql = queries_beside(__file__)


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


async def insert_merchants(conn: Conn, tenant_id: str, rows: list[tuple[str, str, str]]) -> None:
    """Many merchants at once (id, name, category); existing ids are left alone."""
    await conn.execute(
        sql("merchants_insert_many"),
        tenant_id,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
    )


async def count_merchants(conn: Conn, tenant_id: str) -> int:
    value: int = await conn.fetchval(sql("merchant_count"), tenant_id)
    return value
