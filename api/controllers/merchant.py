"""Merchant portal API: /v1/merchant/…"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import MerchantCaller, merchant_guard
from api.deps import DbConn
from api.dto.common import MerchantOut, OfferOut, OfferPage, StoreOut
from api.dto.merchant import (
    OfferDayOut,
    OfferIn,
    OfferPatch,
    OfferStatsOut,
    StoreIn,
    StorePage,
    StorePatch,
)
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from api.presenters import merchant_out, offer_out, store_out
from offers.core.offers import Offer, Store
from offers.merchants import service as merchants
from offers.publishing import service as publishing


class MerchantController(Controller):
    """The portal of one merchant (merchant API key)."""

    path = "/v1/merchant"
    guards = [merchant_guard]  # noqa: RUF012
    security = [{"MerchantKey": []}]  # noqa: RUF012
    tags = ["merchant"]  # noqa: RUF012

    @get("/profile", summary="The merchant this key belongs to")
    async def profile(self, caller: NamedDependency[MerchantCaller], conn: DbConn) -> MerchantOut:
        return merchant_out(
            await merchants.get_merchant(conn, caller.tenant_id, caller.merchant_id)
        )


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
        read_conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> StorePage:
        found = await publishing.list_stores(
            read_conn, caller.tenant_id, caller.merchant_id, decode_cursor(cursor, str), limit
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
        read_conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> OfferPage:
        found = await publishing.list_offers(
            read_conn, caller.tenant_id, caller.merchant_id, decode_cursor(cursor, str), limit
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
        read_conn: DbConn,
        from_: Annotated[date | None, QueryParameter(name="from")] = None,
        to: FromQuery[date | None] = None,
    ) -> OfferStatsOut:
        days = await publishing.stats(
            read_conn, caller.tenant_id, caller.merchant_id, offer_id, from_, to
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
