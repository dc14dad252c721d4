"""Wire types of the operator API (/v1/admin/…)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from api.dto.common import (
    AmountMinor,
    BalanceSummary,
    CatalogItemOut,
    Code,
    ConditionsIn,
    Currency,
    Decimal,
    Id,
    Input,
    Label,
    Mcc,
    MerchantOut,
    Name,
    Output,
    Points,
    Tag,
    Tags,
    Timestamp,
    TimeZone,
)
from rewards.core.events import EventType


class MerchantCreate(Input):
    name: Name
    category: Label
    id: Id | None = None


class MerchantCreated(Output):
    id: str
    name: str
    category: str
    created_at: datetime
    api_key: str = msgspec.field(name="api_key")


class MerchantPage(Output):
    items: list[MerchantOut]
    next_cursor: str | None


class ApiKeyCreate(Input):
    label: Annotated[str, Meta(max_length=200)] = ""


class ApiKeyOut(Output):
    id: str
    prefix: str
    label: str
    role: str
    merchant_id: str | None
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(Output):
    id: str
    prefix: str
    label: str
    role: str
    merchant_id: str | None
    created_at: datetime
    last_used_at: datetime | None
    api_key: str


class ApiKeyPage(Output):
    items: list[ApiKeyOut]
    next_cursor: str | None


class MemberPut(Input):
    tier: Tag | None = None
    status: Annotated[
        Literal["active", "suspended", "closed"] | None,
        Meta(
            description="active earns; suspended (a delinquent or blocked card) has its "
            "purchases recorded and earning nothing (points.withheld), its claims and "
            "redemptions 403 member_suspended; closed as suspended, its available points "
            "forfeited; active again earns from then on. Left out: as it is."
        ),
    ] = None
    segments: (
        Annotated[
            list[Tag],
            Meta(
                description="Every segment the member is in (no limit; a segment not made "
                "yet is made); left out, the member's segments stay as they are"
            ),
        ]
        | None
    ) = None
    card_products: Annotated[list[Tag], Meta(max_length=100)] = []
    referral_code_used: Tag | None = None


class MemberExport(Output):
    """Everything held about one member, by table."""

    member_id: str
    tables: dict[str, Any]


class ErasedOut(Output):
    erased: bool
    pseudonym: str


class MemberOut(Output):
    member_id: str
    tier: str | None
    segments: list[str]
    card_products: list[str]
    referral_code_used: str | None
    referral_code: str | None
    balance: BalanceSummary
    created_at: datetime
    status: Literal["active", "suspended", "closed"] = "active"


class MemberPage(Output):
    items: list[MemberOut]
    next_cursor: str | None


class TransactionOut(Output):
    id: str
    kind: str
    member_id: str
    original_id: str | None
    amount_minor: int
    currency: str
    occurred_at: datetime
    request: dict[str, Any]
    answer: dict[str, Any]  # the answer the hook gave, as it was sent
    created_at: datetime


class TierIn(Input):
    name: Tag
    min_spend_minor_12m: AmountMinor


class ReferralIn(Input):
    referrer_points: Points = 0
    referee_points: Points = 0
    min_first_purchase_minor: AmountMinor = 0
    max_per_referrer: Annotated[int, Meta(ge=0)] | None = None


class AbuseIn(Input):
    max_members_per_device: Annotated[int, Meta(ge=1)] | None = None
    max_claims_per_member_per_hour: Annotated[int, Meta(ge=1)] | None = None
    max_points_per_member_per_day: Annotated[int, Meta(ge=1)] | None = None
    hold_above_score: (
        Annotated[
            int,
            Meta(ge=0, le=100, description="a purchase whose risk.score is above this is held"),
        ]
        | None
    ) = None


class ApprovalsIn(Input):
    """Changes made with one admin key that wait for a second key's approval."""

    adjustment_points_over: Annotated[int, Meta(ge=0)] | None = None
    rule_changes: bool = False
    grants_over_points: Annotated[int, Meta(ge=0)] | None = None


class SettlementIn(Input):
    """Merchant statements: a month may be closed this many days after it ends."""

    return_days: Annotated[int, Meta(ge=0, le=365)] = 30


class ProgramIn(Input):
    """The program's settings. Rates are decimal strings (points per major unit)."""

    currency: Currency = "CNY"
    time_zone: TimeZone = "Asia/Shanghai"
    base_rate: Decimal = "1"
    mcc_rates: dict[Mcc, Decimal] = {}
    excluded_mccs: Annotated[list[Mcc], Meta(max_length=1000)] = []
    expiry_months: Annotated[int, Meta(ge=1, le=120)] | None = 24
    pending_days: Annotated[int, Meta(ge=0, le=365)] = 0
    refund_policy: Literal["allow_negative", "within_balance"] = "allow_negative"
    tiers: Annotated[list[TierIn], Meta(max_length=20)] = []
    referral: ReferralIn | None = None
    abuse: AbuseIn | None = None
    approvals: ApprovalsIn | None = None
    settlement: SettlementIn | None = None
    webhook_url: Annotated[str, Meta(pattern=r"^https?://", max_length=2000)] | None = None
    #: The language of the console and the portal (a person may switch on any page).
    locale: Literal["zh-CN", "en"] = "zh-CN"


class ProgramReplaced(ProgramIn):
    """The program as stored by PUT, and the settings it put back to their defaults (those
    the body left out that had other values)."""

    reset_to_defaults: list[str] = []


class ProgramPatch(Input):
    """Some of the program's settings; those not given stay as they are."""

    currency: Currency | UnsetType = UNSET
    time_zone: TimeZone | UnsetType = UNSET
    base_rate: Decimal | UnsetType = UNSET
    mcc_rates: dict[Mcc, Decimal] | UnsetType = UNSET
    excluded_mccs: Annotated[list[Mcc], Meta(max_length=1000)] | UnsetType = UNSET
    expiry_months: Annotated[int, Meta(ge=1, le=120)] | UnsetType | None = UNSET
    pending_days: Annotated[int, Meta(ge=0, le=365)] | UnsetType = UNSET
    refund_policy: Literal["allow_negative", "within_balance"] | UnsetType = UNSET
    tiers: Annotated[list[TierIn], Meta(max_length=20)] | UnsetType = UNSET
    referral: ReferralIn | UnsetType | None = UNSET
    abuse: AbuseIn | UnsetType | None = UNSET
    approvals: ApprovalsIn | UnsetType | None = UNSET
    settlement: SettlementIn | UnsetType | None = UNSET
    webhook_url: Annotated[str, Meta(pattern=r"^https?://", max_length=2000)] | UnsetType | None = (
        UNSET
    )
    locale: Literal["zh-CN", "en"] | UnsetType = UNSET


class EffectIn(Input):
    kind: Literal["multiplier", "fixed"]
    value: Decimal | Points


class CapsIn(Input):
    per_transaction: Points | None = None
    per_member_per_day: Points | None = None
    per_member_per_month: Points | None = None
    budget_points: Points | None = None


class EarnRuleIn(Input):
    id: Id
    name: Name
    effect: EffectIn
    conditions: ConditionsIn = msgspec.field(default_factory=ConditionsIn)
    stacking: bool = True
    caps: CapsIn = msgspec.field(default_factory=CapsIn)
    active: bool = True


class EarnRulePatch(Input):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    effect: EffectIn | msgspec.UnsetType = msgspec.UNSET
    conditions: ConditionsIn | msgspec.UnsetType = msgspec.UNSET
    stacking: bool | msgspec.UnsetType = msgspec.UNSET
    caps: CapsIn | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class EarnRuleOut(Output):
    id: str
    name: str
    effect: dict[str, Any]
    conditions: dict[str, Any]
    stacking: bool
    caps: dict[str, Any]
    active: bool
    budget_used: int


class EarnRulePage(Output):
    items: list[EarnRuleOut]
    next_cursor: str | None


class PrizeIn(Input):
    multiplier: Annotated[int, Meta(ge=1, le=1000)]
    weight: Annotated[int, Meta(ge=1, le=10**9)]


class DrawBudgetIn(Input):
    daily_points: Points | None = None
    total_points: Points | None = None


class DrawCampaignIn(Input):
    id: Id
    name: Name
    prizes: Annotated[list[PrizeIn], Meta(min_length=1, max_length=100)]
    conditions: ConditionsIn = msgspec.field(default_factory=ConditionsIn)
    budget: DrawBudgetIn = msgspec.field(default_factory=DrawBudgetIn)
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None


class CampaignStatsOut(Output):
    draws: int
    prize_counts: dict[str, int]
    bonus_paid: int
    budget_left: int | None


class DrawCampaignOut(Output):
    id: str
    name: str
    prizes: list[dict[str, int]]
    conditions: dict[str, Any]
    budget: dict[str, Any]
    starts_at: datetime | None
    ends_at: datetime | None
    commitment: str
    created_at: datetime
    stats: CampaignStatsOut | None = None


class DrawCampaignPage(Output):
    items: list[DrawCampaignOut]
    next_cursor: str | None


class RevealOut(Output):
    campaign_id: str
    secret: str
    commitment: str


class AdjustmentIn(Input):
    points: Annotated[int, Meta(ge=-(10**9), le=10**9, extra_json_schema={"not": {"const": 0}})]
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class AdjustmentOut(Output):
    member_id: str
    points: int
    reason: str
    balance: BalanceSummary


class LiabilityDayOut(Output):
    day: str
    issued: int
    redeemed: int
    redemptions_cancelled: int
    expired: int
    clawed_back: int
    adjusted_up: int
    adjusted_down: int


class LiabilityOut(Output):
    outstanding: int
    ledger_outstanding: int
    reconciled: bool
    members_with_points: int
    days: list[LiabilityDayOut]


class AuditOut(Output):
    id: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    at: datetime


class AuditPage(Output):
    items: list[AuditOut]
    next_cursor: str | None


class MemberLimitIn(Input):
    count: Annotated[int, Meta(ge=1, le=10**6)]
    per: Literal["day", "month", "year", "lifetime"] = "lifetime"


class EligibilityIn(Input):
    """Who may redeem: the shared condition language (tier, card product, segment, window)."""

    card_product_in: Tags | None = None
    tier_in: Tags | None = None
    segment_in: Tags | None = None
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None


class CatalogItemIn(Input):
    sku: Id
    title: Name
    category: Label
    points_price: Points
    cash_price_minor: AmountMinor = 0
    description: Annotated[str, Meta(max_length=2000)] = ""
    stock: Annotated[int, Meta(ge=0, le=10**9)] | None = None
    per_member_limit: MemberLimitIn | None = None
    eligibility: EligibilityIn = msgspec.field(default_factory=EligibilityIn)
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    cancel_window_hours: Annotated[int, Meta(ge=0, le=24 * 365)] = 0
    fulfilment: Literal["generated", "pool"] = "generated"
    active: bool = True
    codes: Annotated[list[Code], Meta(max_length=100_000)] = []


class CatalogItemPatch(Input):
    title: Name | msgspec.UnsetType = msgspec.UNSET
    category: Label | msgspec.UnsetType = msgspec.UNSET
    points_price: Points | msgspec.UnsetType = msgspec.UNSET
    cash_price_minor: AmountMinor | msgspec.UnsetType = msgspec.UNSET
    description: Annotated[str, Meta(max_length=2000)] | msgspec.UnsetType = msgspec.UNSET
    stock: Annotated[int, Meta(ge=0, le=10**9)] | msgspec.UnsetType | None = msgspec.UNSET
    per_member_limit: MemberLimitIn | msgspec.UnsetType | None = msgspec.UNSET
    eligibility: EligibilityIn | msgspec.UnsetType = msgspec.UNSET
    starts_at: Timestamp | msgspec.UnsetType | None = msgspec.UNSET
    ends_at: Timestamp | msgspec.UnsetType | None = msgspec.UNSET
    cancel_window_hours: Annotated[int, Meta(ge=0, le=24 * 365)] | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class CatalogItemPage(Output):
    items: list[CatalogItemOut]
    next_cursor: str | None


class CodesIn(Input):
    codes: Annotated[list[Code], Meta(min_length=1, max_length=100_000)]


class CodesAdded(Output):
    sku: str
    added: int
    stock_left: int


class RejectIn(Input):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class RiskEventOut(Output):
    id: str
    member_id: str
    device: str | None  # the device's keyed hash (hex); the device id itself is never kept
    reason: str
    detail: dict[str, Any]
    occurred_at: datetime


class RiskEventPage(Output):
    items: list[RiskEventOut]
    next_cursor: str | None


EventTypeName = EventType  # one list of event types: rewards.core.events


class EventOut(Output):
    id: str
    sequence: int
    type: EventTypeName
    member_id: str | None
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_error: str | None
    occurred_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    data: Any


class EventPage(Output):
    items: list[EventOut]
    next_cursor: str | None


class HookSecretRotated(Output):
    hook_secret: str
    previous_valid_until: datetime


class MemberSecretRotated(Output):
    member_token_secret: str
    previous_valid_until: datetime


class EventSecretRotated(Output):
    event_signing_secret: str
    previous_valid_until: datetime
