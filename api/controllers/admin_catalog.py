"""The operator's benefit catalog (/v1/admin/catalog)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import Admin, admin_guard
from api.deps import DbConn
from api.dto.admin import (
    CatalogItemIn,
    CatalogItemPage,
    CatalogItemPatch,
    CodesAdded,
    CodesIn,
)
from api.dto.common import (
    CatalogItemOut,
)
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from api.presenters import (
    item_out,
)
from rewards.catalog import service as catalog
from rewards.core.catalog import CatalogItem


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
            await catalog.create_item(conn, caller.tenant_id, caller.actor, item, codes)
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
        views = await catalog.list_items(
            conn, caller.tenant_id, category, decode_cursor(cursor, str), limit
        )
        return CatalogItemPage(
            [item_out(v) for v in views], next_cursor([v.item.sku for v in views], limit)
        )

    @get("/items/{sku:str}", summary="One catalog item with its stock")
    async def get_item(
        self, sku: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> CatalogItemOut:
        return item_out(await catalog.get_item(conn, caller.tenant_id, sku))

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
            await catalog.patch_item(conn, caller.tenant_id, caller.actor, sku, changes)
        )

    @post("/items/{sku:str}/codes", status_code=201, summary="Add codes to a pool item")
    async def add_codes(
        self,
        sku: FromPath[str],
        data: JSONBody[CodesIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> CodesAdded:
        added, left = await catalog.add_codes(conn, caller.tenant_id, caller.actor, sku, data.codes)
        return CodesAdded(sku, added, left)
