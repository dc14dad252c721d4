"""The mobile app's merchant offers: nearby, claims (/v1/me/offers)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from api.auth import MemberCaller, member_guard
from api.deps import DbConn
from api.dto.me import (
    ClaimedPage,
    ClaimOut,
    FenceOut,
    FencesOut,
    NearbyItem,
    NearbyPage,
)
from api.idempotent import IdempotencyKey, respond_once
from api.paging import CursorParam, Limit, decode_cursor, next_cursor, time_key
from api.presenters import nearby_listing, offer_out, store_out
from offers.core.geo import MAX_RADIUS_M
from offers.nearby import service as nearby_offers
from offers.publishing import service as publishing
from rewards.core.errors import RewardsError


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
        read_conn: DbConn,
        state: State,
        lat: Annotated[float, QueryParameter(ge=-90, le=90)],
        lng: Annotated[float, QueryParameter(ge=-180, le=180)],
        radius_m: Annotated[float, QueryParameter(gt=0, le=MAX_RADIUS_M)] = 1000,
        category: FromQuery[str | None] = None,
        limit: Limit = 50,
    ) -> NearbyPage:
        found = await nearby_offers.nearby(
            read_conn,
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
                    nearby_listing(n.offer, n.merchant_id, n.offer_created_at),
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
        async def action() -> ClaimOut | RewardsError:
            claimed = await nearby_offers.claim(
                conn, caller.tenant_id, caller.member_id, offer_id, caller.device
            )
            if isinstance(claimed, RewardsError):
                return claimed
            stored = await publishing.get_offer(conn, caller.tenant_id, offer_id)
            return ClaimOut(offer_out(stored), claimed[1])

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
        after = time_key(decode_cursor(cursor, str))
        found = await nearby_offers.claimed(conn, caller.tenant_id, caller.member_id, after, limit)
        return ClaimedPage(
            [ClaimOut(offer_out(c.offer), c.claimed_at, c.uses) for c in found],
            next_cursor([f"{c.claimed_at.isoformat()}|{c.offer.offer.id}" for c in found], limit),
        )


class MemberGeofencesController(Controller):
    """The mobile app: the regions to watch for offers the member may use."""

    path = "/v1/me/geofences"
    guards = [member_guard]  # noqa: RUF012
    security = [{"MemberToken": []}]  # noqa: RUF012
    tags = ["mobile"]  # noqa: RUF012

    @get(
        "",
        summary="The nearest geofences of offers this member may use now, nearest first",
        description="At most `max` (1 to 100; iOS watches 20 regions) within 5 km, exact as "
        "nearby is; `refresh_radius_m` is how far the member may move before asking again.",
    )
    async def geofences(
        self,
        caller: NamedDependency[MemberCaller],
        read_conn: DbConn,
        state: State,
        lat: Annotated[float, QueryParameter(ge=-90, le=90)],
        lng: Annotated[float, QueryParameter(ge=-180, le=180)],
        max_: Annotated[int, QueryParameter(name="max", ge=1, le=nearby_offers.MAX_FENCES)] = 20,
    ) -> FencesOut:
        found = await nearby_offers.geofences(
            read_conn, state.offer_indexes, caller.tenant_id, caller.member_id, lat, lng, max_
        )
        return FencesOut(
            [
                FenceOut(f.fence_id, f.offer_id, f.store_id, f.lat, f.lng, f.radius_m)
                for f in found.items
            ],
            found.refresh_radius_m,
        )
