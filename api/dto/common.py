"""Wire types shared by more than one caller: the bases, ids and shapes every caller uses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rewards.core import ledger as ledger_core
from rewards.core.credentials import ID_PATTERN

Id = Annotated[str, Meta(pattern=ID_PATTERN, description="[A-Za-z0-9._:-]{1,64}")]


Name = Annotated[str, Meta(min_length=1, max_length=200)]


Label = Annotated[str, Meta(min_length=1, max_length=64)]


Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}(?!\n)$", description="ISO 4217 code")]


AmountMinor = Annotated[int, Meta(ge=0, le=10**13, description="minor units (fen for CNY)")]


Mcc = Annotated[str, Meta(pattern=r"^[0-9]{4}(?!\n)$")]


TimeZone = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        description="IANA time zone name",
        # The names are listed once, in the document's TimeZone component.
        extra_json_schema={"$ref": "#/components/schemas/TimeZone"},
    ),
]


#: A list that names each value once (the service refuses repeats).
UNIQUE: dict[str, Any] = {"uniqueItems": True}


#: The years a time in a request may name: far enough out for any card program, and near
#: enough that moving it to UTC or to any time zone stays within what PostgreSQL stores.
EARLIEST_YEAR, LATEST_YEAR = 1900, 9899


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """Base of request bodies: unknown fields are refused, never silently stored."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime) and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
                raise ValueError(f"{name}: a time in the years {EARLIEST_YEAR} to {LATEST_YEAR}")


class Output(msgspec.Struct):
    """Base of response bodies."""


class MerchantOut(Output):
    id: str
    name: str
    category: str
    created_at: datetime


# The hook's answer carries the member's balance as the core makes it: one type, one name in
# the OpenAPI document, from the plan to every place a balance is shown.
BalanceSummary = ledger_core.BalanceSummary


class Location(Input):
    lat: Annotated[float, Meta(ge=-90, le=90)]
    lng: Annotated[float, Meta(ge=-180, le=180)]


class RiskIn(Input):
    """The bank's fraud engine's score of the transaction (higher: riskier)."""

    score: Annotated[int, Meta(ge=0, le=100)]
    source: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


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
    acquirer_id: Id | None = None
    merchant_name: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    risk: RiskIn | None = None


Tag = Annotated[str, Meta(min_length=1, max_length=64)]


Hhmm = Annotated[str, Meta(pattern=r"^(?:[01][0-9]|2[0-3]):[0-5][0-9](?!\n)$|^24:00(?!\n)$")]


Tags = Annotated[list[Tag], Meta(min_length=1, max_length=1000)]


Decimal = Annotated[
    str, Meta(pattern=r"^[0-9]{1,9}(\.[0-9]{1,6})?(?!\n)$", description="decimal string")
]


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
            list[Annotated[str, Meta(pattern=r"^[0-9a-f]{15}(?!\n)$")]],
            Meta(min_length=1, max_length=10000),
        ]
        | None
    ) = None
    risk_score_below: (
        Annotated[
            int,
            Meta(ge=1, le=101, description="the hook's risk.score is given and below this"),
        ]
        | None
    ) = None


Code = Annotated[str, Meta(min_length=1, max_length=200)]


class CatalogItemOut(Output):
    sku: str
    title: str
    category: str
    description: str
    points_price: int
    cash_price_minor: int
    stock_left: int | None
    redeemed: int
    per_member_limit: dict[str, Any] | None
    eligibility: dict[str, Any]
    starts_at: datetime | None
    ends_at: datetime | None
    cancel_window_hours: int
    fulfilment: str
    active: bool
    created_at: datetime


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


Latitude = Annotated[float, Meta(ge=-90, le=90)]


Longitude = Annotated[float, Meta(ge=-180, le=180)]


class StoreOut(Output):
    id: str
    name: str
    lat: float
    lng: float
    address: str


class OfferOut(Output):
    id: str
    merchant_id: str
    title: str
    category: str
    description: str
    reward: dict[str, Any]
    min_spend_minor: int
    store_ids: list[str]
    geofence_radius_m: int
    targeting: dict[str, Any]
    schedule: dict[str, Any]
    budget: dict[str, Any]
    per_member_limit: int | None
    activation: str
    status: str
    redemptions_used: int
    reward_used_minor: int
    reject_reason: str | None
    created_at: datetime
    #: What the merchant pays of the offer's rewards (none: the program pays them all).
    funding: dict[str, Any] | None = None


class OfferPage(Output):
    items: list[OfferOut]
    next_cursor: str | None
