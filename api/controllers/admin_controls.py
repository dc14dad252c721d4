"""The risk office's controls: points held on a risk score, and changes waiting for a
second admin key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from api.auth import Admin, admin_guard
from api.deps import DbConn
from api.dto.controls import ApprovalOut, ApprovalPage, ApprovalPending, HoldOut, HoldPage
from api.paging import CursorParam, Limit, decode_cursor, next_cursor, time_cursor_key, time_key
from rewards.approvals import service as approvals
from rewards.holds import service as holds

#: How a change that waits for a second key is answered, in the OpenAPI document.
PENDING = {202: ResponseSpec(ApprovalPending, description="Waits for another admin key's approval")}


async def gated(
    conn: DbConn,
    caller: Admin,
    kind: approvals.Kind,
    change: Mapping[str, Any],
    summary: Mapping[str, Any],
    points: int | None = None,
) -> Response[ApprovalPending] | None:
    """The 202 of a change the program's approvals make wait, or None: apply it now."""
    pending = await approvals.gate(
        conn,
        caller.tenant_id,
        caller.actor,
        caller.key_id,
        kind,
        dict(change),
        dict(summary),
        points,
    )
    if pending is None:
        return None
    return Response(ApprovalPending(pending.approval_id, pending.status), status_code=202)


def hold_out(h: holds.Hold) -> HoldOut:
    return HoldOut(
        h.transaction_id,
        h.member_id,
        h.points,
        h.remaining,
        h.score,
        h.source,
        h.status,
        h.created_at,
        h.decided_at,
        h.decided_by,
    )


def approval_out(a: approvals.Approval) -> ApprovalOut:
    return ApprovalOut(
        a.approval_id,
        a.kind,
        a.status,
        a.summary,
        a.requested_by,
        a.created_at,
        a.decided_by,
        a.decided_at,
        a.result,
    )


HoldStatus = Annotated[
    Literal["held", "released", "voided", "refunded"] | None,
    QueryParameter(description="only holds in this state (default: held)"),
]
ApprovalStatus = Annotated[
    Literal["pending_approval", "approved", "rejected"] | None,
    QueryParameter(description="only approvals in this state (default: all)"),
]


class AdminControlsController(Controller):
    """Holds and approvals."""

    path = "/v1/admin"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin", "controls"]  # noqa: RUF012

    @get("/holds", summary="Purchases whose points are held on a risk score, oldest first")
    async def list_holds(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        status: HoldStatus = "held",
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> HoldPage:
        found = await holds.list_holds(
            conn, caller.tenant_id, status, time_key(decode_cursor(cursor, str)), limit
        )
        return HoldPage(
            [hold_out(h) for h in found],
            next_cursor([time_cursor_key(h.created_at, h.transaction_id) for h in found], limit),
        )

    @post(
        "/holds/{transaction_id:str}/release",
        status_code=200,
        summary="The held points become the member's, available now",
    )
    async def release(
        self, transaction_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> HoldOut:
        return hold_out(await holds.release(conn, caller.tenant_id, caller.actor, transaction_id))

    @post(
        "/holds/{transaction_id:str}/void",
        status_code=200,
        summary="The held points go back to the accounts that paid them",
    )
    async def void(
        self, transaction_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> HoldOut:
        return hold_out(await holds.void(conn, caller.tenant_id, caller.actor, transaction_id))

    @get("/approvals", summary="Changes waiting for (or decided by) a second admin key")
    async def list_approvals(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        status: ApprovalStatus = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ApprovalPage:
        found = await approvals.list_approvals(
            conn, caller.tenant_id, status, time_key(decode_cursor(cursor, str)), limit
        )
        return ApprovalPage(
            [approval_out(a) for a in found],
            next_cursor([time_cursor_key(a.created_at, a.approval_id) for a in found], limit),
        )

    @post(
        "/approvals/{approval_id:str}/approve",
        status_code=200,
        summary="Approve a change made with another admin key: it is applied now",
    )
    async def approve(
        self, approval_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> ApprovalOut:
        done = await approvals.approve(
            conn, caller.tenant_id, caller.actor, caller.key_id, approval_id
        )
        return approval_out(done)

    @post(
        "/approvals/{approval_id:str}/reject",
        status_code=200,
        summary="Reject a waiting change: nothing of it is applied",
    )
    async def reject(
        self, approval_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> ApprovalOut:
        done = await approvals.reject(
            conn, caller.tenant_id, caller.actor, caller.key_id, approval_id
        )
        return approval_out(done)
