"""Use case: member-gets-member referrals — codes, attaching one, what a referrer earned,
and what a hook batch needs to pay and claw back referral bonuses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from db.types import Conn
from rewards.core.errors import NotFound
from rewards.core.referrals import (
    ReferralAlreadySet,
    ReferralBook,
    ReferralCodeUnknown,
    ReferralCycle,
    ReferralSelf,
    ReferralsOff,
    ReferralTooLate,
    mask,
    new_code,
    normalize_code,
)
from rewards.program.service import compiled_for
from rewards.referrals import repository as referral_db
from rewards.referrals.repository import Referee, Referral

__all__ = [
    "Attached",
    "Referee",
    "Referral",
    "ReferralView",
    "attach",
    "code_for",
    "figures",
    "lock_attachments",
    "view",
]

#: Take the tenant's referral attachment lock until the transaction ends: a use case that
#: attaches a code takes it before it writes anything else of the member (a row it locked
#: first could be the one a concurrent attachment waits for while holding this lock).
lock_attachments = referral_db.lock_attachments

#: Write what a hook batch settled (rewarded, refused, clawed back).
settle = referral_db.settle

#: Referrers a hook batch may pay or claw back from (read before members are locked).
referrers_of_batch = referral_db.referrers_of_batch

#: The referral a member was referred by, if any.
referral_of = referral_db.referral_of


class ReferralView(msgspec.Struct, frozen=True):
    """GET /v1/me/referral: the member's code and what it brought."""

    code: str
    referred: int
    rewarded: int
    points_earned: int
    referees: list[tuple[str, Referee]]  # (masked id, referee)


class Attached(msgspec.Struct, frozen=True):
    code: str
    status: str
    attached_at: datetime


async def code_for(conn: Conn, tenant_id: str, member_id: str) -> str:
    """The member's referral code, made on first request (the member must be enrolled)."""
    for _ in range(20):  # a taken code (one in 10^8 at a million members) is drawn again
        code = await referral_db.code_of(conn, tenant_id, member_id)
        if code is not None:
            return code
        await referral_db.set_code(conn, tenant_id, member_id, new_code())
    raise NotFound(f"no member {member_id}")


async def view(
    conn: Conn, tenant_id: str, member_id: str, limit: int, after: tuple[datetime, str] | None
) -> ReferralView:
    code = await code_for(conn, tenant_id, member_id)
    counts = await referral_db.summary(conn, tenant_id, member_id)
    found = await referral_db.referees(conn, tenant_id, member_id, limit, after)
    return ReferralView(
        code,
        counts.referred,
        counts.rewarded,
        counts.points_earned,
        [(mask(r.referee_id), r) for r in found],
    )


async def attach(
    conn: Conn,
    tenant_id: str,
    member_id: str,
    code_text: str,
    by: Literal["member", "admin"],
) -> Attached:
    """Attach a referral code to an enrolled member before their first qualifying purchase.
    The same code again answers the first attachment; any other is refused, each with its
    own problem type."""
    program = (await compiled_for(conn, tenant_id)).program.program
    referral = program.referral
    if referral is None:
        raise ReferralsOff("the program gives no referral rewards; set `referral` first")
    code = normalize_code(code_text)
    await referral_db.lock_attachments(conn, tenant_id)
    existing = await referral_db.referral_of(conn, tenant_id, member_id)
    if existing is not None:
        if existing.code == code:
            return Attached(code, existing.status, existing.attached_at)
        raise ReferralAlreadySet(f"member {member_id} was referred with another code already")
    referrer = await referral_db.member_by_code(conn, tenant_id, code)
    if referrer is None:
        raise ReferralCodeUnknown(f"{code} is not a referral code of this program")
    if referrer == member_id:
        raise ReferralSelf("a member cannot use their own referral code")
    if await referral_db.chain_reaches(conn, tenant_id, referrer, member_id):
        raise ReferralCycle(
            f"the owner of {code} was referred by member {member_id}, directly or up a chain"
        )
    await referral_db.lock_members(conn, tenant_id, [member_id, referrer])
    if await referral_db.made_qualifying_purchase(
        conn, tenant_id, member_id, referral.min_first_purchase_minor, program.excluded_mccs
    ):
        raise ReferralTooLate(
            f"member {member_id} made a qualifying purchase already; a referral code can only "
            "be used before the first one"
        )
    at = await referral_db.attach(conn, tenant_id, member_id, referrer, by, code)
    return Attached(code, "pending", at)


async def book(
    conn: Conn, tenant_id: str, member_ids: list[str], locked: set[str]
) -> ReferralBook | None:
    """The pending referrals of a hook batch's members (read with the members locked) and
    how many referees each of their referrers has had rewarded; None when a referrer is not
    among the ``locked`` members (a code was attached since they were chosen: plan again)."""
    pending = await referral_db.pending(conn, tenant_id, member_ids)
    referrers = sorted({p.referrer_id for p in pending.values()})
    if not set(referrers) <= locked:
        return None
    rewarded = await referral_db.rewarded_counts(conn, tenant_id, referrers) if referrers else {}
    return ReferralBook(pending, rewarded)


#: The program's referrals by state, with the points each state paid.
figures = referral_db.figures
