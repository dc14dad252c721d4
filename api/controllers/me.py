"""Mobile API: /v1/me/… (the member is the token's sub)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from api.auth import MemberCaller, member_guard
from api.deps import DbConn
from api.dto import BalanceSummary, MeOut
from rewards import members


class MeController(Controller):
    """A member in the mobile app (member JWT)."""

    path = "/v1/me"
    guards = [member_guard]  # noqa: RUF012
    security = [{"MemberToken": []}]  # noqa: RUF012
    tags = ["mobile"]  # noqa: RUF012

    @get("", summary="Profile, tier and balance; enrolls the member on first call")
    async def me(self, caller: NamedDependency[MemberCaller], conn: DbConn) -> MeOut:
        member = await members.enroll(conn, caller.tenant_id, caller.member_id)
        return MeOut(
            member.member_id,
            member.tier,
            member.segments,
            member.card_products,
            BalanceSummary(0, 0),
            member.created_at,
        )
