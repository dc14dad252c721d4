"""Use case: one card transaction from the processor's hook, recorded exactly once."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

import msgspec

from db import members as member_db
from db import transactions as tx_db
from db.types import Conn
from rewards.errors import IdempotencyConflict, NotFound
from rewards.models import TransactionRecord

TransactionKind = Literal["purchase", "refund", "reversal"]


class CardTransaction(msgspec.Struct, frozen=True):
    """A card transaction as the processor reported it."""

    id: str
    kind: TransactionKind
    member_id: str
    amount_minor: int
    currency: str
    occurred_at: datetime
    card_product: str | None = None
    mcc: str | None = None
    merchant_id: str | None = None
    store_id: str | None = None
    channel: Literal["online", "offline"] | None = None
    original_id: str | None = None
    lat: float | None = None
    lng: float | None = None


_encoder = msgspec.json.Encoder()


def body_hash(tx: CardTransaction) -> bytes:
    """A digest of the transaction's meaning (field order and spacing do not matter)."""
    return hashlib.sha256(_encoder.encode(tx)).digest()


def empty_outcome(tx: CardTransaction) -> dict[str, Any]:
    """The answer for a transaction that earns nothing."""
    return {
        "transaction_id": tx.id,
        "member_id": tx.member_id,
        "points": {"base": 0, "rules": 0, "draw": 0, "offers": 0, "total": 0},
        "rules_applied": [],
        "draw": None,
        "offers_applied": [],
        "balance": {"available": 0, "pending": 0},
    }


async def process(conn: Conn, tenant_id: str, tx: CardTransaction) -> dict[str, Any]:
    """Record the transaction once and answer it; a repeat gets the first answer again.

    Raises:
        IdempotencyConflict: the id is known with a different body.
    """
    digest = body_hash(tx)
    outcome = empty_outcome(tx)
    claimed = await tx_db.claim(conn, tenant_id, tx, digest, outcome)
    if not claimed:
        stored = await tx_db.get(conn, tenant_id, tx.id)
        assert stored is not None
        if stored.body_hash != digest:
            raise IdempotencyConflict(
                f"transaction {tx.id} was already posted with a different body"
            )
        return stored.response
    await member_db.enroll_member(conn, tenant_id, tx.member_id)
    return outcome


async def get_record(conn: Conn, tenant_id: str, transaction_id: str) -> TransactionRecord:
    """A recorded transaction with the answer it got."""
    record = await tx_db.detail(conn, tenant_id, transaction_id)
    if record is None:
        raise NotFound(f"no transaction {transaction_id}")
    return record
