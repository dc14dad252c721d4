"""Offer endpoints: the merchant portal (/v1/merchant/stores, /v1/merchant/offers), the
operator's review (/v1/admin/offers) and the mobile app (/v1/me/offers/…)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import Admin, MemberCaller, MerchantCaller, admin_guard, member_guard, merchant_guard
from api.deps import DbConn
from api.dto import (
    ClaimedPage,
    ClaimOut,
    NearbyItem,
    NearbyPage,
    OfferDayOut,
    OfferIn,
    OfferOut,
    OfferPage,
    OfferPatch,
    OfferStatsOut,
    RejectIn,
    StoreIn,
    StoreOut,
    StorePage,
    StorePatch,
)
from api.idempotent import IdempotencyKey, respond_once
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from offers.core.offers import Offer, Status, Store, StoredOffer
from offers.nearby import service as nearby_offers
from offers.publishing import service as publishing
from rewards.core.errors import ValidationFailed


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


def _bare(offer: Offer, merchant_id: str, created_at: datetime | None) -> OfferOut:
    """An active offer as nearby lists it (its counters are not part of the listing)."""
    at = created_at if created_at is not None else datetime.now(UTC)
    return offer_out(StoredOffer(offer, merchant_id, "active", 0, 0, None, at))


# The wire form of each offer nearby search returns, built once per offer definition: the
# search hands back the same Offer object until the offer changes.
_listings: dict[str, tuple[Offer, OfferOut]] = {}


def _listed(offer: Offer, merchant_id: str, created_at: datetime | None) -> OfferOut:
    cached = _listings.get(offer.id)
    if cached is not None and cached[0] is offer:
        return cached[1]
    out = _bare(offer, merchant_id, created_at)
    _listings[offer.id] = (offer, out)
    return out


class MerchantOffersController(Controller):
    """The merchant portal: stores and offers of one merchant."""

    path = "/v1/merchant"
    guards = [merchant_guard]  # noqa: RUF012
    security = [{"MerchantKey": []}]  # noqa: RUF012
    tags = ["merchant"]  # noqa: RUF012

    @post("/stores", status_code=201, summary="Create a store")
    async def create_store(
        self, data: JSONBody[StoreIn], caller: NamedDependency[MerchantCaller], conn: DbConn
    ) -> StoreOut:
        store = Store(
            data.id or "", caller.merchant_id, data.name, data.address, data.lat, data.lng
        )
        return store_out(await publishing.create_store(conn, caller.tenant_id, caller.actor, store))

    @get("/stores", summary="The merchant's stores")
    async def list_stores(
        self,
        caller: NamedDependency[MerchantCaller],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> StorePage:
        found = await publishing.list_stores(
            conn, caller.tenant_id, caller.merchant_id, decode_cursor(cursor, str), limit
        )
        return StorePage(
            [store_out(s) for s in found], next_cursor([s.store_id for s in found], limit)
        )

    @get("/stores/{store_id:str}", summary="One store")
    async def get_store(
        self, store_id: FromPath[str], caller: NamedDependency[MerchantCaller], conn: DbConn
    ) -> StoreOut:
        return store_out(
            await publishing.get_store(conn, caller.tenant_id, caller.merchant_id, store_id)
        )

    @patch("/stores/{store_id:str}", summary="Change a store")
    async def patch_store(
        self,
        store_id: FromPath[str],
        data: JSONBody[StorePatch],
        caller: NamedDependency[MerchantCaller],
        conn: DbConn,
    ) -> StoreOut:
        store = await publishing.patch_store(
            conn,
            caller.tenant_id,
            caller.actor,
            caller.merchant_id,
            store_id,
            msgspec.to_builtins(data),
        )
        return store_out(store)

    @delete("/stores/{store_id:str}", status_code=204, summary="Delete a store")
    async def delete_store(
        self, store_id: FromPath[str], caller: NamedDependency[MerchantCaller], conn: DbConn
    ) -> None:
        await publishing.delete_store(
            conn, caller.tenant_id, caller.actor, caller.merchant_id, store_id
        )

    @post("/offers", status_code=201, summary="Publish an offer (pending review)")
    async def create_offer(
        self, data: JSONBody[OfferIn], caller: NamedDependency[MerchantCaller], conn: DbConn
    ) -> OfferOut:
        offer = msgspec.convert(msgspec.to_builtins(data), Offer)
        return offer_out(
            await publishing.create_offer(
                conn, caller.tenant_id, caller.actor, caller.merchant_id, offer
            )
        )

    @get("/offers", summary="The merchant's offers")
    async def list_offers(
        self,
        caller: NamedDependency[MerchantCaller],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> OfferPage:
        found = await publishing.list_offers(
            conn, caller.tenant_id, caller.merchant_id, decode_cursor(cursor, str), limit
        )
        return OfferPage(
            [offer_out(o) for o in found], next_cursor([o.offer.id for o in found], limit)
        )

    @get("/offers/{offer_id:str}", summary="One offer with its budget use")
    async def get_offer(
        self, offer_id: FromPath[str], caller: NamedDependency[MerchantCaller], conn: DbConn
    ) -> OfferOut:
        return offer_out(
            await publishing.get_offer(conn, caller.tenant_id, offer_id, caller.merchant_id)
        )

    @patch("/offers/{offer_id:str}", summary="Change an offer (it goes back to review)")
    async def patch_offer(
        self,
        offer_id: FromPath[str],
        data: JSONBody[OfferPatch],
        caller: NamedDependency[MerchantCaller],
        conn: DbConn,
    ) -> OfferOut:
        stored = await publishing.patch_offer(
            conn,
            caller.tenant_id,
            caller.actor,
            caller.merchant_id,
            offer_id,
            msgspec.to_builtins(data),
        )
        return offer_out(stored)

    @post("/offers/{offer_id:str}/pause", status_code=200, summary="Pause an offer")
    async def pause(
        self, offer_id: FromPath[str], caller: NamedDependency[MerchantCaller], conn: DbConn
    ) -> OfferOut:
        return offer_out(
            await publishing.transition(
                conn,
                caller.tenant_id,
                caller.actor,
                offer_id,
                "pause",
                merchant_id=caller.merchant_id,
            )
        )

    @post("/offers/{offer_id:str}/resume", status_code=200, summary="Resume a paused offer")
    async def resume(
        self, offer_id: FromPath[str], caller: NamedDependency[MerchantCaller], conn: DbConn
    ) -> OfferOut:
        return offer_out(
            await publishing.transition(
                conn,
                caller.tenant_id,
                caller.actor,
                offer_id,
                "resume",
                merchant_id=caller.merchant_id,
            )
        )

    @get("/offers/{offer_id:str}/stats", summary="Claims, redemptions, reward and spend per day")
    async def stats(
        self,
        offer_id: FromPath[str],
        caller: NamedDependency[MerchantCaller],
        conn: DbConn,
        from_: Annotated[date | None, QueryParameter(name="from")] = None,
        to: FromQuery[date | None] = None,
    ) -> OfferStatsOut:
        days = await publishing.stats(
            conn, caller.tenant_id, caller.merchant_id, offer_id, from_, to
        )
        return OfferStatsOut(
            offer_id,
            [
                OfferDayOut(
                    d.day.isoformat(),
                    d.claims,
                    d.redemptions,
                    d.reward_minor,
                    d.points,
                    d.spend_minor,
                )
                for d in days
            ],
        )


class AdminOffersController(Controller):
    """The operator's review of offers."""

    path = "/v1/admin/offers"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @get("", summary="Offers, by status (e.g. pending_review)")
    async def list_offers(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        status: FromQuery[Status | None] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> OfferPage:
        found = await publishing.list_for_review(
            conn, caller.tenant_id, status, decode_cursor(cursor, str), limit
        )
        return OfferPage(
            [offer_out(o) for o in found], next_cursor([o.offer.id for o in found], limit)
        )

    @post("/{offer_id:str}/approve", status_code=200, summary="Approve an offer: it goes live")
    async def approve(
        self, offer_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> OfferOut:
        return offer_out(
            await publishing.transition(conn, caller.tenant_id, caller.actor, offer_id, "approve")
        )

    @post("/{offer_id:str}/reject", status_code=200, summary="Reject an offer, with a reason")
    async def reject(
        self,
        offer_id: FromPath[str],
        data: JSONBody[RejectIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> OfferOut:
        return offer_out(
            await publishing.transition(
                conn, caller.tenant_id, caller.actor, offer_id, "reject", reason=data.reason
            )
        )


class MemberOffersController(Controller):
    """The mobile app: offers near the member, claims."""

    path = "/v1/me/offers"
    guards = [member_guard]  # noqa: RUF012
    security = [{"MemberToken": []}]  # noqa: RUF012
    tags = ["mobile"]  # noqa: RUF012

    @get("/nearby", summary="Active offers with a store within radius_m, nearest first")
    async def nearby(
        self,
        caller: NamedDependency[MemberCaller],
        plain_conn: DbConn,
        state: State,
        lat: FromQuery[float],
        lng: FromQuery[float],
        radius_m: FromQuery[float] = 1000,
        category: FromQuery[str | None] = None,
        limit: Limit = 50,
    ) -> NearbyPage:
        found = await nearby_offers.nearby(
            plain_conn,
            state.offer_indexes,
            caller.tenant_id,
            caller.member_id,
            lat,
            lng,
            radius_m,
            category,
            limit,
        )
        return NearbyPage(
            [
                NearbyItem(
                    _listed(n.offer, n.merchant_id, n.offer_created_at),
                    store_out(n.store),
                    n.distance_m,
                    n.inside_geofence,
                    n.claimed,
                )
                for n in found
            ]
        )

    @post("/{offer_id:str}/claim", status_code=200, summary="Claim an offer (idempotent)")
    async def claim(
        self,
        request: Request[Any, Any, Any],
        offer_id: FromPath[str],
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ClaimOut]:
        async def action() -> ClaimOut:
            _, at = await nearby_offers.claim(conn, caller.tenant_id, caller.member_id, offer_id)
            stored = await publishing.get_offer(conn, caller.tenant_id, offer_id)
            return ClaimOut(offer_out(stored), at)

        return await respond_once(
            request,
            conn,
            caller.tenant_id,
            caller.member_id,
            idempotency_key,
            200,
            ClaimOut,
            action,
        )

    @get("/claimed", summary="The member's claimed offers, newest claim first")
    async def claimed(
        self,
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ClaimedPage:
        after = _claim_key(decode_cursor(cursor, str))
        found = await nearby_offers.claimed(conn, caller.tenant_id, caller.member_id, after, limit)
        return ClaimedPage(
            [ClaimOut(offer_out(c.offer), c.claimed_at, c.uses) for c in found],
            next_cursor([f"{c.claimed_at.isoformat()}|{c.offer.offer.id}" for c in found], limit),
        )


def _claim_key(cursor: str | None) -> tuple[datetime, str] | None:
    """The (claimed at, offer id) a claims cursor stands for."""
    if cursor is None:
        return None
    at, _, offer_id = cursor.partition("|")
    try:
        return datetime.fromisoformat(at), offer_id
    except ValueError:
        raise ValidationFailed(
            "cursor is not valid", errors=[("cursor", "not a cursor from this list")]
        ) from None
