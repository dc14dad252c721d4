"""Card transactions as the processor reports them, and the refusals of a refund."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from rewards.core.errors import RewardsError

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


class UnknownOriginal(RewardsError):
    status = 422
    type = "unknown_original"
    title = "Unknown original transaction"


class RefundNotAllowed(RewardsError):
    status = 422
    type = "refund_not_allowed"
    title = "Refund not allowed"
