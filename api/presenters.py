"""Domain values as the wire DTOs every caller shares (offers, stores, merchants, catalog)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from api.dto.admin import (
    ApiKeyCreated,
    ApiKeyOut,
    CampaignStatsOut,
    DrawCampaignOut,
    EarnRuleOut,
    EventOut,
    MemberOut,
)
from api.dto.common import (
    BalanceSummary,
    CatalogItemOut,
    MerchantOut,
    OfferOut,
    RedemptionOut,
    StoreOut,
)
from offers.core.offers import Merchant, Offer, Store, StoredOffer
from offers.publishing import service as publishing
from rewards.catalog import service as catalog
from rewards.core.records import ApiKey, Member, NewApiKey
from rewards.events import service as events
from rewards.program import service as programs


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
        msgspec.to_builtins(o.funding) if o.funding else None,
    )


def merchant_out(merchant: Merchant) -> MerchantOut:
    return MerchantOut(merchant.merchant_id, merchant.name, merchant.category, merchant.created_at)


def item_out(view: catalog.ItemView) -> CatalogItemOut:
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


def redemption_out(r: catalog.Redemption) -> RedemptionOut:
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


def member_out(member: Member, balance: BalanceSummary) -> MemberOut:
    return MemberOut(
        member.member_id,
        member.tier,
        member.segments,
        member.card_products,
        member.referral_code_used,
        member.referral_code,
        balance,
        member.created_at,
        member.status,  # type: ignore[arg-type]
    )


def event_out(e: events.StoredEvent) -> EventOut:
    return EventOut(
        e.event_id,
        e.sequence,
        e.type,  # type: ignore[arg-type]
        e.member_id,
        e.status,  # type: ignore[arg-type]
        e.attempts,
        e.last_error,
        e.occurred_at,
        e.next_attempt_at if e.status == "pending" else None,
        e.delivered_at,
        msgspec.Raw(msgspec.json.encode(e.data)),
    )


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        key.key_id,
        key.prefix,
        key.label,
        key.role,
        key.merchant_id,
        key.created_at,
        key.last_used_at,
    )


def key_created(made: NewApiKey) -> ApiKeyCreated:
    k = made.key
    return ApiKeyCreated(
        k.key_id,
        k.prefix,
        k.label,
        k.role,
        k.merchant_id,
        k.created_at,
        k.last_used_at,
        made.api_key,
    )


def rule_out(stored: programs.StoredRule) -> EarnRuleOut:
    r = msgspec.to_builtins(stored.rule)
    return EarnRuleOut(
        r["id"],
        r["name"],
        r["effect"],
        r.get("conditions", {}),
        stored.rule.stacking,
        r.get("caps", {}),
        stored.rule.active,
        stored.budget_used,
    )


def campaign_out(view: programs.CampaignView) -> DrawCampaignOut:
    c = view.campaign
    stats = view.stats
    return DrawCampaignOut(
        c.id,
        c.name,
        [{"multiplier": p.multiplier, "weight": p.weight} for p in c.prizes],
        msgspec.to_builtins(c.conditions),
        msgspec.to_builtins(c.budget),
        c.starts_at,
        c.ends_at,
        view.commitment,
        view.created_at,
        None if stats is None else CampaignStatsOut(**msgspec.to_builtins(stats)),
    )


def _nearby_bare(offer: Offer, merchant_id: str, created_at: datetime | None) -> OfferOut:
    """An active offer as nearby lists it (its counters are not part of the listing)."""
    at = created_at if created_at is not None else datetime.now(UTC)
    return offer_out(StoredOffer(offer, merchant_id, "active", 0, 0, None, at))


# The wire form of each offer nearby search returns, built once per offer definition: the
# search hands back the same Offer object until the offer changes.
_listings: dict[str, tuple[Offer, OfferOut]] = {}


def nearby_listing(offer: Offer, merchant_id: str, created_at: datetime | None) -> OfferOut:
    """An offer as nearby search lists it, built once per offer definition."""
    cached = _listings.get(offer.id)
    if cached is not None and cached[0] is offer:
        return cached[1]
    out = _nearby_bare(offer, merchant_id, created_at)
    _listings[offer.id] = (offer, out)
    return out
