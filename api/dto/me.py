"""Wire types of the mobile API (/v1/me/…)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta

from api.dto.common import (
    BalanceSummary,
    Id,
    Input,
    OfferOut,
    Output,
    RedemptionOut,
    StoreOut,
)


class MeOut(Output):
    member_id: str
    tier: str | None
    segments: list[str]
    card_products: list[str]
    balance: BalanceSummary
    created_at: datetime


class Expiring(Output):
    points: int
    expires_at: datetime


class BalanceOut(Output):
    available: int
    pending: int
    expiring: list[Expiring]
    lifetime_earned: int


class TransferOut(Output):
    id: str
    kind: str
    points: int
    transaction_id: str | None
    cause: dict[str, Any]
    created_at: datetime


class ActivityPage(Output):
    items: list[TransferOut]
    next_cursor: str | None


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


class RedemptionPage(Output):
    items: list[RedemptionOut]
    next_cursor: str | None


class NearbyItem(Output):
    offer: OfferOut
    store: StoreOut
    distance_m: int
    inside_geofence: bool
    claimed: bool


class NearbyPage(Output):
    items: list[NearbyItem]


class FenceOut(Output):
    """A region for the app to watch: an offer's geofence around one of its stores."""

    fence_id: str
    offer_id: str
    store_id: str
    lat: float
    lng: float
    radius_m: int


class FencesOut(Output):
    """The nearest geofences of offers the member may use now, nearest first; ask again
    once the member has moved ``refresh_radius_m`` (no usable fence left out is nearer)."""

    items: list[FenceOut]
    refresh_radius_m: int


class ClaimOut(Output):
    offer: OfferOut
    claimed_at: datetime
    uses: int = 0


class ClaimedPage(Output):
    items: list[ClaimOut]
    next_cursor: str | None


class RefereeOut(Output):
    member: str  # masked: enough to recognise, not to identify
    status: Literal["pending", "rewarded", "refused", "clawed_back"]
    attached_at: datetime
    settled_at: datetime | None


class ReferralOut(Output):
    code: str
    referred: int
    rewarded: int
    points_earned: int
    referees: list[RefereeOut]
    next_cursor: str | None


class ReferralApply(Input):
    code: Annotated[str, Meta(min_length=1, max_length=32)]


class ReferralAppliedOut(Output):
    code: str
    status: Literal["pending", "rewarded", "refused", "clawed_back"]
    attached_at: datetime
