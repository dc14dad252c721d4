"""Wire types of the HTTP API (msgspec Structs with constraints)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from rewards.credentials import ID_PATTERN

Id = Annotated[str, Meta(pattern=ID_PATTERN, description="[A-Za-z0-9._:-]{1,64}")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Label = Annotated[str, Meta(min_length=1, max_length=64)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
AmountMinor = Annotated[int, Meta(ge=0, le=10**13, description="minor units (fen for CNY)")]
Mcc = Annotated[str, Meta(pattern=r"^[0-9]{4}$")]
Cursor = str | None


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """Base of request bodies: unknown fields are refused, never silently stored."""


class Output(msgspec.Struct):
    """Base of response bodies."""


# --- merchants -----------------------------------------------------------------------------


class MerchantCreate(Input):
    name: Name
    category: Label
    id: Id | None = None


class MerchantOut(Output):
    id: str
    name: str
    category: str
    created_at: datetime


class MerchantCreated(Output):
    id: str
    name: str
    category: str
    created_at: datetime
    api_key: str = msgspec.field(name="api_key")


class MerchantPage(Output):
    items: list[MerchantOut]
    next_cursor: str | None


# --- members -------------------------------------------------------------------------------


class BalanceSummary(Output):
    available: int
    pending: int


class MeOut(Output):
    member_id: str
    tier: str | None
    segments: list[str]
    card_products: list[str]
    balance: BalanceSummary
    created_at: datetime


# --- transaction hook ----------------------------------------------------------------------


class Location(Input):
    lat: Annotated[float, Meta(ge=-90, le=90)]
    lng: Annotated[float, Meta(ge=-180, le=180)]


class HookTransaction(Input):
    id: Id
    kind: Literal["purchase", "refund", "reversal"]
    member_id: Id
    amount_minor: AmountMinor
    currency: Currency
    occurred_at: Annotated[datetime, Meta(tz=True, description="RFC 3339 with offset")]
    card_product: Label | None = None
    mcc: Mcc | None = None
    merchant_id: Id | None = None
    store_id: Id | None = None
    channel: Literal["online", "offline"] | None = None
    original_id: Id | None = None
    location: Location | None = None


class HookBatch(Input):
    transactions: Annotated[list[msgspec.Raw], Meta(min_length=1, max_length=1000)]


class PointsBreakdown(Output):
    base: int
    rules: int
    draw: int
    offers: int
    total: int


class RuleApplied(Output):
    rule_id: str
    points: int


class DrawResult(Output):
    campaign_id: str
    multiplier: int
    points: int
    proof: str


class OfferApplied(Output):
    offer_id: str
    reward_minor: int
    points: int


class TransactionResult(Output):
    transaction_id: str
    member_id: str
    points: PointsBreakdown
    rules_applied: list[RuleApplied]
    draw: DrawResult | None
    offers_applied: list[OfferApplied]
    balance: BalanceSummary


# --- operations ----------------------------------------------------------------------------


class Health(Output):
    status: Literal["ok"]


class Readiness(Output):
    status: Literal["ready", "not_ready"]
    database: bool
    migrations_current: bool


# --- operator: members and transactions ---------------------------------------------------

Tag = Annotated[str, Meta(min_length=1, max_length=64)]


class MemberPut(Input):
    tier: Tag | None = None
    segments: Annotated[list[Tag], Meta(max_length=100)] = []
    card_products: Annotated[list[Tag], Meta(max_length=100)] = []
    referral_code_used: Tag | None = None


class MemberOut(Output):
    member_id: str
    tier: str | None
    segments: list[str]
    card_products: list[str]
    referral_code_used: str | None
    balance: BalanceSummary
    created_at: datetime


class TransactionOut(Output):
    id: str
    kind: str
    member_id: str
    original_id: str | None
    amount_minor: int
    currency: str
    occurred_at: datetime
    request: dict[str, object]
    result: dict[str, object]
    created_at: datetime
