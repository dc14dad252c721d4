"""Domain values as the wire DTOs every caller shares (offers, stores, merchants, catalog)."""

from __future__ import annotations

import msgspec

from api.dto.common import CatalogItemOut, MerchantOut, OfferOut, RedemptionOut, StoreOut
from offers.core.offers import Merchant, Store, StoredOffer
from offers.publishing import service as publishing
from rewards.catalog import service as redemptions


def store_out(s: Store) -> StoreOut:
    return StoreOut(s.store_id, s.name, s.lat, s.lng, s.address)


def offer_out(stored: StoredOffer) -> OfferOut:
    o = stored.offer
    return OfferOut(
        o.id,
        stored.merchant_id,
        o.title,
        o.category,
        o.description,
        msgspec.to_builtins(o.reward),
        o.min_spend_minor,
        o.store_ids,
        o.geofence_radius_m,
        msgspec.to_builtins(o.targeting),
        msgspec.to_builtins(o.schedule),
        msgspec.to_builtins(o.budget),
        o.per_member_limit,
        o.activation,
        publishing.status_of(stored),
        stored.redemptions_used,
        stored.reward_used_minor,
        stored.reject_reason,
        stored.created_at,
    )


def merchant_out(merchant: Merchant) -> MerchantOut:
    return MerchantOut(merchant.merchant_id, merchant.name, merchant.category, merchant.created_at)


def item_out(view: redemptions.ItemView) -> CatalogItemOut:
    i = view.item
    return CatalogItemOut(
        i.sku,
        i.title,
        i.category,
        i.description,
        i.points_price,
        i.cash_price_minor,
        view.stock_left,
        view.redeemed,
        None if i.per_member_limit is None else msgspec.to_builtins(i.per_member_limit),
        msgspec.to_builtins(i.eligibility),
        i.starts_at,
        i.ends_at,
        i.cancel_window_hours,
        i.fulfilment,
        i.active,
        view.created_at,
    )


def redemption_out(r: redemptions.Redemption) -> RedemptionOut:
    return RedemptionOut(
        r.id,
        r.sku,
        r.quantity,
        r.points_spent,
        r.cash_due_minor,
        r.codes,
        r.status,
        r.created_at,
        r.cancel_until,
        r.cancelled_at,
    )
