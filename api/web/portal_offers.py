"""The merchant portal's offers: the list, the form, pause and resume, and the stats."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.auth import MerchantCaller
from api.deps import DbConn
from api.dto.merchant import OfferIn, OfferPatch
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms, svg
from api.web.i18n import N_
from api.web.pages import PAGE_SIZE, PORTAL, page_link, redirect, render, translator
from api.web.portal_forms import (
    REWARD_KINDS,
    blank_offer,
    caller_of,
    errors_of,
    notice_of,
    offer_values,
    read_offer,
    submitted_offer,
)
from api.web.reports import STATUS_WORDS, Daily, date_range, program_of
from api.web.sign_in import AreaPages
from offers.core.offers import Offer, StoredOffer
from offers.publishing import service as publishing
from rewards.core.errors import Conflict, ValidationFailed


class PortalOffersController(AreaPages):
    """The portal's offer pages."""

    path = "/portal"
    opt = {"area": PORTAL}  # noqa: RUF012

    @get("/offers")
    async def offers(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await publishing.list_offers(
            conn, caller.tenant_id, caller.merchant_id, decode_cursor(cursor, str), PAGE_SIZE
        )
        program = await program_of(conn, caller.tenant_id)
        more = next_cursor([o.offer.id for o in found], PAGE_SIZE)
        return render(
            request,
            "portal/offers.html",
            title=N_("Offers"),
            offers=[(o, publishing.status_of(o)) for o in found],
            words=STATUS_WORDS,
            exponent=program.exponent,
            currency=program.program.currency,
            major=forms.major,
            next_page=page_link(request, more),
            notice=notice_of(done),
        )

    async def _offer_form(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        caller: MerchantCaller,
        values: dict[str, Any],
        errors: dict[str, str],
        *,
        stored: StoredOffer | None,
        status: int = 200,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        stores = await publishing.list_stores(conn, caller.tenant_id, caller.merchant_id, None, 500)
        program = await program_of(conn, caller.tenant_id)
        return render(
            request,
            "portal/offer.html",
            status=status,
            title=stored.offer.title if stored else N_("Create an offer"),
            stored=stored,
            state=publishing.status_of(stored) if stored else None,
            words=STATUS_WORDS,
            values=values,
            errors=errors,
            stores=stores,
            kinds=REWARD_KINDS,
            currency=program.program.currency,
            zone=program.program.time_zone,
            notice=notice_of(done),
        )

    @get("/offers/new")
    async def new_offer(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        return await self._offer_form(
            request, conn, caller_of(request), blank_offer(), {}, stored=None
        )

    @post("/offers")
    async def create_offer(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        program = await program_of(conn, caller.tenant_id)
        try:
            data = forms.convert(read_offer(form, program, with_id=True), OfferIn)
            offer = msgspec.convert(msgspec.to_builtins(data), Offer)
            async with conn.transaction():
                stored = await publishing.create_offer(
                    conn, caller.tenant_id, caller.actor, caller.merchant_id, offer
                )
        except (forms.FormErrors, ValidationFailed, Conflict) as exc:
            return await self._offer_form(
                request,
                conn,
                caller,
                submitted_offer(form),
                errors_of(exc),
                stored=None,
                status=409 if isinstance(exc, Conflict) else 422,
            )
        return redirect(f"/portal/offers/{stored.offer.id}", done="offer-created")

    @get("/offers/{offer_id:str}")
    async def offer(
        self,
        request: Request[Any, Any, Any],
        offer_id: FromPath[str],
        conn: DbConn,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        stored = await publishing.get_offer(conn, caller.tenant_id, offer_id, caller.merchant_id)
        program = await program_of(conn, caller.tenant_id)
        return await self._offer_form(
            request, conn, caller, offer_values(stored, program), {}, stored=stored, done=done
        )

    @post("/offers/{offer_id:str}")
    async def save_offer(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        stored = await publishing.get_offer(conn, caller.tenant_id, offer_id, caller.merchant_id)
        form = await request.form()
        program = await program_of(conn, caller.tenant_id)
        try:
            patch = forms.convert(read_offer(form, program, with_id=False), OfferPatch)
            async with conn.transaction():
                await publishing.patch_offer(
                    conn,
                    caller.tenant_id,
                    caller.actor,
                    caller.merchant_id,
                    offer_id,
                    msgspec.to_builtins(patch),
                )
        except (forms.FormErrors, ValidationFailed, Conflict) as exc:
            values = submitted_offer(form) | {"id": offer_id}
            return await self._offer_form(
                request, conn, caller, values, errors_of(exc), stored=stored, status=422
            )
        return redirect(f"/portal/offers/{offer_id}", done="offer-saved")

    @post("/offers/{offer_id:str}/pause")
    async def pause(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        return await self._transition(request, conn, offer_id, "pause", "offer-paused")

    @post("/offers/{offer_id:str}/resume")
    async def resume(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        return await self._transition(request, conn, offer_id, "resume", "offer-resumed")

    async def _transition(
        self, request: Request[Any, Any, Any], conn: DbConn, offer_id: str, action: str, done: str
    ) -> Response[str]:
        caller = caller_of(request)
        await publishing.transition(
            conn, caller.tenant_id, caller.actor, offer_id, action, merchant_id=caller.merchant_id
        )
        return redirect(f"/portal/offers/{offer_id}", done=done)

    @get("/offers/{offer_id:str}/stats")
    async def stats(
        self,
        request: Request[Any, Any, Any],
        offer_id: FromPath[str],
        conn: DbConn,
    ) -> Response[str]:
        caller = caller_of(request)
        stored = await publishing.get_offer(conn, caller.tenant_id, offer_id, caller.merchant_id)
        program = await program_of(conn, caller.tenant_id)
        first, last, errors = date_range(request, program)
        days = []
        if not errors:
            try:
                days = await publishing.stats(
                    conn, caller.tenant_id, caller.merchant_id, offer_id, first, last
                )
            except ValidationFailed as exc:
                errors = errors_of(exc)
        daily = Daily(first, last, None if errors else days)
        rows, labels, column = daily.rows, daily.labels, daily.column

        exp = program.exponent
        said = translator(request)
        return render(
            request,
            "portal/stats.html",
            status=422 if errors else 200,
            title=N_("Stats: %(title)s", title=stored.offer.title),
            stored=stored,
            first=first.isoformat(),
            last=last.isoformat(),
            errors=errors,
            table=list(zip(labels, rows, strict=True)),
            totals={
                n: sum(column(n))
                for n in ("claims", "redemptions", "reward_minor", "points", "spend_minor")
            },
            major=forms.major,
            exponent=exp,
            currency=program.program.currency,
            uses_chart=svg.bar_chart(
                said(N_("Claims and redemptions per day")),
                labels,
                [
                    (said(N_("claims")), column("claims")),
                    (said(N_("redemptions")), column("redemptions")),
                ],
            ),
            money_chart=svg.bar_chart(
                said(
                    N_(
                        "Reward paid and matched spend per day (%(currency)s)",
                        currency=program.program.currency,
                    )
                ),
                labels,
                [
                    (said(N_("reward paid")), column("reward_minor")),
                    (said(N_("matched spend")), column("spend_minor")),
                ],
                exponent=exp,
            ),
        )
