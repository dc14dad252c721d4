"""Use cases of the points ledger: adjustments, expiry, balances, activity, liability."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from db.types import Conn
from rewards.audit import service as audit
from rewards.core import lots
from rewards.core.errors import NotFound, ValidationFailed
from rewards.core.events import NewEvent
from rewards.core.ledger import (
    ADJUSTMENTS_ACCOUNT,
    EXPIRED_ACCOUNT,
    FORFEITED_ACCOUNT,
    HELD_ACCOUNT,
    BalanceSummary,
    Credit,
    TransferPlan,
    balance_summary,
    member_account,
)
from rewards.core.program import IMMEDIATE, CompiledProgram, tier_window_start
from rewards.events import service as events
from rewards.ledger import repository as ledger_db
from rewards.program.service import compiled_for

_log = logging.getLogger("rewards.ledger")


class Adjustment(msgspec.Struct, frozen=True):
    member_id: str
    points: int
    reason: str
    balance: BalanceSummary


async def adjust(
    conn: Conn, tenant_id: str, actor: str, member_id: str, points: int, reason: str
) -> Adjustment:
    """A goodwill credit (positive) or debit (negative), audited. A debit takes available
    points, the soonest to expire first, and is refused when they do not cover it."""
    if points == 0:
        raise ValidationFailed("points must not be zero", errors=[("points", "must not be 0")])
    compiled = await compiled_for(conn, tenant_id)
    now = datetime.now(UTC)
    members = await ledger_db.lock_members(conn, tenant_id, [member_id])
    member = members.get(member_id)
    if member is None:
        raise NotFound(f"no member {member_id}")
    before = member.balance
    detail = {"reason": reason, "actor": actor}
    if points > 0:
        lots.credit(member, points, compiled.program.expiry_of(now), IMMEDIATE)
        transfer = TransferPlan(
            ADJUSTMENTS_ACCOUNT,
            member_account(member_id),
            points,
            "adjustment",
            member_id,
            None,
            detail,
        )
    else:
        lots.spend(member, -points, now)
        transfer = TransferPlan(
            member_account(member_id),
            ADJUSTMENTS_ACCOUNT,
            -points,
            "adjustment",
            member_id,
            None,
            detail,
        )
    await ledger_db.write_ledger(conn, tenant_id, [transfer], [member])
    await audit.record(
        conn,
        tenant_id,
        actor,
        "member.adjust",
        "member",
        member_id,
        {"balance": before},
        {"balance": member.balance, "points": points, "reason": reason},
    )
    return Adjustment(member_id, points, reason, balance_summary(member, now))


async def release_held(
    conn: Conn,
    tenant_id: str,
    member_id: str,
    transaction_id: str,
    points: int,
    expires_at: datetime | None,
) -> BalanceSummary:
    """Points held on a purchase's risk score become the member's, available now and
    expiring as the purchase's would; the member's balance after."""
    now = datetime.now(UTC)
    member = (await ledger_db.lock_members(conn, tenant_id, [member_id])).get(member_id)
    if member is None:
        raise NotFound(f"no member {member_id}")
    lots.credit(member, points, expires_at, IMMEDIATE)
    transfer = TransferPlan(
        HELD_ACCOUNT, member_account(member_id), points, "release", member_id, transaction_id, {}
    )
    await ledger_db.write_ledger(conn, tenant_id, [transfer], [member])
    return balance_summary(member, now)


async def void_held(
    conn: Conn, tenant_id: str, member_id: str, transaction_id: str, parts: dict[str, int]
) -> None:
    """Points held on a purchase's risk score go back to the accounts that paid them."""
    transfers = [
        TransferPlan(HELD_ACCOUNT, account, points, "void", member_id, transaction_id, {})
        for account, points in sorted(parts.items())
        if points > 0
    ]
    if transfers:
        await ledger_db.write_ledger(conn, tenant_id, transfers, [])


async def forfeit(conn: Conn, tenant_id: str, actor: str, member_id: str) -> int:
    """A closed member's available points go to the ``forfeited`` account (the soonest to
    expire first), audited; the points forfeited (0 when none were available)."""
    now = datetime.now(UTC)
    member = (await ledger_db.lock_members(conn, tenant_id, [member_id])).get(member_id)
    if member is None:
        raise NotFound(f"no member {member_id}")
    available = balance_summary(member, now).available
    if available <= 0:
        return 0
    lots.spend(member, available, now)
    transfer = TransferPlan(
        member_account(member_id),
        FORFEITED_ACCOUNT,
        available,
        "forfeit",
        member_id,
        None,
        {"reason": "the member's account was closed", "actor": actor},
    )
    await ledger_db.write_ledger(conn, tenant_id, [transfer], [member])
    await audit.record(
        conn,
        tenant_id,
        actor,
        "member.forfeit",
        "member",
        member_id,
        {"balance": member.balance + available},
        {"balance": member.balance, "points": available},
    )
    return available


async def credit_many(
    conn: Conn,
    tenant_id: str,
    debit: str,
    kind: str,
    credits: Sequence[Credit],
    new_members: frozenset[str] = frozenset(),
) -> None:
    """Credit many members at once (an import's opening balances, a grant): the members
    enrolled if new and locked in id order, as every writer of balances locks them, then one
    transfer each from ``debit`` and their lots (``new_members``: made by the caller's
    transaction with the credit as their balance already, holding no lot yet)."""
    ids = sorted({c.member_id for c in credits})
    if not ids:
        return
    await ledger_db.enroll(conn, tenant_id, ids)
    await ledger_db.lock_only(conn, tenant_id, ids)
    await ledger_db.credit_many(conn, tenant_id, debit, kind, credits, new_members)


async def expire_tenant(conn: Conn, tenant_id: str, now: datetime, chunk: int = 500) -> int:
    """Expire every lot of the tenant whose time has come; the points expired."""
    total = 0
    while True:
        member_ids = await ledger_db.expired_members(conn, tenant_id, now, chunk)
        if not member_ids:
            return total
        members = await ledger_db.lock_members(conn, tenant_id, member_ids)
        transfers = []
        for member in members.values():
            points = lots.expire(member, now)
            if points:
                transfers.append(
                    TransferPlan(
                        member_account(member.member_id),
                        EXPIRED_ACCOUNT,
                        points,
                        "expiry",
                        member.member_id,
                        None,
                        {},
                    )
                )
                total += points
        await ledger_db.write_ledger(conn, tenant_id, transfers, list(members.values()))
        if len(member_ids) < chunk:
            return total


class Balance(msgspec.Struct, frozen=True):
    available: int
    pending: int
    expiring: list[dict[str, Any]]
    lifetime_earned: int


async def balance(conn: Conn, tenant_id: str, member_id: str) -> Balance:
    """Available and pending points, what expires when, and points ever earned."""
    now = datetime.now(UTC)
    found = await ledger_db.member_balance(conn, tenant_id, member_id, now)
    if found is None:
        return Balance(0, 0, [], 0)
    pending = sum(b.pending for b in found.expiring)
    expiring = [
        {"points": b.points, "expires_at": b.expires_at}
        for b in found.expiring
        if b.expires_at is not None
    ]
    return Balance(found.balance - pending, pending, expiring, found.lifetime_earned)


async def open_lots(
    conn: Conn, tenant_id: str, member_id: str, limit: int
) -> list[ledger_db.OpenLot]:
    """The member's lots with points left, soonest to expire first: what each earned, what
    is left, when it becomes available and when it expires."""
    return await ledger_db.open_lots(conn, tenant_id, member_id, limit)


class MemberTransfer(msgspec.Struct, frozen=True):
    id: int
    kind: str
    points: int
    transaction_id: str | None
    cause: dict[str, Any]
    created_at: datetime


async def activity(
    conn: Conn, tenant_id: str, member_id: str, before: int | None, limit: int
) -> list[MemberTransfer]:
    """The member's ledger movements, newest first, each signed from the member's side and
    with its cause (transaction, rules, draw, expiry, adjustment)."""
    account = member_account(member_id)
    rows = await ledger_db.activity(conn, tenant_id, member_id, before, limit)
    return [
        MemberTransfer(
            r.transfer_id,
            r.kind,
            r.amount if r.credit_account == account else -r.amount,
            r.transaction_id,
            r.detail,
            r.created_at,
        )
        for r in rows
    ]


class Liability(msgspec.Struct, frozen=True):
    outstanding: int
    ledger_outstanding: int
    reconciled: bool
    members_with_points: int
    days: list[ledger_db.LiabilityDay]


async def liability(conn: Conn, tenant_id: str, first: date | None, last: date | None) -> Liability:
    """Outstanding points (by balances and by the ledger: they must agree) and what was
    issued, redeemed, expired and clawed back per day (program time zone)."""
    compiled: CompiledProgram = (await compiled_for(conn, tenant_id)).program
    today = datetime.now(compiled.zone).date()
    last = last or today
    first = first or last - timedelta(days=30)
    if first > last:
        raise ValidationFailed("from must not be after to", errors=[("from", "after to")])
    outstanding, holders, ledger, days = await ledger_db.liability(
        conn, tenant_id, compiled.program.time_zone, first, last
    )
    return Liability(outstanding, ledger, outstanding == ledger, holders, days)


async def expire_due(conn: Conn, now: datetime) -> dict[str, int]:
    """Expire due lots of every tenant, one transaction per tenant; points expired per
    tenant."""
    done: dict[str, int] = {}
    for tenant_id in await ledger_db.tenants_with_expired(conn, now):
        async with conn.transaction():
            done[tenant_id] = await expire_tenant(conn, tenant_id, now)
    return done


async def recompute_all_tiers(conn: Conn, now: datetime) -> None:
    """Recompute the tiers of every tenant that has tiers, one transaction per tenant."""
    for tenant_id in await ledger_db.tenants_with_tiers(conn):
        async with conn.transaction():
            await recompute_tiers(conn, tenant_id, now)


async def expiry_preview(conn: Conn, now: datetime) -> dict[str, int]:
    """What ``expire_due(conn, now)`` would expire per tenant, computed by the same code in
    transactions that are rolled back: nothing is written."""
    preview: dict[str, int] = {}
    for tenant_id in await ledger_db.tenants_with_expired(conn, now):
        attempt = conn.transaction()
        await attempt.start()
        try:
            preview[tenant_id] = await expire_tenant(conn, tenant_id, now)
        finally:
            await attempt.rollback()
    return preview


async def recompute_tiers(conn: Conn, tenant_id: str, now: datetime) -> dict[str, str | None]:
    """Tiers of every member with spend in the last 13 months, from the last 12 (spend that
    left the window lowers a tier even without a new purchase). The members that moved."""
    program = (await compiled_for(conn, tenant_id)).program
    tiers = [(t.name, t.min_spend_minor_12m) for t in program.program.tiers]
    if not tiers:
        return {}
    since = tier_window_start(now.astimezone(program.zone).date())
    before = tier_window_start(since - timedelta(days=1))
    members = await ledger_db.members_with_spend_since(conn, tenant_id, before)
    return await set_tiers(conn, tenant_id, members, since, tiers)


# --- the accounts, for the other use cases ------------------------------------------------
# Every use case that moves points (the hook, redemptions, offer claims) locks members and writes
# transfers through these: the ledger's statements are the ledger's own.

Writes = ledger_db.Writes
RefundState = ledger_db.RefundState
Recorded = ledger_db.Recorded

#: Enroll the members not known yet; the program's version (0: none yet).
enroll = ledger_db.enroll

#: The members with their open lots, locked in id order (or only read).
lock_members = ledger_db.lock_members

#: Write transfers, lots, balances and what goes with them, in one statement.
write = ledger_db.write

#: Insert transfers and save the members' lots and balances.
write_transfers = ledger_db.write_ledger


async def set_tiers(
    conn: Conn,
    tenant_id: str,
    member_ids: list[str],
    since: date,
    tiers: list[tuple[str, int]],
) -> dict[str, str | None]:
    """Recompute members' tiers from their spend since a month; the ones that moved, each
    announced as a ``tier.changed`` event."""
    moved = await ledger_db.set_tiers(conn, tenant_id, member_ids, since, tiers)
    await events.emit(
        conn,
        tenant_id,
        [
            NewEvent("tier.changed", member_id, {"member_id": member_id, "tier": tier})
            for member_id, tier in sorted(moved.items())
        ],
    )
    return moved
