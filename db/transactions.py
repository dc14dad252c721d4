"""Hook transactions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from db.queries import sql
from db.rows import one
from db.types import Conn
from rewards.models import StoredTransaction, TransactionRecord

if TYPE_CHECKING:
    from rewards.transactions import CardTransaction


async def claim(
    conn: Conn,
    tenant_id: str,
    tx: CardTransaction,
    body_hash: bytes,
    response: dict[str, Any],
) -> bool:
    """Insert the transaction; False when its id is already recorded."""
    row = await conn.fetchval(
        sql("transaction_claim"),
        tenant_id,
        tx.id,
        body_hash,
        tx.kind,
        tx.member_id,
        tx.original_id,
        tx.amount_minor,
        tx.currency,
        tx.occurred_at,
        msgspec.to_builtins(tx),
        response,
    )
    return row is not None


async def set_response(
    conn: Conn, tenant_id: str, transaction_id: str, response: dict[str, Any]
) -> None:
    await conn.execute(sql("transaction_set_response"), tenant_id, transaction_id, response)


async def get(conn: Conn, tenant_id: str, transaction_id: str) -> StoredTransaction | None:
    return one(
        await conn.fetchrow(sql("transaction_get"), tenant_id, transaction_id), StoredTransaction
    )


async def detail(conn: Conn, tenant_id: str, transaction_id: str) -> TransactionRecord | None:
    row = await conn.fetchrow(sql("transaction_detail"), tenant_id, transaction_id)
    return one(row, TransactionRecord)
