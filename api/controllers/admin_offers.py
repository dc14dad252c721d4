"""The operator's review of merchant offers (/v1/admin/offers)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import Admin, admin_guard
from api.deps import DbConn
from api.dto.admin import (
    RejectIn,
)
from api.dto.common import (
    OfferOut,
    OfferPage,
)
from api.paging import CursorParam, Limit, decode_cursor, moment, moment_param, next_cursor
from api.presenters import (
    offer_out,
)
from offers.core.offers import Status
from offers.publishing import service as publishing


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

    @get(
        "/{offer_id:str}",
        summary="One offer, now or as it stood at a past moment (as_of)",
    )
    async def get_offer(
        self,
        offer_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
        as_of: Annotated[str | None, moment_param("as_of")] = None,
    ) -> OfferOut:
        at = moment("as_of", as_of)
        if at is None:
            return offer_out(await publishing.get_offer(conn, caller.tenant_id, offer_id))
        return offer_out(await publishing.offer_as_of(conn, caller.tenant_id, offer_id, at))

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
