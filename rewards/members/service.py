"""Use cases for members."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.errors import NotFound
from rewards.core.records import Member
from rewards.members import repository as member_db
from rewards.referrals import service as referrals
from rewards.segments import service as segments_service


async def enroll(conn: Conn, tenant_id: str, member_id: str) -> Member:
    """The member, enrolled on first sight."""
    await member_db.enroll_member(conn, tenant_id, member_id)
    member = await member_db.get_member(conn, tenant_id, member_id)
    assert member is not None
    return member


#: Members by id, optionally of one tier and one segment, with their balances.
list_members = member_db.list_members


async def get(conn: Conn, tenant_id: str, member_id: str) -> Member:
    member = await member_db.get_member(conn, tenant_id, member_id)
    if member is None:
        raise NotFound(f"no member {member_id}")
    return member


async def update(
    conn: Conn,
    tenant_id: str,
    actor: str,
    member_id: str,
    tier: str | None,
    segments: list[str] | None,
    card_products: list[str],
    referral_code_used: str | None,
    status: str | None = None,
) -> Member:
    """Create or replace the operator-managed attributes of a member (audited), and the
    segments it is in when they are given (None: they stay). A referral code is attached as
    ``rewards.referrals.attach`` does for the member (and refused the same ways); leaving it
    out keeps the one attached. ``status`` (None: as it is) suspends, closes or reinstates
    the member: a suspended or closed member's purchases earn nothing from then on, an
    active one's earn again (closing forfeits the available points: the caller's
    ``rewards.ledger.forfeit``)."""
    if referral_code_used is not None:
        await referrals.lock_attachments(conn, tenant_id)
    before = await member_db.get_member(conn, tenant_id, member_id)
    await member_db.upsert_member(conn, tenant_id, member_id, tier, card_products, status)
    if segments is not None:
        await segments_service.assign(conn, tenant_id, {member_id: segments})
    if referral_code_used is not None:
        await referrals.attach(conn, tenant_id, member_id, referral_code_used, "admin")
    member = await get(conn, tenant_id, member_id)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "member.update" if before else "member.create",
        "member",
        member_id,
        msgspec.to_builtins(before) if before else None,
        msgspec.to_builtins(member),
    )
    return member


async def set_status_many(
    conn: Conn, tenant_id: str, member_ids: Sequence[str], status: str
) -> list[str]:
    """Many members get one status (a job's chunk); those whose status changed (closing
    forfeits their available points: the caller's ``rewards.ledger.forfeit``)."""
    return await member_db.set_status_many(conn, tenant_id, member_ids, status)
