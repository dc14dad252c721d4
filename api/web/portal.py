"""The merchant portal: /portal/… — stores (here), offers and their stats
(api/web/portal_offers.py), for one merchant.

Each page calls the same use cases as /v1/merchant/…, with the merchant of the session.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.auth import MerchantCaller
from api.deps import DbConn
from api.dto.merchant import StoreIn, StorePatch
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms, svg
from api.web.i18n import N_
from api.web.pages import PAGE_SIZE, PORTAL, page_link, redirect, render, translator
from api.web.portal_forms import (
    caller_of,
    errors_of,
    notice_of,
)
from api.web.sign_in import AreaController
from offers.core.offers import Store
from offers.publishing import service as publishing
from rewards.core.errors import Conflict, ValidationFailed


class PortalController(AreaController):
    """The merchant portal's pages."""

    path = "/portal"
    opt = {"area": PORTAL}  # noqa: RUF012

    @get("/")
    async def home(self) -> Response[str]:
        return redirect("/portal/offers")

    # --- stores ---------------------------------------------------------------------------

    @get("/stores")
    async def stores(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await publishing.list_stores(
            conn, caller.tenant_id, caller.merchant_id, decode_cursor(cursor, str), PAGE_SIZE
        )
        more = next_cursor([s.store_id for s in found], PAGE_SIZE)
        return render(
            request,
            "portal/stores.html",
            title=N_("Stores"),
            stores=found,
            next_page=page_link(request, more),
            notice=notice_of(done),
        )

    @get("/stores/new")
    async def new_store(self, request: Request[Any, Any, Any]) -> Response[str]:
        blank = {"id": "", "name": "", "address": "", "lat": "", "lng": ""}
        return render(
            request,
            "portal/store.html",
            title=N_("Add a store"),
            store=None,
            values=blank,
            errors={},
        )

    @post("/stores")
    async def add_store(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        values = {k: str(form.get(k) or "") for k in ("id", "name", "address", "lat", "lng")}
        try:
            r = forms.Reader(form, form.getall)
            body: dict[str, Any] = {
                "name": r.text("name"),
                "address": r.text("address"),
                "id": r.optional_text("id"),
                "lat": r.number("lat"),
                "lng": r.number("lng"),
            }
            r.done()
            data = forms.convert(body, StoreIn)
            store = Store(
                data.id or "", caller.merchant_id, data.name, data.address, data.lat, data.lng
            )
            async with conn.transaction():
                await publishing.create_store(conn, caller.tenant_id, caller.actor, store)
        except (forms.FormErrors, ValidationFailed, Conflict) as exc:
            return render(
                request,
                "portal/store.html",
                status=409 if isinstance(exc, Conflict) else 422,
                title=N_("Add a store"),
                store=None,
                values=values,
                errors=errors_of(exc),
            )
        return redirect("/portal/stores", done="store-added")

    @get("/stores/{store_id:str}")
    async def store(
        self,
        request: Request[Any, Any, Any],
        store_id: FromPath[str],
        conn: DbConn,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        store = await publishing.get_store(conn, caller.tenant_id, caller.merchant_id, store_id)
        values = {
            "id": store.store_id,
            "name": store.name,
            "address": store.address,
            "lat": repr(store.lat),
            "lng": repr(store.lng),
        }
        return await self._store_page(request, conn, caller, store, values, {}, 200, done)

    async def _store_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        caller: MerchantCaller,
        store: Store,
        values: dict[str, str],
        errors: dict[str, str],
        status: int,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        offers = await publishing.list_offers(conn, caller.tenant_id, caller.merchant_id, None, 500)
        here = [
            s.offer for s in offers if not s.offer.store_ids or store.store_id in s.offer.store_ids
        ]
        radius = max((o.geofence_radius_m for o in here), default=500)
        said = translator(request)
        return render(
            request,
            "portal/store.html",
            status=status,
            title=store.name,
            store=store,
            values=values,
            errors=errors,
            offers=here,
            radius=radius,
            map=svg.store_map(
                lambda cells, resolution: said(
                    N_(
                        "%(store)s: a geofence of %(radius)s m over %(cells)s H3 cells at "
                        "resolution %(resolution)s",
                        store=store.name,
                        radius=radius,
                        cells=cells,
                        resolution=resolution,
                    )
                ),
                store.lat,
                store.lng,
                radius,
            ),
            notice=notice_of(done),
        )

    @post("/stores/{store_id:str}")
    async def save_store(
        self, request: Request[Any, Any, Any], store_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        store = await publishing.get_store(conn, caller.tenant_id, caller.merchant_id, store_id)
        form = await request.form()
        values = {k: str(form.get(k) or "") for k in ("name", "address", "lat", "lng")}
        values["id"] = store.store_id
        try:
            r = forms.Reader(form, form.getall)
            body: dict[str, Any] = {
                "name": r.text("name"),
                "address": r.text("address"),
                "lat": r.number("lat"),
                "lng": r.number("lng"),
            }
            r.done()
            patch = forms.convert(body, StorePatch)
            async with conn.transaction():
                await publishing.patch_store(
                    conn,
                    caller.tenant_id,
                    caller.actor,
                    caller.merchant_id,
                    store_id,
                    msgspec.to_builtins(patch),
                )
        except (forms.FormErrors, ValidationFailed, Conflict) as exc:
            return await self._store_page(request, conn, caller, store, values, errors_of(exc), 422)
        return redirect(f"/portal/stores/{store_id}", done="store-saved")

    @post("/stores/{store_id:str}/delete")
    async def delete_store(
        self, request: Request[Any, Any, Any], store_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        await publishing.delete_store(
            conn, caller.tenant_id, caller.actor, caller.merchant_id, store_id
        )
        return redirect("/portal/stores", done="store-deleted")

    # --- offers ---------------------------------------------------------------------------
