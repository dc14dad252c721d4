"""Mobile API: /v1/me/… (the member is the token's sub)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency

from api.auth import MemberCaller, member_guard
from api.deps import DbConn
from api.dto import ActivityPage, BalanceOut, BalanceSummary, MeOut, MovementOut
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from rewards.ledger import service as ledger
from rewards.members import service as members


class MeController(Controller):
    """A member in the mobile app (member JWT)."""

    path = "/v1/me"
    guards = [member_guard]  # noqa: RUF012
    security = [{"MemberToken": []}]  # noqa: RUF012
    tags = ["mobile"]  # noqa: RUF012

    @get("", summary="Profile, tier and balance; enrolls the member on first call")
    async def me(self, caller: NamedDependency[MemberCaller], conn: DbConn) -> MeOut:
        member = await members.enroll(conn, caller.tenant_id, caller.member_id)
        balance = await ledger.balance(conn, caller.tenant_id, caller.member_id)
        return MeOut(
            member.member_id,
            member.tier,
            member.segments,
            member.card_products,
            BalanceSummary(balance.available, balance.pending),
            member.created_at,
        )

    @get("/balance", summary="Available and pending points, what expires when")
    async def balance(self, caller: NamedDependency[MemberCaller], conn: DbConn) -> BalanceOut:
        found = await ledger.balance(conn, caller.tenant_id, caller.member_id)
        return msgspec.convert(msgspec.to_builtins(found), BalanceOut)

    @get("/activity", summary="The member's points movements, newest first")
    async def activity(
        self,
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ActivityPage:
        moves = await ledger.activity(
            conn, caller.tenant_id, caller.member_id, decode_cursor(cursor, int), limit
        )
        return ActivityPage(
            [
                MovementOut(str(m.id), m.kind, m.points, m.transaction_id, m.cause, m.created_at)
                for m in moves
            ],
            next_cursor([m.id for m in moves], limit),
        )
