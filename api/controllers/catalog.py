"""Catalog endpoints: the operator's items and code pools (/v1/admin/catalog/…) and the
member's catalog and redemptions (/v1/me/catalog, /v1/me/redemptions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import Admin, MemberCaller, admin_guard, member_guard
from api.deps import DbConn
from api.dto import (
    CatalogItemIn,
    CatalogItemOut,
    CatalogItemPage,
    CatalogItemPatch,
    CodesAdded,
    CodesIn,
    MemberCatalog,
    MemberCatalogItem,
    RedemptionIn,
    RedemptionOut,
    RedemptionPage,
)
from api.idempotent import IdempotencyKey, respond_once, respond_once_committed
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from api.problems import Problem
from rewards import metrics
from rewards.catalog import service as redemptions
from rewards.core.catalog import CatalogItem
from rewards.core.errors import ValidationFailed


def item_out(view: redemptions.ItemView) -> CatalogItemOut:
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


def redemption_out(r: redemptions.Redemption) -> RedemptionOut:
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


class CatalogAdminController(Controller):
    """The operator's benefit catalog."""

    path = "/v1/admin/catalog"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @post("/items", status_code=201, summary="Create a catalog item (pool items with codes)")
    async def create_item(
        self, data: JSONBody[CatalogItemIn], caller: NamedDependency[Admin], conn: DbConn
    ) -> CatalogItemOut:
        document = msgspec.to_builtins(data)
        codes = document.pop("codes", [])
        item = msgspec.convert(document, CatalogItem)
        return item_out(
            await redemptions.create_item(conn, caller.tenant_id, caller.actor, item, codes)
        )

    @get("/items", summary="List catalog items")
    async def list_items(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        category: FromQuery[str | None] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> CatalogItemPage:
        views = await redemptions.list_items(
            conn, caller.tenant_id, category, decode_cursor(cursor, str), limit
        )
        return CatalogItemPage(
            [item_out(v) for v in views], next_cursor([v.item.sku for v in views], limit)
        )

    @get("/items/{sku:str}", summary="One catalog item with its stock")
    async def get_item(
        self, sku: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> CatalogItemOut:
        return item_out(await redemptions.get_item(conn, caller.tenant_id, sku))

    @patch("/items/{sku:str}", summary="Change a catalog item")
    async def patch_item(
        self,
        sku: FromPath[str],
        data: JSONBody[CatalogItemPatch],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> CatalogItemOut:
        changes = msgspec.to_builtins(data)
        return item_out(
            await redemptions.patch_item(conn, caller.tenant_id, caller.actor, sku, changes)
        )

    @post("/items/{sku:str}/codes", status_code=201, summary="Add codes to a pool item")
    async def add_codes(
        self,
        sku: FromPath[str],
        data: JSONBody[CodesIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> CodesAdded:
        added, left = await redemptions.add_codes(
            conn, caller.tenant_id, caller.actor, sku, data.codes
        )
        return CodesAdded(sku, added, left)


class CatalogMemberController(Controller):
    """The member's benefits: catalog, redemptions, cancels."""

    path = "/v1/me"
    guards = [member_guard]  # noqa: RUF012
    security = [{"MemberToken": []}]  # noqa: RUF012
    tags = ["mobile"]  # noqa: RUF012

    @get("/catalog", summary="Benefits with price, stock and whether this member may redeem")
    async def catalog(
        self,
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        category: FromQuery[str | None] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> MemberCatalog:
        found = await redemptions.member_catalog(
            conn, caller.tenant_id, caller.member_id, category, decode_cursor(cursor, str), limit
        )
        items = []
        for entry in found:
            v = entry.view
            state: Literal["in_stock", "out_of_stock", "unlimited"] = (
                "unlimited"
                if v.stock_left is None
                else ("in_stock" if v.stock_left > 0 else "out_of_stock")
            )
            items.append(
                MemberCatalogItem(
                    v.item.sku,
                    v.item.title,
                    v.item.category,
                    v.item.description,
                    v.item.points_price,
                    v.item.cash_price_minor,
                    state,
                    v.stock_left,
                    entry.redeemable,
                    entry.reason,
                )
            )
        return MemberCatalog(items, next_cursor([e.view.item.sku for e in found], limit))

    @post(
        "/redemptions",
        status_code=201,
        summary="Redeem a benefit (honours Idempotency-Key)",
        responses=None,
    )
    async def redeem(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RedemptionIn],
        caller: NamedDependency[MemberCaller],
        plain_conn: DbConn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RedemptionOut]:
        decided = False  # False when the answer is a stored one, replayed for the key

        async def action(locked: bool) -> RedemptionOut:
            nonlocal decided
            decided = True
            made = await redemptions.redeem(
                plain_conn,
                caller.tenant_id,
                caller.member_id,
                caller.device_id,
                data.sku,
                data.quantity,
                locked=locked,
            )
            return redemption_out(made)

        response = await respond_once_committed(
            request,
            plain_conn,
            caller.tenant_id,
            caller.member_id,
            idempotency_key,
            201,
            RedemptionOut,
            action,
        )
        if decided:
            content = response.content
            metrics.record_redemption(content.type if isinstance(content, Problem) else "created")
        return response

    @get("/redemptions", summary="The member's redemptions, newest first")
    async def list_redemptions(
        self,
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> RedemptionPage:
        after = None
        if cursor is not None:
            key = decode_cursor(cursor, str)
            assert key is not None
            stamp, _, rid = key.partition("|")
            try:
                after = (datetime.fromisoformat(stamp), rid)
            except ValueError:
                raise ValidationFailed(
                    "cursor is not valid", errors=[("cursor", "not a cursor from this list")]
                ) from None
        found = await redemptions.list_redemptions(
            conn, caller.tenant_id, caller.member_id, after, limit
        )
        keys = [f"{r.created_at.isoformat()}|{r.id}" for r in found]
        return RedemptionPage([redemption_out(r) for r in found], next_cursor(keys, limit))

    @post(
        "/redemptions/{redemption_id:str}/cancel",
        status_code=200,
        summary="Cancel within the item's cancel window: points and stock back, codes void",
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        redemption_id: FromPath[str],
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RedemptionOut]:
        async def action() -> RedemptionOut:
            done = await redemptions.cancel(conn, caller.tenant_id, caller.member_id, redemption_id)
            return redemption_out(done)

        return await respond_once(
            request,
            conn,
            caller.tenant_id,
            caller.member_id,
            idempotency_key,
            200,
            RedemptionOut,
            action,
        )
