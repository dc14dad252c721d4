"""Reads of the ledger: balances, activity, liability; the expiry job's look-ups."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.budgets import Reservation
from rewards.core.events import NewEvent
from rewards.core.ledger import Credit, LotWrite, MemberWrite, TransferPlan, member_writes
from rewards.core.lots import Lot, MemberState
from rewards.core.planner import DrawRecord, SpendRow, UsageWrite

sql = queries_beside(__file__)


class LotsExpiring(msgspec.Struct, frozen=True):
    """A member's open lots that expire at one time: their points, and how many of them are
    still pending."""

    expires_at: datetime | None
    points: int
    pending: int


class MemberBalance(msgspec.Struct, frozen=True):
    balance: int
    lifetime_earned: int
    expiring: list[LotsExpiring]


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
    expiring = [
        LotsExpiring(r["expires_at"], r["points"], r["pending"] or 0)
        for r in await conn.fetch(sql("member_lots_by_expiry"), tenant_id, member_id, now)
    ]
    return MemberBalance(row["points_balance"], row["lifetime_earned"], expiring)


class OpenLot(msgspec.Struct, frozen=True):
    """Points a member earned together, with what is left of them."""

    lot_id: int
    transaction_id: str | None
    amount: int
    remaining: int
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None


async def open_lots(conn: Conn, tenant_id: str, member_id: str, limit: int) -> list[OpenLot]:
    rows = await conn.fetch(sql("member_open_lots"), tenant_id, member_id, limit)
    return [msgspec.convert(dict(r.items()), OpenLot) for r in rows]


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


class Versions(msgspec.Struct, frozen=True):
    """What a writer's first statement learns: the program's version (0: none yet) and the
    exclusion lists' (0: none ever)."""

    program: int
    exclusions: int


async def enroll(conn: Conn, tenant_id: str, member_ids: list[str]) -> Versions:
    """Enroll the members not known yet; the versions of the program and exclusion lists."""
    row = await conn.fetchrow(sql("members_enroll_many"), tenant_id, sorted(set(member_ids)))
    assert row is not None
    return Versions(row["program"], row["exclusions"])


async def lock_members(
    conn: Conn,
    tenant_id: str,
    member_ids: list[str],
    *,
    lock: bool = True,
    segments: Collection[str] | None = None,
) -> dict[str, MemberState]:
    """The members with their open lots, locked in id order (or only read), with their
    segments (only those named in ``segments``, if given). The lots are read after the
    locks are held, in a statement that sees what the last holder wrote."""
    ids = sorted(set(member_ids))
    if lock:
        await conn.fetch(sql("members_lock"), tenant_id, ids)
    named = None if segments is None else sorted(segments)
    rows = await conn.fetch(sql("members_read"), tenant_id, ids, named)
    return {row["member_id"]: _member(row) for row in rows}


async def lock_only(conn: Conn, tenant_id: str, member_ids: list[str]) -> None:
    """Lock the members in id order, reading nothing."""
    await conn.execute(sql("members_lock"), tenant_id, sorted(set(member_ids)))


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
        row["status"],
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
    reservations: Sequence[Reservation] = ()  # from budgets: added to them at COMMIT
    events: Sequence[NewEvent] = ()  # written only when the program has a webhook_url
    recorded: Sequence[Recorded] = ()
    config_version: int | None = None  # the program version hook transactions were planned under


class Learned(msgspec.Struct, frozen=True):
    """A card product a member was seen paying with."""

    member_id: str
    product: str


class _RecordedRow(msgspec.Struct, frozen=True):
    """A recorded transaction as the statement's JSON carries it (its bytes go apart)."""

    transaction_id: str
    kind: str
    member_id: str
    original_id: str | None
    amount_minor: int
    currency: str
    occurred_at: datetime
    body: dict[str, Any]
    refunded_minor: int
    reversed: bool


def _utc(moment: datetime | None) -> datetime | None:
    """A time as UTC: PostgreSQL reads offsets only up to ±15:59 from JSON text, and a
    card transaction may carry any offset RFC 3339 allows."""
    return None if moment is None else moment.astimezone(UTC)


def write_parameters(tenant_id: str, w: Writes) -> tuple[Any, ...]:
    """The parameters of ``ledger_write``: one JSON array per part, each row keyed by the
    fields of its type (the statement names the same keys), and the recorded transactions'
    bytes as arrays beside their JSON. Times are written in UTC."""
    r = w.recorded
    return (
        tenant_id,
        list(w.transfers),
        [
            msgspec.structs.replace(
                lot, expires_at=_utc(lot.expires_at), available_at=_utc(lot.available_at)
            )
            for lot in w.lots
        ],
        list(w.members),
        [Learned(m, p) for m, p in w.learned],
        list(w.usage),
        list(w.draws),
        list(w.refunds),
        list(w.spend),
        list(w.reservations),
        list(w.events),
        [
            _RecordedRow(
                x.transaction_id,
                x.kind,
                x.member_id,
                x.original_id,
                x.amount_minor,
                x.currency,
                x.occurred_at.astimezone(UTC),
                x.body,
                x.refunded_minor,
                x.reversed,
            )
            for x in r
        ],
        [x.body_hash for x in r],
        [x.answer for x in r],
        w.config_version,
    )


async def write(conn: Conn, tenant_id: str, w: Writes) -> int:
    """Write it all in one statement; how many of ``w.recorded`` were recorded (fewer: a
    concurrent delivery of one of those transactions was recorded first)."""
    recorded: int = await conn.fetchval(sql("ledger_write"), *write_parameters(tenant_id, w))
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


async def credit_many(
    conn: Conn,
    tenant_id: str,
    debit: str,
    kind: str,
    credits: Sequence[Credit],
    new_members: frozenset[str] = frozenset(),
) -> None:
    """Write bulk credits (their members enrolled and locked before)."""
    if not credits:
        return
    await conn.execute(
        sql("ledger_credit_transfers"),
        tenant_id,
        debit,
        kind,
        [{"member_id": c.member_id, "points": c.points, "detail": c.detail} for c in credits],
    )
    new: list[dict[str, Any]] = []
    known: list[dict[str, Any]] = []
    for c in credits:
        for lot in c.lots:
            (new if c.member_id in new_members else known).append(
                {
                    "member_id": c.member_id,
                    "points": lot.points,
                    "earned_at": lot.earned_at,
                    "available_at": lot.available_at,
                    "expires_at": lot.expires_at,
                }
            )
    if new:
        await conn.execute(sql("ledger_credit_new_lots"), tenant_id, new)
    if known:
        await conn.execute(sql("ledger_credit_lots"), tenant_id, known)
    balances = [
        {"member_id": c.member_id, "points": c.points}
        for c in credits
        if c.member_id not in new_members
    ]
    if balances:
        await conn.execute(
            sql("ledger_credit_balances"),
            tenant_id,
            balances,
            [b["member_id"] for b in balances],
        )
