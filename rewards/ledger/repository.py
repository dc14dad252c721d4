"""Reads of the ledger: balances, activity, liability; the expiry job's look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.events import NewEvent
from rewards.core.ledger import LotWrite, MemberWrite, TransferPlan, member_writes
from rewards.core.lots import Lot, MemberState
from rewards.core.planner import DrawRecord, OfferBudgetDelta, SpendRow, UsageWrite

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
    """The members with their open lots, locked in id order (or only read). The lots are
    read after the locks are held, in a statement that sees what the last holder wrote."""
    ids = sorted(set(member_ids))
    if lock:
        await conn.fetch(sql("members_lock"), tenant_id, ids)
    rows = await conn.fetch(sql("members_read"), tenant_id, ids)
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


class RefundState(msgspec.Struct, frozen=True):
    """What refunds and reversals have taken of an original purchase so far."""

    transaction_id: str
    refunded_minor: int
    reversed: bool


class Recorded(msgspec.Struct, frozen=True):
    """A hook transaction answered by this change, recorded once with its answer as sent."""

    transaction_id: str
    body_hash: bytes
    kind: str
    member_id: str
    original_id: str | None
    amount_minor: int
    currency: str
    occurred_at: datetime
    body: dict[str, Any]
    answer: bytes
    refunded_minor: int = 0  # refunds later in the same batch
    reversed: bool = False


class Writes(msgspec.Struct, frozen=True):
    """Everything one change of the ledger writes (see ``ledger_write``): transfers, lots and
    balances, and for hook batches what they recorded and reserved from budgets (added at
    COMMIT, which fails with ``db.types.BudgetTaken`` if a reservation no longer fits)."""

    transfers: Sequence[TransferPlan]
    lots: Sequence[LotWrite] = ()
    members: Sequence[MemberWrite] = ()
    learned: Sequence[tuple[str, str]] = ()  # (member, card product) seen paying
    usage: Sequence[UsageWrite] = ()
    draws: Sequence[DrawRecord] = ()
    refunds: Sequence[RefundState] = ()
    spend: Sequence[SpendRow] = ()
    rule_budgets: Sequence[tuple[str, int]] = ()
    campaign_budgets: Sequence[tuple[str, int]] = ()
    campaign_days: Sequence[tuple[str, date, int]] = ()
    offer_budgets: Sequence[OfferBudgetDelta] = ()
    events: Sequence[NewEvent] = ()  # written only when the program has a webhook_url
    recorded: Sequence[Recorded] = ()


async def write(conn: Conn, tenant_id: str, w: Writes) -> int:
    """Write it all in one statement; how many of ``w.recorded`` were recorded (fewer: a
    concurrent delivery of one of those transactions was recorded first)."""
    t, d, a, r = w.transfers, w.draws, w.refunds, w.recorded
    changed = [lot for lot in w.lots if lot.lot_id is not None]
    added = [lot for lot in w.lots if lot.lot_id is None]
    recorded: int = await conn.fetchval(
        sql("ledger_write"),
        tenant_id,
        [x.debit for x in t],
        [x.credit for x in t],
        [x.amount for x in t],
        [x.kind for x in t],
        [x.member_id for x in t],
        [x.transaction_id for x in t],
        [x.detail for x in t],
        [x.lot_id for x in changed],
        [x.amount for x in changed],
        [x.remaining for x in changed],
        [x.member_id for x in added],
        [x.amount for x in added],
        [x.remaining for x in added],
        [x.available_at for x in added],
        [x.expires_at for x in added],
        [m.member_id for m in w.members],
        [m.balance for m in w.members],
        [m.lifetime_earned for m in w.members],
        [p[0] for p in w.learned],
        [p[1] for p in w.learned],
        [u.member_id for u in w.usage],
        [u.rule_id for u in w.usage],
        [u.period for u in w.usage],
        [u.points for u in w.usage],
        [x.campaign_id for x in d],
        [x.transaction_id for x in d],
        [x.member_id for x in d],
        [x.drawn for x in d],
        [x.paid for x in d],
        [x.points for x in d],
        [x.proof for x in d],
        [x.day for x in d],
        [x.transaction_id for x in a],
        [x.refunded_minor for x in a],
        [x.reversed for x in a],
        [r.member_id for r in w.spend],
        [r.month for r in w.spend],
        [r.amount_minor for r in w.spend],
        [k for k, _ in w.rule_budgets],
        [v for _, v in w.rule_budgets],
        [k for k, _ in w.campaign_budgets],
        [v for _, v in w.campaign_budgets],
        [c for c, _, _ in w.campaign_days],
        [day for _, day, _ in w.campaign_days],
        [v for _, _, v in w.campaign_days],
        [o.offer_id for o in w.offer_budgets],
        [o.uses for o in w.offer_budgets],
        [o.reward for o in w.offer_budgets],
        [e.type for e in w.events],
        [e.member_id for e in w.events],
        [e.transaction_id for e in w.events],
        [e.data for e in w.events],
        [x.transaction_id for x in r],
        [x.body_hash for x in r],
        [x.kind for x in r],
        [x.member_id for x in r],
        [x.original_id for x in r],
        [x.amount_minor for x in r],
        [x.currency for x in r],
        [x.occurred_at for x in r],
        [x.body for x in r],
        [x.answer for x in r],
        [x.refunded_minor for x in r],
        [x.reversed for x in r],
    )
    return recorded


async def write_ledger(
    conn: Conn, tenant_id: str, t: Sequence[TransferPlan], members: Sequence[MemberState]
) -> None:
    """Insert the transfers and save the members' lots and balances (a lot remembers what
    it was loaded with, so only new and changed lots are written)."""
    lots, balances = member_writes(members)
    await write(conn, tenant_id, Writes(t, lots, balances))


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
