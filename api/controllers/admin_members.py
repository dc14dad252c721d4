"""The operator's members: attributes, adjustments, their hook transactions."""

from __future__ import annotations

from typing import Annotated, cast

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from api.auth import Admin, admin_guard
from api.controllers.admin_controls import PENDING, gated
from api.deps import DbConn
from api.dto.admin import (
    AdjustmentIn,
    AdjustmentOut,
    ErasedOut,
    MemberExport,
    MemberOut,
    MemberPage,
    MemberPut,
    TransactionOut,
)
from api.dto.common import (
    BalanceSummary,
)
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from api.presenters import (
    member_out,
)
from rewards.core.credentials import ID_PATTERN
from rewards.hook import service as hook
from rewards.ledger import service as ledger
from rewards.members import service as members
from rewards.privacy import service as privacy


class AdminMembersController(Controller):
    """Members, goodwill adjustments and recorded hook transactions."""

    path = "/v1/admin"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @put("/members/{member_id:str}", summary="Create or update a member's attributes")
    async def put_member(
        self,
        member_id: Annotated[str, PathParameter(pattern=ID_PATTERN)],
        data: JSONBody[MemberPut],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> MemberOut:
        member = await members.update(
            conn,
            caller.tenant_id,
            caller.actor,
            member_id,
            data.tier,
            data.segments,
            data.card_products,
            data.referral_code_used,
            data.status,
        )
        if member.status == "closed":
            await ledger.forfeit(conn, caller.tenant_id, caller.actor, member_id)
        found = await ledger.balance(conn, caller.tenant_id, member_id)
        return member_out(member, BalanceSummary(found.available, found.pending))

    @get("/members", summary="Members, by id; filter by tier and segment")
    async def list_members(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        tier: Annotated[str | None, QueryParameter(max_length=64)] = None,
        segment: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> MemberPage:
        found = await members.list_members(
            conn, caller.tenant_id, tier, segment, decode_cursor(cursor, str), limit
        )
        return MemberPage(
            [member_out(m.member, BalanceSummary(m.balance - m.pending, m.pending)) for m in found],
            next_cursor([m.member.member_id for m in found], limit),
        )

    @get("/members/{member_id:str}", summary="A member with its balance")
    async def get_member(
        self,
        member_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> MemberOut:
        member = await members.get(conn, caller.tenant_id, member_id)
        found = await ledger.balance(conn, caller.tenant_id, member_id)
        return member_out(member, BalanceSummary(found.available, found.pending))

    @get(
        "/members/{member_id:str}/export",
        summary="Everything held about one member, as one document (a member's data request)",
        description="`tables` has a section for every table that holds a member column: the "
        "profile and its attributes over time, ledger entries, lots, hook transactions with "
        "their answers, draws, rule caps used, daily points, spend, offer claims and "
        "redemptions, catalog redemptions, referrals (as referee and referrer), risk events, "
        "device hashes, expiry notices, outbound events and audit entries.",
    )
    async def export_member(
        self, member_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> MemberExport:
        found = await privacy.export(conn, caller.tenant_id, member_id)
        return MemberExport(found["member_id"], found["tables"])

    @post(
        "/members/{member_id:str}/erase",
        status_code=200,
        summary="Erase a member's personal data: the id becomes a keyed pseudonym everywhere",
        description="Devices, attributes and their history are dropped; ledger entries, lots "
        "and transactions stay under the pseudonym, so the ledger's totals reconcile. Audited. "
        "A later hook for the old id enrols a new member.",
    )
    async def erase_member(
        self, member_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> ErasedOut:
        pseudonym = await privacy.erase(conn, caller.tenant_id, caller.actor, member_id)
        return ErasedOut(True, pseudonym)

    @get("/transactions/{transaction_id:str}", summary="A hook transaction and its result")
    async def get_transaction(
        self,
        transaction_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> TransactionOut:
        r = await hook.get_record(conn, caller.tenant_id, transaction_id)
        return TransactionOut(
            r.transaction_id,
            r.kind,
            r.member_id,
            r.original_id,
            r.amount_minor,
            r.currency,
            r.occurred_at,
            r.body,
            r.answer,
            r.created_at,
        )

    # --- ledger ----------------------------------------------------------------------------

    @post(
        "/members/{member_id:str}/adjustments",
        status_code=201,
        summary="A goodwill credit or debit of points (audited)",
        description="Over the program's `approvals.adjustment_points_over`, the adjustment "
        "waits for another admin key (202).",
        responses=PENDING,
    )
    async def adjust(
        self,
        member_id: FromPath[str],
        data: JSONBody[AdjustmentIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> AdjustmentOut:
        change = {"member_id": member_id, "points": data.points, "reason": data.reason}
        waits = await gated(conn, caller, "adjustment", change, change, data.points)
        if waits is not None:
            return cast(AdjustmentOut, waits)  # the 202 (PENDING), sent as it is
        done = await ledger.adjust(
            conn, caller.tenant_id, caller.actor, member_id, data.points, data.reason
        )
        return AdjustmentOut(
            done.member_id,
            done.points,
            done.reason,
            BalanceSummary(done.balance.available, done.balance.pending),
        )
