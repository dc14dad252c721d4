"""Wire types of the merchant portal API (/v1/merchant/…)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from api.dto.common import (
    UNIQUE,
    AmountMinor,
    ConditionsIn,
    Decimal,
    Id,
    Input,
    Label,
    Latitude,
    Longitude,
    Name,
    Output,
    Points,
    StoreOut,
    Timestamp,
)


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


class StorePage(Output):
    items: list[StoreOut]
    next_cursor: str | None


class OfferRewardIn(Input):
    kind: Literal["percent_off", "amount_off", "points_multiplier", "bonus_points"]
    value: Decimal | Points
    max_reward_minor: Annotated[int, Meta(ge=1, le=10**13)] | None = None


class OfferScheduleIn(Input):
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    days_of_week: (
        Annotated[list[Annotated[int, Meta(ge=1, le=7)]], Meta(min_length=1, max_length=7)] | None
    ) = None


class OfferBudgetIn(Input):
    max_redemptions: Annotated[int, Meta(ge=1, le=10**9)] | None = None
    max_reward_minor: Annotated[int, Meta(ge=1, le=10**13)] | None = None


class OfferFundingIn(Input):
    """What the merchant pays of its offer: this share of each reward it gives (the
    program pays the rest), and a fee per match; settled by monthly statements."""

    merchant_share_pct: Annotated[int, Meta(ge=0, le=100)] = 0
    fee_minor_per_match: Annotated[int, Meta(ge=0, le=10**9)] = 0


class OfferIn(Input):
    id: Id
    title: Name
    category: Label
    reward: OfferRewardIn
    min_spend_minor: AmountMinor = 0
    store_ids: Annotated[list[Id], Meta(max_length=10_000, extra_json_schema=UNIQUE)] = []
    geofence_radius_m: Annotated[int, Meta(ge=10, le=5000)] = 500
    targeting: ConditionsIn = msgspec.field(default_factory=ConditionsIn)
    schedule: OfferScheduleIn = msgspec.field(default_factory=OfferScheduleIn)
    budget: OfferBudgetIn = msgspec.field(default_factory=OfferBudgetIn)
    per_member_limit: Annotated[int, Meta(ge=1, le=10**6)] | None = None
    activation: Literal["claim", "auto"] = "claim"
    description: Annotated[str, Meta(max_length=2000)] = ""
    funding: OfferFundingIn | None = None


class OfferPatch(Input):
    title: Name | msgspec.UnsetType = msgspec.UNSET
    category: Label | msgspec.UnsetType = msgspec.UNSET
    reward: OfferRewardIn | msgspec.UnsetType = msgspec.UNSET
    min_spend_minor: AmountMinor | msgspec.UnsetType = msgspec.UNSET
    store_ids: (
        Annotated[list[Id], Meta(max_length=10_000, extra_json_schema=UNIQUE)] | msgspec.UnsetType
    ) = msgspec.UNSET
    geofence_radius_m: Annotated[int, Meta(ge=10, le=5000)] | msgspec.UnsetType = msgspec.UNSET
    targeting: ConditionsIn | msgspec.UnsetType = msgspec.UNSET
    schedule: OfferScheduleIn | msgspec.UnsetType = msgspec.UNSET
    budget: OfferBudgetIn | msgspec.UnsetType = msgspec.UNSET
    per_member_limit: Annotated[int, Meta(ge=1, le=10**6)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    activation: Literal["claim", "auto"] | msgspec.UnsetType = msgspec.UNSET
    description: Annotated[str, Meta(max_length=2000)] | msgspec.UnsetType = msgspec.UNSET
    funding: OfferFundingIn | msgspec.UnsetType | None = msgspec.UNSET


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
