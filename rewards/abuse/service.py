"""Use case: abuse limits — devices seen on the mobile API, claims per hour, risk events.

A refusal is returned, not raised, by the checks here: the caller writes its risk event in
the transaction that refuses, commits it, and answers with the refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from db.types import Conn
from rewards.abuse import repository as abuse_db
from rewards.abuse.repository import RiskEvent
from rewards.core.abuse import (
    CLAIM_WINDOW,
    DeviceSighting,
    RiskRecord,
    claim_rate_refusal,
    device_hash,
    device_refusal,
)
from rewards.core.errors import RewardsError
from rewards.core.events import NewEvent
from rewards.core.program import AbuseLimits
from rewards.events import service as events

__all__ = ["RiskEvent", "claim_refusal", "device_refused", "record", "risk_events", "sighting"]


async def record(conn: Conn, tenant_id: str, risks: Sequence[RiskRecord]) -> None:
    """Write risk events in the caller's transaction, each announced as ``risk.flagged``."""
    if not risks:
        return
    await abuse_db.record(conn, tenant_id, risks)
    await events.emit(
        conn,
        tenant_id,
        [
            NewEvent(
                "risk.flagged",
                r.member_id,
                {
                    "member_id": r.member_id,
                    "device": r.device.hex() if r.device is not None else None,
                    "reason": r.reason,
                    "detail": r.detail,
                },
            )
            for r in risks
        ],
    )


#: Risk events, newest first, filtered by member, reason and time.
risk_events = abuse_db.list_events

#: Risk events by reason since a moment.
counts_since = abuse_db.counts_since


async def sighting(
    conn: Conn, tenant_id: str, device_key: bytes, member_id: str, device_id: str
) -> DeviceSighting:
    """Remember that the member used the device (as a keyed hash) and give the member's
    number on it: members are numbered in the order they were first seen, one at a time, so
    that the first ``max_members_per_device`` are exactly the ones allowed."""
    device = device_hash(device_key, device_id)
    seq = await abuse_db.member_seq(conn, tenant_id, device, member_id)
    if seq is None:
        async with conn.transaction():
            seq = await abuse_db.add_member(conn, tenant_id, device, member_id)
    return DeviceSighting(device, seq)


async def device_refused(
    conn: Conn,
    tenant_id: str,
    member_id: str,
    device: DeviceSighting | None,
    limits: AbuseLimits | None,
    action: str,
) -> RewardsError | None:
    """A claim or redemption from a device over its limit: refused, with its risk event
    written in the caller's transaction."""
    found = device_refusal(
        member_id, device, limits.max_members_per_device if limits else None, action
    )
    if found is None:
        return None
    error, risk = found
    await record(conn, tenant_id, [risk])
    return error


async def claim_refusal(
    conn: Conn,
    tenant_id: str,
    member_id: str,
    device: DeviceSighting | None,
    limits: AbuseLimits | None,
    offer_id: str,
    now: datetime,
) -> RewardsError | None:
    """The device limit, then the claims-per-hour limit, for a member whose row the caller
    holds locked (so that concurrent claims are counted one after the other)."""
    refused = await device_refused(conn, tenant_id, member_id, device, limits, "claim")
    if refused is not None or limits is None or limits.max_claims_per_member_per_hour is None:
        return refused
    recent = await abuse_db.claims_since(conn, tenant_id, member_id, now - CLAIM_WINDOW)
    found = claim_rate_refusal(
        member_id,
        device.device if device else None,
        recent,
        limits.max_claims_per_member_per_hour,
        now,
        offer_id,
    )
    if found is None:
        return None
    error, risk = found
    await record(conn, tenant_id, [risk])
    return error
