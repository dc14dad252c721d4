"""The console's catalog, API keys and outbound events: items with their stock (set it,
upload codes to a pool item), keys issued (the key shown once) and revoked, events with
their delivery state and sent again.

Each page calls the same use cases as /v1/admin/catalog, /v1/admin/keys and
/v1/admin/events.
"""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.deps import DbConn
from api.dto.admin import ApiKeyCreate, CodesIn
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms
from api.web.console_forms import caller_of, notice_of
from api.web.i18n import N_
from api.web.pages import CONSOLE, PAGE_SIZE, page_link, problem, redirect, render
from api.web.sign_in import AreaPages
from rewards.catalog import service as catalog
from rewards.core.errors import RewardsError, ValidationFailed
from rewards.core.records import NewApiKey
from rewards.events import service as events
from rewards.tenants import keys

EventStatus = Literal["pending", "delivered", "failed"]
EVENT_STATES: tuple[EventStatus, ...] = ("pending", "delivered", "failed")


class ConsoleAdminController(AreaPages):
    """The catalog, API keys and outbound events in the console."""

    path = "/console"
    opt = {"area": CONSOLE}  # noqa: RUF012

    # --- catalog --------------------------------------------------------------------------

    @get("/catalog")
    async def items(
        self, request: Request[Any, Any, Any], conn: DbConn, cursor: CursorParam = None
    ) -> Response[str]:
        caller = caller_of(request)
        found = await catalog.list_items(
            conn, caller.tenant_id, None, decode_cursor(cursor, str), PAGE_SIZE
        )
        return render(
            request,
            "console/catalog.html",
            title=N_("Catalog"),
            items=found,
            next_page=page_link(request, next_cursor([v.item.sku for v in found], PAGE_SIZE)),
        )

    @get("/catalog/{sku:str}")
    async def item(
        self,
        request: Request[Any, Any, Any],
        sku: FromPath[str],
        conn: DbConn,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        return await self._item(request, conn, sku, {}, {}, 200, notice_of(done))

    async def _item(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        sku: str,
        values: dict[str, str],
        errors: forms.Errors,
        status: int,
        notice: str | None = None,
    ) -> Response[str]:
        caller = caller_of(request)
        view = await catalog.get_item(conn, caller.tenant_id, sku)
        return render(
            request,
            "console/item.html",
            status=status,
            title=view.item.title,
            view=view,
            values=values,
            errors=errors,
            notice=notice,
        )

    @post("/catalog/{sku:str}/stock")
    async def set_stock(
        self, request: Request[Any, Any, Any], sku: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        r = forms.Reader(form, form.getall)
        try:
            stock = r.integer("stock")
            r.done()
            if stock is None or stock < 0:
                raise forms.FormErrors({"stock": N_("Enter the stock left, 0 or more.")})
            async with conn.transaction():
                await catalog.patch_item(
                    conn, caller.tenant_id, caller.actor, sku, {"stock": stock}
                )
        except (forms.FormErrors, ValidationFailed) as exc:
            return await self._item(
                request, conn, sku, forms.typed(form), forms.errors_of(exc, ("stock",)), 422
            )
        return redirect(f"/console/catalog/{sku}", done="stock-set")

    @post("/catalog/{sku:str}/codes")
    async def add_codes(
        self, request: Request[Any, Any, Any], sku: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        r = forms.Reader(form, form.getall)
        codes = [c.strip() for c in r.text("codes").splitlines() if c.strip()]
        try:
            data = forms.convert({"codes": codes}, CodesIn)
            async with conn.transaction():
                await catalog.add_codes(conn, caller.tenant_id, caller.actor, sku, data.codes)
        except ValidationFailed as exc:
            return await self._item(
                request, conn, sku, forms.typed(form), forms.errors_of(exc, ("codes",)), 422
            )
        except RewardsError as exc:
            errors = {"codes": problem(exc)}
            return await self._item(request, conn, sku, forms.typed(form), errors, exc.status)
        return redirect(f"/console/catalog/{sku}", done="codes-added")

    # --- API keys -------------------------------------------------------------------------

    @get("/keys")
    async def keys_page(
        self, request: Request[Any, Any, Any], conn: DbConn, done: FromQuery[str | None] = None
    ) -> Response[str]:
        return await self._keys(request, conn, None, {}, {}, 200, notice_of(done))

    async def _keys(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        issued: NewApiKey | None,
        values: dict[str, str],
        errors: forms.Errors,
        status: int,
        notice: str | None = None,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await keys.list_keys(conn, caller.tenant_id, None, None, 500)
        return render(
            request,
            "console/keys.html",
            status=status,
            title=N_("API keys"),
            keys=found,
            issued=issued,
            values=values,
            errors=errors,
            notice=notice,
        )

    @post("/keys")
    async def issue(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        r = forms.Reader(form, form.getall)
        try:
            data = forms.convert({"label": r.text("label")}, ApiKeyCreate)
            async with conn.transaction():
                made = await keys.issue_key(
                    conn, caller.tenant_id, "admin", None, data.label, caller.actor
                )
        except ValidationFailed as exc:
            return await self._keys(
                request, conn, None, forms.typed(form), forms.errors_of(exc, ("label",)), 422
            )
        # The key is in this page and nowhere else: it is not kept, and the page not cached.
        return await self._keys(request, conn, made, {}, {}, 201)

    @post("/keys/{key_id:str}/revoke")
    async def revoke(
        self, request: Request[Any, Any, Any], key_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        try:
            async with conn.transaction():
                key_hash = await keys.revoke_key(conn, caller.tenant_id, caller.actor, key_id, None)
        except RewardsError as exc:
            return await self._keys(request, conn, None, {}, {"form": problem(exc)}, exc.status)
        request.app.state.credentials.forget_key(key_hash)
        return redirect("/console/keys", done="key-revoked")

    # --- outbound events ------------------------------------------------------------------

    @get("/events")
    async def events_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        status: FromQuery[str | None] = None,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        chosen = next((s for s in EVENT_STATES if s == status), None)
        found = await events.events(
            conn, caller.tenant_id, chosen, None, decode_cursor(cursor, int), PAGE_SIZE
        )
        return render(
            request,
            "console/events.html",
            title=N_("Outbound events"),
            events=found,
            chosen=chosen or "",
            states=EVENT_STATES,
            next_page=page_link(request, next_cursor([e.sequence for e in found], PAGE_SIZE)),
            notice=notice_of(done),
        )

    @post("/events/{event_id:str}/redeliver")
    async def redeliver(
        self, request: Request[Any, Any, Any], event_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        async with conn.transaction():
            await events.redeliver(conn, caller.tenant_id, event_id)
        return redirect("/console/events", done="event-redelivered")
