"""The operator's merchants and API keys (/v1/admin/merchants, /v1/admin/keys)."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import Admin, admin_guard
from api.deps import DbConn
from api.dto.admin import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPage,
    MerchantCreate,
    MerchantCreated,
    MerchantPage,
)
from api.dto.common import (
    MerchantOut,
)
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from api.presenters import (
    key_created,
    key_out,
    merchant_out,
)
from offers.merchants import service as merchants
from rewards.tenants import keys


class AdminMerchantsController(Controller):
    """Merchants and the API keys of operators and merchants."""

    path = "/v1/admin"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @post("/merchants", status_code=201, summary="Create a merchant; its API key is shown once")
    async def create_merchant(
        self,
        data: JSONBody[MerchantCreate],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> MerchantCreated:
        created = await merchants.create_merchant(
            conn, caller.tenant_id, caller.actor, data.id, data.name, data.category
        )
        m = created.merchant
        return MerchantCreated(m.merchant_id, m.name, m.category, m.created_at, created.api_key)

    @get("/merchants", summary="List merchants")
    async def list_merchants(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> MerchantPage:
        after = decode_cursor(cursor, str)
        found = await merchants.list_merchants(conn, caller.tenant_id, after, limit)
        return MerchantPage(
            [merchant_out(m) for m in found], next_cursor([m.merchant_id for m in found], limit)
        )

    @get("/merchants/{merchant_id:str}", summary="One merchant")
    async def get_merchant(
        self,
        merchant_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> MerchantOut:
        return merchant_out(await merchants.get_merchant(conn, caller.tenant_id, merchant_id))

    # --- API keys -------------------------------------------------------------------------

    @post("/keys", status_code=201, summary="Issue an admin API key (shown once)")
    async def create_admin_key(
        self, data: JSONBody[ApiKeyCreate], caller: NamedDependency[Admin], conn: DbConn
    ) -> ApiKeyCreated:
        made = await keys.issue_key(conn, caller.tenant_id, "admin", None, data.label, caller.actor)
        return key_created(made)

    @get("/keys", summary="Live admin API keys: id, prefix, created, last used")
    async def list_admin_keys(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ApiKeyPage:
        found = await keys.list_keys(
            conn, caller.tenant_id, None, decode_cursor(cursor, str), limit
        )
        return ApiKeyPage(
            [key_out(k) for k in found], next_cursor([k.key_id for k in found], limit)
        )

    @delete(
        "/keys/{key_id:str}",
        status_code=204,
        summary="Revoke an admin API key (409 for the tenant's last one)",
    )
    async def revoke_admin_key(
        self, key_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn, state: State
    ) -> None:
        key_hash = await keys.revoke_key(conn, caller.tenant_id, caller.actor, key_id, None)
        state.credentials.forget_key(key_hash)

    @post(
        "/merchants/{merchant_id:str}/keys",
        status_code=201,
        summary="Issue an API key for a merchant (shown once)",
    )
    async def create_merchant_key(
        self,
        merchant_id: FromPath[str],
        data: JSONBody[ApiKeyCreate],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> ApiKeyCreated:
        await merchants.get_merchant(conn, caller.tenant_id, merchant_id)
        made = await keys.issue_key(
            conn, caller.tenant_id, "merchant", merchant_id, data.label, caller.actor
        )
        return key_created(made)

    @get("/merchants/{merchant_id:str}/keys", summary="A merchant's live API keys")
    async def list_merchant_keys(
        self,
        merchant_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ApiKeyPage:
        await merchants.get_merchant(conn, caller.tenant_id, merchant_id)
        found = await keys.list_keys(
            conn, caller.tenant_id, merchant_id, decode_cursor(cursor, str), limit
        )
        return ApiKeyPage(
            [key_out(k) for k in found], next_cursor([k.key_id for k in found], limit)
        )

    @delete(
        "/merchants/{merchant_id:str}/keys/{key_id:str}",
        status_code=204,
        summary="Revoke one of a merchant's API keys",
    )
    async def revoke_merchant_key(
        self,
        merchant_id: FromPath[str],
        key_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
        state: State,
    ) -> None:
        await merchants.get_merchant(conn, caller.tenant_id, merchant_id)
        key_hash = await keys.revoke_key(conn, caller.tenant_id, caller.actor, key_id, merchant_id)
        state.credentials.forget_key(key_hash)
