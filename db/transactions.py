"""Hook transactions."""

from __future__ import annotations

from db.queries import sql
from db.rows import one
from db.types import Conn
from rewards.models import TransactionRecord


async def detail(conn: Conn, tenant_id: str, transaction_id: str) -> TransactionRecord | None:
    row = await conn.fetchrow(sql("transaction_detail"), tenant_id, transaction_id)
    return one(row, TransactionRecord)
