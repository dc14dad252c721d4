"""Use cases of the mobile app: offers near the member, claims."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from db import awards as award_db
from db import offers as offer_db
from db.offers import Store
from db.types import Conn
from offers.geo import MAX_RADIUS_M, covering
from offers.model import Offer, OfferState
from offers.publishing import status_of
from rewards.conditions import Facts
from rewards.errors import Conflict, NotFound, ValidationFailed
from rewards.transactions import compiled_for


class Nearby(msgspec.Struct, frozen=True):
    offer: Offer
    merchant_id: str
    store: Store
    distance_m: int
    inside_geofence: bool
    claimed: bool


class ClaimRefused(Conflict):
    type = "claim_refused"
    title = "The offer cannot be claimed"


def _validate_point(lat: float, lng: float, radius_m: float) -> None:
    errors = []
    if not -90 <= lat <= 90:
        errors.append(("lat", "between -90 and 90"))
    if not -180 <= lng <= 180:
        errors.append(("lng", "between -180 and 180"))
    if not 0 < radius_m <= MAX_RADIUS_M:
        errors.append(("radius_m", f"above 0 and at most {MAX_RADIUS_M}"))
    if errors:
        raise ValidationFailed("; ".join(f"{f}: {m}" for f, m in errors), errors=errors)


async def stores_within(
    conn: Conn, tenant_id: str, lat: float, lng: float, radius_m: float
) -> list[tuple[float, Store]]:
    """Exactly the stores whose haversine distance is at most ``radius_m``, nearest first:
    the H3 cells covering the circle narrow the search, the distance decides."""
    resolution, cells = covering(lat, lng, radius_m)
    found = await offer_db.stores_within(conn, tenant_id, resolution, cells, lat, lng, radius_m)
    found.sort(key=lambda item: (item[0], item[1].store_id))
    return found


async def nearby(
    conn: Conn,
    tenant_id: str,
    member_id: str,
    lat: float,
    lng: float,
    radius_m: float,
    category: str | None,
    limit: int,
) -> list[Nearby]:
    """Active offers this member may use with a store within the radius, one item per
    (offer, store), nearest first.

    The database returns the nearest (offer, store) pairs of active offers in order; the
    member-specific checks (targeting, schedule days, their own limit, budget room) keep or
    drop each pair here. When too many are dropped to fill ``limit``, it asks for more.
    """
    _validate_point(lat, lng, radius_m)
    program = (await compiled_for(conn, tenant_id)).program
    now = datetime.now(UTC)
    members = await award_db.lock_members(conn, tenant_id, [member_id], lock=False)
    member = members.get(member_id)
    facts = Facts(
        amount_minor=2**62,  # min-spend is for the purchase, not the listing
        occurred_at=now,
        local=now.astimezone(program.zone),
        card_products=frozenset(member.card_products) if member else frozenset(),
        tier=member.tier if member else None,
        segments=frozenset(member.segments) if member else frozenset(),
    )
    resolution, cells = covering(lat, lng, radius_m)
    wanted = limit * 2
    while True:
        pairs = await offer_db.offers_at_stores_within(
            conn, tenant_id, resolution, cells, lat, lng, radius_m, category, wanted
        )
        standing = await offer_db.standing(
            conn, tenant_id, member_id, sorted({p.offer_id for p in pairs})
        )
        usable: dict[str, bool] = {}
        offers: dict[str, Offer] = {}
        items: list[Nearby] = []
        for pair in pairs:
            if pair.offer_id not in usable:
                offer = msgspec.convert(pair.definition, Offer)
                state = OfferState(
                    offer,
                    pair.store.merchant_id,
                    frozenset(offer.store_ids),
                    pair.redemptions_used,
                    pair.reward_used_minor,
                )
                used = standing[offer.id].uses if offer.id in standing else 0
                usable[pair.offer_id] = (
                    state.in_schedule(facts)
                    and state.matcher(facts)
                    and state.room()[0]
                    and (offer.per_member_limit is None or used < offer.per_member_limit)
                )
                offers[pair.offer_id] = offer
            if not usable[pair.offer_id]:
                continue
            offer = offers[pair.offer_id]
            items.append(
                Nearby(
                    offer,
                    pair.store.merchant_id,
                    pair.store,
                    round(pair.distance),
                    pair.distance <= offer.geofence_radius_m,
                    offer.id in standing and standing[offer.id].claimed,
                )
            )
            if len(items) == limit:
                return items
        if len(pairs) < wanted:
            return items
        wanted *= 4


async def claim(
    conn: Conn, tenant_id: str, member_id: str, offer_id: str
) -> tuple[Offer, datetime]:
    """Claim an offer (card-linked: it then applies by itself to the next matching purchase).
    Claiming twice answers the first claim; an offer that is not active, not for this
    member, or used up by them is refused."""
    found = await offer_db.get_offer(conn, tenant_id, offer_id)
    if found is None or found.status in ("pending_review", "rejected"):
        raise NotFound(f"no offer {offer_id}")
    program = (await compiled_for(conn, tenant_id)).program
    now = datetime.now(UTC)
    state = OfferState(
        found.offer,
        found.merchant_id,
        frozenset(found.offer.store_ids),
        found.redemptions_used,
        found.reward_used_minor,
    )
    await award_db.enroll(conn, tenant_id, [member_id])
    members = await award_db.lock_members(conn, tenant_id, [member_id])
    member = members[member_id]
    facts = Facts(
        amount_minor=2**62,
        occurred_at=now,
        local=now.astimezone(program.zone),
        card_products=frozenset(member.card_products),
        tier=member.tier,
        segments=frozenset(member.segments),
    )
    if found.status != "active" or not state.in_schedule(facts):
        raise ClaimRefused(f"offer {offer_id} is not active")
    if not state.matcher(facts):
        raise ClaimRefused(f"offer {offer_id} is not offered to this member")
    standing = (await offer_db.standing(conn, tenant_id, member_id, [offer_id])).get(offer_id)
    limit = found.offer.per_member_limit
    if limit is not None and standing is not None and standing.uses >= limit:
        raise ClaimRefused(f"offer {offer_id} is used up for this member")
    claimed_at, _ = await offer_db.claim(conn, tenant_id, member_id, offer_id)
    return found.offer, claimed_at


async def claimed(
    conn: Conn, tenant_id: str, member_id: str, limit: int
) -> list[tuple[Offer, str, datetime, int]]:
    """The member's claimed offers: (offer, status, claimed at, uses)."""
    result = []
    for offer_id, at, uses in await offer_db.claims_of_member(conn, tenant_id, member_id, limit):
        found = await offer_db.get_offer(conn, tenant_id, offer_id)
        if found is not None:
            result.append((found.offer, status_of(found), at, uses))
    return result
