"""Use cases of the mobile app: offers near the member, claims."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from db.types import Conn
from offers.core.geo import MAX_RADIUS_M
from offers.core.index import OfferIndex
from offers.core.offers import Offer, OfferState, Store
from offers.nearby import repository as nearby_db
from offers.nearby.repository import MemberStanding
from offers.publishing import service as publishing
from rewards.abuse import service as abuse
from rewards.core.abuse import DeviceSighting
from rewards.core.conditions import Facts
from rewards.core.errors import Conflict, NotFound, RewardsError, ValidationFailed
from rewards.core.lots import ensure_earns
from rewards.core.program import DEFAULT_TIME_ZONE
from rewards.ledger import service as ledger
from rewards.program.service import compiled_for


class Nearby(msgspec.Struct, frozen=True):
    offer: Offer
    merchant_id: str
    offer_created_at: datetime | None
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


class Indexes:
    """This process's indexes of each tenant's active offers, checked against the tenant's
    offer version on every search and patched merchant by merchant when it moved."""

    def __init__(self) -> None:
        self._indexes: dict[str, OfferIndex] = {}
        self._refreshing: dict[str, asyncio.Lock] = {}

    async def at_least(self, conn: Conn, tenant_id: str, standing: MemberStanding) -> OfferIndex:
        """The tenant's index, at least as new as the version the search read."""
        index = self._indexes.get(tenant_id)
        if index is not None and index.version >= standing.offers_version:
            return index
        async with self._refreshing.setdefault(tenant_id, asyncio.Lock()):
            index = self._indexes.get(tenant_id)
            if index is not None and index.version >= standing.offers_version:
                return index
            # One snapshot: the version and the rows it describes (the caller's, when it
            # reads inside a repeatable-read transaction already: a replica read).
            snapshot = (
                contextlib.nullcontext()
                if conn.is_in_transaction()
                else conn.transaction(isolation="repeatable_read", readonly=True)
            )
            async with snapshot:
                version = await nearby_db.offer_version(conn, tenant_id)
                if index is None or index.version + 1 < standing.pruned_below:
                    offers = await nearby_db.all_active_offers(conn, tenant_id)
                    merchants = sorted({o.merchant_id for o in offers.values()})
                    index = OfferIndex(version)
                else:
                    merchants = await nearby_db.changed_merchants(
                        conn, tenant_id, index.version, version
                    )
                    offers = await publishing.active_offers_of_merchants(conn, tenant_id, merchants)
                stores = await nearby_db.stores_of_merchants(conn, tenant_id, merchants)
            index.replace(merchants, offers.values(), stores, version)
            self._indexes[tenant_id] = index
            return index


async def _usable(
    conn: Conn, indexes: Indexes, tenant_id: str, member_id: str
) -> tuple[MemberStanding, OfferIndex, Callable[[OfferState], bool]]:
    """The member's standing, the tenant's index at least as new as it, and whether an
    offer is one this member may use now (in its schedule, for them, not used up)."""
    standing = await nearby_db.nearby_member(conn, tenant_id, member_id)
    zone = ZoneInfo(standing.time_zone or DEFAULT_TIME_ZONE)
    index = await indexes.at_least(conn, tenant_id, standing)
    now = datetime.now(UTC)
    facts = Facts(
        amount_minor=2**62,  # min-spend is for the purchase, not the listing
        occurred_at=now,
        local=now.astimezone(zone),
        card_products=frozenset(standing.card_products),
        tier=standing.tier,
        segments=frozenset(standing.segments),
    )

    def usable(state: OfferState) -> bool:
        limit = state.offer.per_member_limit
        return (
            state.in_schedule(facts)
            and state.matcher(facts)
            and (limit is None or standing.uses.get(state.offer.id, 0) < limit)
        )

    return standing, index, usable


async def nearby(
    conn: Conn,
    indexes: Indexes,
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

    One statement reads the member's standing and the tenant's offer version; the search
    itself runs over this process's index of active offers (refreshed first when the
    version moved). ``conn`` must not be inside a transaction.
    """
    _validate_point(lat, lng, radius_m)
    standing, index, usable = await _usable(conn, indexes, tenant_id, member_id)
    return [
        Nearby(
            hit.offer.offer,
            hit.store.merchant_id,
            hit.offer.created_at,
            hit.store,
            round(hit.distance),
            hit.distance <= hit.offer.offer.geofence_radius_m,
            hit.offer.offer.id in standing.claimed,
        )
        for hit in index.search(lat, lng, radius_m, category, usable, limit)
    ]


async def claim(
    conn: Conn, tenant_id: str, member_id: str, offer_id: str, device: DeviceSighting | None
) -> tuple[Offer, datetime] | RewardsError:
    """Claim an offer (card-linked: it then applies by itself to the next matching purchase).
    Claiming twice answers the first claim; an offer that is not active, not for this
    member, or used up by them is refused (raised). A claim the abuse limits refuse (from a
    device over its member limit, or over the claims per hour) is returned, its risk event
    written: the caller commits it and answers with the refusal."""
    found = await publishing.get_offer(conn, tenant_id, offer_id)
    if found.status in ("pending_review", "rejected"):
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
    await ledger.enroll(conn, tenant_id, [member_id])
    members = await ledger.lock_members(conn, tenant_id, [member_id])
    member = members[member_id]
    ensure_earns(member)
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
    standing = (await nearby_db.standing(conn, tenant_id, member_id, [offer_id])).get(offer_id)
    limit = found.offer.per_member_limit
    if limit is not None and standing is not None and standing.uses >= limit:
        raise ClaimRefused(f"offer {offer_id} is used up for this member")
    if standing is None or not standing.claimed:  # a repeat claim changes nothing
        refused = await abuse.claim_refusal(
            conn, tenant_id, member_id, device, program.program.abuse, offer_id, now
        )
        if refused is not None:
            return refused
    claimed_at, _ = await nearby_db.claim(conn, tenant_id, member_id, offer_id)
    return found.offer, claimed_at


class Fence(msgspec.Struct, frozen=True):
    """A region for the app to watch: an offer's geofence around one of its stores."""

    fence_id: str  # offer id / store id
    offer_id: str
    store_id: str
    lat: float
    lng: float
    radius_m: int


class Fences(msgspec.Struct, frozen=True):
    items: list[Fence]
    #: How far the member may move before asking again: no usable fence left out of the
    #: list is nearer than this (the search's reach when none is left out).
    refresh_radius_m: int


#: The most fences one answer lists (iOS watches 20 regions; Android 100).
MAX_FENCES = 100


async def geofences(
    conn: Conn, indexes: Indexes, tenant_id: str, member_id: str, lat: float, lng: float, count: int
) -> Fences:
    """The nearest ``count`` geofences (within the search's reach) of active offers this
    member may use now, nearest first — the same exact search as nearby — and how far the
    member may move before the list could change."""
    _validate_point(lat, lng, MAX_RADIUS_M)
    if not 1 <= count <= MAX_FENCES:
        raise ValidationFailed(
            f"max must be between 1 and {MAX_FENCES}", errors=[("max", f"1 to {MAX_FENCES}")]
        )
    _, index, usable = await _usable(conn, indexes, tenant_id, member_id)
    hits = index.search(lat, lng, MAX_RADIUS_M, None, usable, count + 1)
    fences = [
        Fence(
            f"{h.offer.offer.id}/{h.store.store_id}",
            h.offer.offer.id,
            h.store.store_id,
            h.store.lat,
            h.store.lng,
            h.offer.offer.geofence_radius_m,
        )
        for h in hits[:count]
    ]
    refresh = math.floor(hits[count].distance) if len(hits) > count else MAX_RADIUS_M
    return Fences(fences, refresh)


#: The member's claimed offers, newest claim first, in one statement.
claimed = nearby_db.claims_of_member


#: Forget offer changes made before a time (every process has long caught up; one still
#: behind them reloads its whole index).
prune_changes = nearby_db.prune_offer_changes

#: How long offer changes are kept: every process refreshes far more often than this.
OFFER_CHANGES_KEEP = timedelta(days=1)


async def upkeep(conn: Conn, now: datetime) -> None:
    """The offers' part of the periodic job: forget changes every process has seen."""
    await prune_changes(conn, now - OFFER_CHANGES_KEEP)
