"""Card transactions as the processor reports them, and the refusals of a refund."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from rewards.core.errors import RewardsError

TransactionKind = Literal["purchase", "refund", "reversal"]


class Risk(msgspec.Struct, frozen=True):
    """The bank's fraud engine's score of a transaction, 0–100 (higher: riskier)."""

    score: int
    source: str | None = None


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
    acquirer_id: str | None = None
    merchant_name: str | None = None
    risk: Risk | None = None


#: Fields added after transactions were first recorded: left out of a transaction's digest
#: when not given, so that a delivery repeated across the upgrade is still the same body.
LATER_FIELDS = ("acquirer_id", "merchant_name", "risk")


class UnknownOriginal(RewardsError):
    status = 422
    type = "unknown_original"
    title = "Unknown original transaction"


class RefundNotAllowed(RewardsError):
    status = 422
    type = "refund_not_allowed"
    title = "Refund not allowed"
