"""Reads of the ledger: balances, activity, liability; the expiry job's look-ups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.lots import Lot, MemberState
from rewards.core.planner import DrawRecord, TransferPlan

sql = queries_beside(__file__)


class ExpiryBucket(msgspec.Struct, frozen=True):
    expires_at: datetime | None
    points: int
    pending: int


class MemberBalance(msgspec.Struct, frozen=True):
    balance: int
    lifetime_earned: int
    buckets: list[ExpiryBucket]


class ActivityRow(msgspec.Struct, frozen=True):
    transfer_id: int
    debit_account: str
    credit_account: str
    amount: int
    kind: str
    transaction_id: str | None
    detail: dict[str, Any]
    created_at: datetime


class LiabilityDay(msgspec.Struct, frozen=True):
    day: date
    issued: int
    redeemed: int
    redemptions_cancelled: int
    expired: int
    clawed_back: int
    adjusted_up: int
    adjusted_down: int


async def expired_members(conn: Conn, tenant_id: str, now: datetime, limit: int) -> list[str]:
    rows = await conn.fetch(sql("lots_expired_members"), tenant_id, now, limit)
    return [r["member_id"] for r in rows]


async def tenants_with_expired(conn: Conn, now: datetime) -> list[str]:
    return [r["tenant_id"] for r in await conn.fetch(sql("lots_expired_tenants"), now)]


async def member_balance(
    conn: Conn, tenant_id: str, member_id: str, now: datetime
) -> MemberBalance | None:
    row = await conn.fetchrow(sql("member_balance"), tenant_id, member_id)
    if row is None:
        return None
    buckets = [
        ExpiryBucket(r["expires_at"], r["points"], r["pending"] or 0)
        for r in await conn.fetch(sql("member_lots_by_expiry"), tenant_id, member_id, now)
    ]
    return MemberBalance(row["points_balance"], row["lifetime_earned"], buckets)


async def activity(
    conn: Conn, tenant_id: str, member_id: str, before: int | None, limit: int
) -> list[ActivityRow]:
    rows = await conn.fetch(sql("member_activity"), tenant_id, member_id, before, limit)
    return [msgspec.convert(dict(r.items()), ActivityRow) for r in rows]


async def liability(
    conn: Conn, tenant_id: str, zone: str, first: date, last: date
) -> tuple[int, int, int, list[LiabilityDay]]:
    """(outstanding by balances, members holding points, outstanding by the ledger, days)."""
    totals = await conn.fetchrow(sql("liability_outstanding"), tenant_id)
    assert totals is not None
    ledger = await conn.fetchval(sql("liability_ledger_outstanding"), tenant_id)
    rows = await conn.fetch(sql("liability_daily"), tenant_id, zone, first, last)
    days = [msgspec.convert(dict(r.items()), LiabilityDay) for r in rows]
    return totals["outstanding"], totals["members_with_points"], ledger, days


async def tenants_with_tiers(conn: Conn) -> list[str]:
    return [r["tenant_id"] for r in await conn.fetch(sql("job_tenants_with_tiers"))]


async def enroll(conn: Conn, tenant_id: str, member_ids: list[str]) -> int:
    """Enroll the members not known yet; the program's version (0: none yet)."""
    version: int = await conn.fetchval(
        sql("members_enroll_many"), tenant_id, sorted(set(member_ids))
    )
    return version


async def lock_members(
    conn: Conn, tenant_id: str, member_ids: list[str], *, lock: bool = True
) -> dict[str, MemberState]:
    """The members with their open lots, locked in id order (or only read)."""
    ids = sorted(set(member_ids))
    rows = await conn.fetch(sql("members_lock" if lock else "members_read"), tenant_id, ids)
    return {row["member_id"]: _member(row) for row in rows}


def _member(row: Any) -> MemberState:
    """A member's row with its open lots (NULL arrays when it has none)."""
    lots = [
        Lot(lot_id, amount, remaining, expires_at, available_at, (amount, remaining))
        for lot_id, amount, remaining, expires_at, available_at in zip(
            row["lot_ids"] or (),
            row["amounts"] or (),
            row["remaining"] or (),
            row["expires"] or (),
            row["available"] or (),
            strict=True,
        )
    ]
    return MemberState(
        row["member_id"],
        row["tier"],
        list(row["segments"]),
        list(row["card_products"]),
        row["points_balance"],
        row["lifetime_earned"],
        lots,
    )


class Writes(msgspec.Struct):
    """Everything one batch writes (see ``ledger_write``): its ledger, what it recorded, and
    what it claims from budgets (added at COMMIT, which fails with ``db.types.BudgetTaken``
    if a claim no longer fits)."""

    transfers: list[TransferPlan]
    members: list[MemberState]
    learned: list[tuple[str, str]] = []  # (member, card product) seen paying
    usage: dict[tuple[str, str, str], int] = {}
    draws: list[DrawRecord] = []
    answers: dict[str, Answer] = {}
    spend: list[tuple[str, date, int]] = []  # (member, month, amount), refunds negative
    rule_deltas: dict[str, int] = {}
    campaign_deltas: dict[str, int] = {}
    daily_deltas: dict[tuple[str, date], int] = {}
    offer_deltas: dict[str, tuple[int, int]] = {}  # (uses, reward)


async def write(conn: Conn, tenant_id: str, w: Writes) -> None:
    """Write it all in one statement."""
    t, d = w.transfers, w.draws
    changed: list[tuple[int, int, int]] = []
    added: list[tuple[str, int, int, datetime, datetime | None]] = []
    for member in w.members:
        for lot in member.lots:
            if lot.lot_id is None:
                if lot.amount > 0:
                    added.append(
                        (
                            member.member_id,
                            lot.amount,
                            lot.remaining,
                            lot.available_at,
                            lot.expires_at,
                        )
                    )
            elif lot.changed:
                changed.append((lot.lot_id, lot.amount, lot.remaining))
    usage, answers, daily = list(w.usage), list(w.answers), list(w.daily_deltas)
    offers = list(w.offer_deltas)
    await conn.execute(
        sql("ledger_write"),
        tenant_id,
        [x.debit for x in t],
        [x.credit for x in t],
        [x.amount for x in t],
        [x.kind for x in t],
        [x.member_id for x in t],
        [x.transaction_id for x in t],
        [x.detail for x in t],
        [c[0] for c in changed],
        [c[1] for c in changed],
        [c[2] for c in changed],
        [a[0] for a in added],
        [a[1] for a in added],
        [a[2] for a in added],
        [a[3] for a in added],
        [a[4] for a in added],
        [m.member_id for m in w.members],
        [m.balance for m in w.members],
        [m.lifetime_earned for m in w.members],
        [p[0] for p in w.learned],
        [p[1] for p in w.learned],
        [k[0] for k in usage],
        [k[1] for k in usage],
        [k[2] for k in usage],
        [w.usage[k] for k in usage],
        [x.campaign_id for x in d],
        [x.transaction_id for x in d],
        [x.member_id for x in d],
        [x.drawn for x in d],
        [x.paid for x in d],
        [x.points for x in d],
        [x.proof for x in d],
        [x.day for x in d],
        answers,
        [w.answers[i][0] for i in answers],
        [w.answers[i][1] for i in answers],
        [w.answers[i][2] for i in answers],
        [r[0] for r in w.spend],
        [r[1] for r in w.spend],
        [r[2] for r in w.spend],
        list(w.rule_deltas),
        list(w.rule_deltas.values()),
        list(w.campaign_deltas),
        list(w.campaign_deltas.values()),
        [k[0] for k in daily],
        [k[1] for k in daily],
        [w.daily_deltas[k] for k in daily],
        offers,
        [w.offer_deltas[o][0] for o in offers],
        [w.offer_deltas[o][1] for o in offers],
    )


async def write_ledger(
    conn: Conn, tenant_id: str, t: list[TransferPlan], members: list[MemberState]
) -> None:
    """Insert the transfers and save the members' lots and balances."""
    await write(conn, tenant_id, Writes(t, members))


async def set_tiers(
    conn: Conn,
    tenant_id: str,
    member_ids: list[str],
    since: date,
    tiers: list[tuple[str, int]],
) -> dict[str, str | None]:
    """Recompute the members' tiers from their spend since ``since``; the ones that moved."""
    if not member_ids or not tiers:
        return {}
    rows = await conn.fetch(
        sql("members_set_tiers"),
        tenant_id,
        sorted(set(member_ids)),
        since,
        [t[0] for t in tiers],
        [t[1] for t in tiers],
    )
    return {r["member_id"]: r["tier"] for r in rows}


async def members_with_spend_since(conn: Conn, tenant_id: str, since: date) -> list[str]:
    rows = await conn.fetch(sql("member_spend_members_since"), tenant_id, since)
    return [r["member_id"] for r in rows]


Answer = tuple[dict[str, Any] | None, int | None, bool | None]  # response, refunded, reversed
