"""Referral codes and referrals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.referrals import PendingReferral, ReferralWrite

sql = queries_beside(__file__)


class Referral(msgspec.Struct, frozen=True):
    """A referred member's referral: who referred them and where it stands."""

    referee_id: str
    referrer_id: str
    code: str | None  # none when the referrer's data was erased
    attached_by: str
    attached_at: datetime
    status: str
    reason: str | None
    transaction_id: str | None
    referee_points: int
    referrer_points: int
    settled_at: datetime | None


class ReferrerSummary(msgspec.Struct, frozen=True):
    referred: int
    rewarded: int
    points_earned: int


class Referee(msgspec.Struct, frozen=True):
    referee_id: str
    status: str
    attached_at: datetime
    settled_at: datetime | None


async def set_code(conn: Conn, tenant_id: str, member_id: str, code: str) -> bool:
    """Give the member ``code`` unless they have one; False when the code is taken."""
    try:
        async with conn.transaction():
            await conn.fetchval(sql("member_code_set"), tenant_id, member_id, code)
    except asyncpg.UniqueViolationError:
        return False
    return True


async def code_of(conn: Conn, tenant_id: str, member_id: str) -> str | None:
    code: str | None = await conn.fetchval(sql("member_code"), tenant_id, member_id)
    return code


async def lock_attachments(conn: Conn, tenant_id: str) -> None:
    """Take the tenant's attachment lock until the transaction ends."""
    await conn.execute(sql("referral_attachments_lock"), tenant_id)


async def lock_members(conn: Conn, tenant_id: str, member_ids: list[str]) -> None:
    await conn.execute(sql("members_lock_for_referral"), tenant_id, member_ids)


async def chain_reaches(conn: Conn, tenant_id: str, referee_id: str, member_id: str) -> bool:
    """Whether ``member_id`` referred ``referee_id``, directly or up a chain."""
    found: bool = await conn.fetchval(
        sql("referral_chain_reaches"), tenant_id, referee_id, member_id
    )
    return found


async def member_by_code(conn: Conn, tenant_id: str, code: str) -> str | None:
    found: str | None = await conn.fetchval(sql("member_by_code"), tenant_id, code)
    return found


async def referral_of(conn: Conn, tenant_id: str, member_id: str) -> Referral | None:
    row = await conn.fetchrow(sql("referral_of"), tenant_id, member_id)
    return None if row is None else msgspec.convert(dict(row.items()), Referral)


async def made_qualifying_purchase(
    conn: Conn, tenant_id: str, member_id: str, minimum: int, excluded: list[str]
) -> bool:
    found: bool = await conn.fetchval(
        sql("member_qualifying_purchase"), tenant_id, member_id, minimum, excluded
    )
    return found


async def attach(
    conn: Conn, tenant_id: str, referee_id: str, referrer_id: str, by: str, code: str
) -> datetime:
    at: datetime = await conn.fetchval(
        sql("referral_attach"), tenant_id, referee_id, referrer_id, by, code
    )
    return at


async def summary(conn: Conn, tenant_id: str, member_id: str) -> ReferrerSummary:
    row = await conn.fetchrow(sql("referrer_summary"), tenant_id, member_id)
    assert row is not None
    return ReferrerSummary(row["referred"], row["rewarded"], row["points_earned"])


async def referees(
    conn: Conn, tenant_id: str, member_id: str, limit: int, after: tuple[datetime, str] | None
) -> list[Referee]:
    rows = await conn.fetch(
        sql("referrer_referees"),
        tenant_id,
        member_id,
        limit,
        after[0] if after else None,
        after[1] if after else None,
    )
    return [msgspec.convert(dict(r.items()), Referee) for r in rows]


async def referrers_of_batch(
    conn: Conn, tenant_id: str, member_ids: list[str], original_ids: list[str]
) -> set[str]:
    rows = await conn.fetch(sql("referrers_of_batch"), tenant_id, member_ids, original_ids)
    return {r["referrer_id"] for r in rows}


async def pending(conn: Conn, tenant_id: str, member_ids: list[str]) -> dict[str, PendingReferral]:
    rows = await conn.fetch(sql("referrals_pending"), tenant_id, member_ids)
    return {
        r["referee_id"]: PendingReferral(r["referee_id"], r["referrer_id"], r["shared_device"])
        for r in rows
    }


async def rewarded_counts(conn: Conn, tenant_id: str, referrer_ids: list[str]) -> dict[str, int]:
    rows = await conn.fetch(sql("referrers_rewarded"), tenant_id, referrer_ids)
    return {r["referrer_id"]: r["rewarded"] for r in rows}


async def settle(conn: Conn, tenant_id: str, writes: Sequence[ReferralWrite]) -> None:
    if not writes:
        return
    await conn.execute(
        sql("referrals_settle"),
        tenant_id,
        [w.referee_id for w in writes],
        [w.status for w in writes],
        [w.reason for w in writes],
        [w.transaction_id for w in writes],
        [w.referee_points for w in writes],
        [w.referrer_points for w in writes],
    )


class ReferralFigure(msgspec.Struct, frozen=True):
    """How many referrals are in one state, and the points they paid."""

    status: str
    referrals: int
    points: int


async def figures(conn: Conn, tenant_id: str) -> list[ReferralFigure]:
    rows = await conn.fetch(sql("referral_figures"), tenant_id)
    return [ReferralFigure(r["status"], r["referrals"], r["points"]) for r in rows]
