"""The mobile app's member: profile, balance, activity and referrals (/v1/me)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import MemberCaller, member_guard
from api.deps import DbConn
from api.dto.common import BalanceSummary
from api.dto.jobs import MemberExplanationOut
from api.dto.me import (
    ActivityPage,
    BalanceOut,
    MeOut,
    RefereeOut,
    ReferralAppliedOut,
    ReferralApply,
    ReferralOut,
    TransferOut,
)
from api.idempotent import IdempotencyKey, respond_once
from api.paging import CursorParam, Limit, decode_cursor, next_cursor, time_key
from rewards.ledger import service as ledger
from rewards.members import service as members
from rewards.referrals import service as referrals
from rewards.replays import explanations


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

    @get(
        "/activity/{transaction_id:str}/explanation",
        summary="Why one of the member's purchases earned what it did, in plain words",
        description="Each line names a part of what the purchase earned (base points, a "
        "promotion by its name, a draw, an offer the member claimed or got, the daily limit) "
        "with its points and a sentence; `outcome` is a stable code for the app's own words. "
        "No budget figures, other members or internal ids.",
    )
    async def explanation(
        self, transaction_id: FromPath[str], caller: NamedDependency[MemberCaller], conn: DbConn
    ) -> MemberExplanationOut:
        found = await explanations.member_explanation(
            conn, caller.tenant_id, caller.member_id, transaction_id
        )
        return msgspec.convert(msgspec.to_builtins(found), MemberExplanationOut)

    @get("/activity", summary="The member's points movements, newest first")
    async def activity(
        self,
        caller: NamedDependency[MemberCaller],
        read_conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ActivityPage:
        moves = await ledger.activity(
            read_conn, caller.tenant_id, caller.member_id, decode_cursor(cursor, int), limit
        )
        return ActivityPage(
            [
                TransferOut(str(m.id), m.kind, m.points, m.transaction_id, m.cause, m.created_at)
                for m in moves
            ],
            next_cursor([m.id for m in moves], limit),
        )


class ReferralController(Controller):
    """Member-gets-member: the member's code, and using someone else's."""

    path = "/v1/me/referral"
    guards = [member_guard]  # noqa: RUF012
    security = [{"MemberToken": []}]  # noqa: RUF012
    tags = ["mobile"]  # noqa: RUF012

    @get(
        "",
        summary="The member's referral code (made on first request) and what it brought",
        description="`referred` counts every member who used the code, `rewarded` those "
        "whose first qualifying purchase paid the bonuses, `points_earned` what the member "
        "earned as referrer (clawed-back bonuses not counted). `referees` pages with "
        "`limit` and `cursor`, newest first; their ids are masked.",
    )
    async def referral(
        self,
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ReferralOut:
        await members.enroll(conn, caller.tenant_id, caller.member_id)
        found = await referrals.view(
            conn, caller.tenant_id, caller.member_id, limit, time_key(decode_cursor(cursor, str))
        )
        return ReferralOut(
            found.code,
            found.referred,
            found.rewarded,
            found.points_earned,
            [
                RefereeOut(masked, r.status, r.attached_at, r.settled_at)  # type: ignore[arg-type]
                for masked, r in found.referees
            ],
            next_cursor(
                [f"{r.attached_at.isoformat()}|{r.referee_id}" for _, r in found.referees], limit
            ),
        )

    @post(
        "/apply",
        status_code=200,
        summary="Use a referral code (before the first qualifying purchase)",
        description="Refused with 422 and its own type: `referral_code_unknown` (no such code "
        "in this program), `referral_self`, `referral_already_set` (another code was used; the "
        "same code again answers the first use), `referral_too_late` (a qualifying purchase "
        "was made already), `referral_cycle` (the code's owner was referred by this member, "
        "directly or up a chain), `referrals_off` (the program gives no referral rewards).",
    )
    async def apply(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ReferralApply],
        caller: NamedDependency[MemberCaller],
        conn: DbConn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReferralAppliedOut]:
        async def action() -> ReferralAppliedOut:
            await referrals.lock_attachments(conn, caller.tenant_id)
            await members.enroll(conn, caller.tenant_id, caller.member_id)
            done = await referrals.attach(
                conn, caller.tenant_id, caller.member_id, data.code, "member"
            )
            return ReferralAppliedOut(done.code, done.status, done.attached_at)  # type: ignore[arg-type]

        return await respond_once(
            request,
            conn,
            caller.tenant_id,
            caller.member_id,
            idempotency_key,
            200,
            ReferralAppliedOut,
            action,
        )
