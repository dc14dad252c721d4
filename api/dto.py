"""Wire types of the HTTP API (msgspec Structs with constraints)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from rewards.core.credentials import ID_PATTERN

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


# --- API keys ------------------------------------------------------------------------------


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
    currency: Currency
    occurred_at: Annotated[datetime, Meta(tz=True, description="RFC 3339 with offset")]
    card_product: Label | None = None
    mcc: Mcc | None = None
    merchant_id: Id | None = None
    store_id: Id | None = None
    channel: Literal["online", "offline"] | None = None
    original_id: Id | None = None
    location: Location | None = None
    amount_minor: Annotated[
        AmountMinor | None,
        Meta(description="Required for purchases and refunds; a reversal voids the rest."),
    ] = None


class HookBatch(Input):
    transactions: Annotated[list[msgspec.Raw], Meta(min_length=1, max_length=1000)]


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
    request: dict[str, object]
    result: dict[str, object]
    created_at: datetime


# --- the shared condition language ---------------------------------------------------------

Hhmm = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
Tags = Annotated[list[Tag], Meta(min_length=1, max_length=1000)]
Decimal = Annotated[str, Meta(pattern=r"^[0-9]{1,9}(\.[0-9]{1,6})?$", description="decimal string")]
Points = Annotated[int, Meta(ge=0, le=10**12)]
Timestamp = Annotated[datetime, Meta(tz=True)]


class LocalTimeIn(Input):
    from_: Hhmm = msgspec.field(name="from")
    to: Hhmm = "24:00"


class ConditionsIn(Input):
    """Every given condition must hold. Days are ISO (1 Monday … 7 Sunday) and times are
    local to the program's time zone; h3_cells may mix resolutions."""

    mcc_in: Annotated[list[Mcc], Meta(min_length=1, max_length=1000)] | None = None
    merchant_in: Annotated[list[Id], Meta(min_length=1, max_length=10000)] | None = None
    channel: Literal["online", "offline"] | None = None
    card_product_in: Tags | None = None
    tier_in: Tags | None = None
    segment_in: Tags | None = None
    min_amount_minor: AmountMinor | None = None
    days_of_week: (
        Annotated[list[Annotated[int, Meta(ge=1, le=7)]], Meta(min_length=1, max_length=7)] | None
    ) = None
    local_time: LocalTimeIn | None = None
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    h3_cells: (
        Annotated[
            list[Annotated[str, Meta(pattern=r"^[0-9a-f]{15}$")]],
            Meta(min_length=1, max_length=10000),
        ]
        | None
    ) = None


# --- program ---------------------------------------------------------------------------------


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


class ProgramIn(Input):
    """The program's settings. Rates are decimal strings (points per major unit)."""

    currency: Currency = "CNY"
    time_zone: Annotated[str, Meta(min_length=1, max_length=64)] = "Asia/Shanghai"
    base_rate: Decimal = "1"
    mcc_rates: dict[Mcc, Decimal] = {}
    excluded_mccs: Annotated[list[Mcc], Meta(max_length=1000)] = []
    expiry_months: Annotated[int, Meta(ge=1, le=120)] | None = 24
    pending_days: Annotated[int, Meta(ge=0, le=365)] = 0
    refund_policy: Literal["allow_negative", "within_balance"] = "allow_negative"
    tiers: Annotated[list[TierIn], Meta(max_length=20)] = []
    referral: ReferralIn | None = None
    abuse: AbuseIn | None = None
    webhook_url: Annotated[str, Meta(pattern=r"^https?://", max_length=2000)] | None = None


class ProgramReplaced(ProgramIn):
    """The program as stored by PUT, and the settings it put back to their defaults (those
    the body left out that had other values)."""

    reset_to_defaults: list[str] = []


class ProgramPatch(Input):
    """Some of the program's settings; those not given stay as they are."""

    currency: Currency | UnsetType = UNSET
    time_zone: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET
    base_rate: Decimal | UnsetType = UNSET
    mcc_rates: dict[Mcc, Decimal] | UnsetType = UNSET
    excluded_mccs: Annotated[list[Mcc], Meta(max_length=1000)] | UnsetType = UNSET
    expiry_months: Annotated[int, Meta(ge=1, le=120)] | UnsetType | None = UNSET
    pending_days: Annotated[int, Meta(ge=0, le=365)] | UnsetType = UNSET
    refund_policy: Literal["allow_negative", "within_balance"] | UnsetType = UNSET
    tiers: Annotated[list[TierIn], Meta(max_length=20)] | UnsetType = UNSET
    referral: ReferralIn | UnsetType | None = UNSET
    abuse: AbuseIn | UnsetType | None = UNSET
    webhook_url: Annotated[str, Meta(pattern=r"^https?://", max_length=2000)] | UnsetType | None = (
        UNSET
    )


# --- earn rules ------------------------------------------------------------------------------


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
    effect: dict[str, object]
    conditions: dict[str, object]
    stacking: bool
    caps: dict[str, object]
    active: bool
    budget_used: int


class EarnRulePage(Output):
    items: list[EarnRuleOut]
    next_cursor: str | None


# --- draw campaigns --------------------------------------------------------------------------


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
    conditions: dict[str, object]
    budget: dict[str, object]
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


# --- members, ledger -------------------------------------------------------------------------


class AdjustmentIn(Input):
    points: Annotated[int, Meta(ge=-(10**9), le=10**9)]
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class AdjustmentOut(Output):
    member_id: str
    points: int
    reason: str
    balance: BalanceSummary


class Expiring(Output):
    points: int
    expires_at: datetime


class BalanceOut(Output):
    available: int
    pending: int
    expiring: list[Expiring]
    lifetime_earned: int


class MovementOut(Output):
    id: str
    kind: str
    points: int
    transaction_id: str | None
    cause: dict[str, object]
    created_at: datetime


class ActivityPage(Output):
    items: list[MovementOut]
    next_cursor: str | None


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
    before: object
    after: object
    at: datetime


class AuditPage(Output):
    items: list[AuditOut]
    next_cursor: str | None


# --- catalog ---------------------------------------------------------------------------------

Code = Annotated[str, Meta(min_length=1, max_length=200)]


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


class CatalogItemOut(Output):
    sku: str
    title: str
    category: str
    description: str
    points_price: int
    cash_price_minor: int
    stock_left: int | None
    redeemed: int
    per_member_limit: dict[str, object] | None
    eligibility: dict[str, object]
    starts_at: datetime | None
    ends_at: datetime | None
    cancel_window_hours: int
    fulfilment: str
    active: bool
    created_at: datetime


class CatalogItemPage(Output):
    items: list[CatalogItemOut]
    next_cursor: str | None


class CodesIn(Input):
    codes: Annotated[list[Code], Meta(min_length=1, max_length=100_000)]


class CodesAdded(Output):
    sku: str
    added: int
    stock_left: int


class MemberCatalogItem(Output):
    sku: str
    title: str
    category: str
    description: str
    points_price: int
    cash_price_minor: int
    stock: Literal["in_stock", "out_of_stock", "unlimited"]
    stock_left: int | None
    redeemable: bool
    reason: str | None


class MemberCatalog(Output):
    items: list[MemberCatalogItem]
    next_cursor: str | None


class RedemptionIn(Input):
    sku: Id
    quantity: Annotated[int, Meta(ge=1, le=100)] = 1


class RedemptionOut(Output):
    id: str
    sku: str
    quantity: int
    points_spent: int
    cash_due_minor: int
    codes: list[str]
    status: str
    created_at: datetime
    cancel_until: datetime | None
    cancelled_at: datetime | None = None


class RedemptionPage(Output):
    items: list[RedemptionOut]
    next_cursor: str | None


# --- stores and offers ---------------------------------------------------------------------

Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]


class StoreIn(Input):
    name: Name
    lat: Latitude
    lng: Longitude
    id: Id | None = None
    address: Annotated[str, Meta(max_length=500)] = ""


class StorePatch(Input):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    lat: Latitude | msgspec.UnsetType = msgspec.UNSET
    lng: Longitude | msgspec.UnsetType = msgspec.UNSET
    address: Annotated[str, Meta(max_length=500)] | msgspec.UnsetType = msgspec.UNSET


class StoreOut(Output):
    id: str
    name: str
    lat: float
    lng: float
    address: str


class StorePage(Output):
    items: list[StoreOut]
    next_cursor: str | None


class OfferRewardIn(Input):
    kind: Literal["percent_off", "amount_off", "points_multiplier", "bonus_points"]
    value: Decimal | Points
    max_reward_minor: AmountMinor | None = None


class OfferScheduleIn(Input):
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    days_of_week: (
        Annotated[list[Annotated[int, Meta(ge=1, le=7)]], Meta(min_length=1, max_length=7)] | None
    ) = None


class OfferBudgetIn(Input):
    max_redemptions: Annotated[int, Meta(ge=1, le=10**9)] | None = None
    max_reward_minor: Annotated[int, Meta(ge=1, le=10**13)] | None = None


class OfferIn(Input):
    id: Id
    title: Name
    category: Label
    reward: OfferRewardIn
    min_spend_minor: AmountMinor = 0
    store_ids: Annotated[list[Id], Meta(max_length=10_000)] = []
    geofence_radius_m: Annotated[int, Meta(ge=10, le=5000)] = 500
    targeting: ConditionsIn = msgspec.field(default_factory=ConditionsIn)
    schedule: OfferScheduleIn = msgspec.field(default_factory=OfferScheduleIn)
    budget: OfferBudgetIn = msgspec.field(default_factory=OfferBudgetIn)
    per_member_limit: Annotated[int, Meta(ge=1, le=10**6)] | None = None
    activation: Literal["claim", "auto"] = "claim"
    description: Annotated[str, Meta(max_length=2000)] = ""


class OfferPatch(Input):
    title: Name | msgspec.UnsetType = msgspec.UNSET
    category: Label | msgspec.UnsetType = msgspec.UNSET
    reward: OfferRewardIn | msgspec.UnsetType = msgspec.UNSET
    min_spend_minor: AmountMinor | msgspec.UnsetType = msgspec.UNSET
    store_ids: Annotated[list[Id], Meta(max_length=10_000)] | msgspec.UnsetType = msgspec.UNSET
    geofence_radius_m: Annotated[int, Meta(ge=10, le=5000)] | msgspec.UnsetType = msgspec.UNSET
    targeting: ConditionsIn | msgspec.UnsetType = msgspec.UNSET
    schedule: OfferScheduleIn | msgspec.UnsetType = msgspec.UNSET
    budget: OfferBudgetIn | msgspec.UnsetType = msgspec.UNSET
    per_member_limit: Annotated[int, Meta(ge=1, le=10**6)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    activation: Literal["claim", "auto"] | msgspec.UnsetType = msgspec.UNSET
    description: Annotated[str, Meta(max_length=2000)] | msgspec.UnsetType = msgspec.UNSET


class OfferOut(Output):
    id: str
    merchant_id: str
    title: str
    category: str
    description: str
    reward: dict[str, object]
    min_spend_minor: int
    store_ids: list[str]
    geofence_radius_m: int
    targeting: dict[str, object]
    schedule: dict[str, object]
    budget: dict[str, object]
    per_member_limit: int | None
    activation: str
    status: str
    redemptions_used: int
    reward_used_minor: int
    reject_reason: str | None
    created_at: datetime


class OfferPage(Output):
    items: list[OfferOut]
    next_cursor: str | None


class RejectIn(Input):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class OfferDayOut(Output):
    day: str
    claims: int
    redemptions: int
    reward_minor: int
    points: int
    spend_minor: int


class OfferStatsOut(Output):
    offer_id: str
    days: list[OfferDayOut]


class NearbyItem(Output):
    offer: OfferOut
    store: StoreOut
    distance_m: int
    inside_geofence: bool
    claimed: bool


class NearbyPage(Output):
    items: list[NearbyItem]


class ClaimOut(Output):
    offer: OfferOut
    claimed_at: datetime
    uses: int = 0


class ClaimedPage(Output):
    items: list[ClaimOut]
    next_cursor: str | None
