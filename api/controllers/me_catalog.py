"""The mobile app's benefit catalog and redemptions (/v1/me/catalog, /v1/me/redemptions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import MemberCaller, member_guard
from api.deps import DbConn
from api.dto.common import RedemptionOut
from api.dto.me import (
    MemberCatalog,
    MemberCatalogItem,
    RedemptionIn,
    RedemptionPage,
)
from api.idempotent import IdempotencyKey, respond_once, respond_once_committed
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from api.presenters import redemption_out
from api.problems import Problem
from rewards import metrics
from rewards.catalog import service as catalog
from rewards.core.errors import RewardsError, ValidationFailed


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
        read_conn: DbConn,
        category: FromQuery[str | None] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> MemberCatalog:
        found = await catalog.member_catalog(
            read_conn,
            caller.tenant_id,
            caller.member_id,
            category,
            decode_cursor(cursor, str),
            limit,
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

        async def action(locked: bool) -> RedemptionOut | RewardsError:
            nonlocal decided
            decided = True
            made = await catalog.redeem(
                plain_conn,
                caller.tenant_id,
                caller.member_id,
                caller.device,
                data.sku,
                data.quantity,
                locked=locked,
            )
            return made if isinstance(made, RewardsError) else redemption_out(made)

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
        found = await catalog.list_redemptions(
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
            done = await catalog.cancel(conn, caller.tenant_id, caller.member_id, redemption_id)
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
