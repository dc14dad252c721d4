"""Loading what a batch of hook transactions touches (rows locked) and applying its plan."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.plan import HoldChange, HoldPlan
from rewards.core.planner import (
    AppliedOffer,
    Award,
    AwardedDraw,
    CardTransaction,
    Original,
    ReferralAward,
)
from rewards.core.records import StoredTransaction, TransactionRecord
from rewards.core.transactions import LATER_FIELDS

sql = queries_beside(__file__)


async def plan_each_call(conn: Conn) -> None:
    """Plan this transaction's statements for their actual parameters (see db.pool)."""
    await conn.execute(sql("database_plan_each_call"))


async def known(conn: Conn, tenant_id: str, ids: list[str]) -> dict[str, StoredTransaction]:
    """The recorded transactions among ``ids``, each with the bytes of its answer."""
    rows = await conn.fetch(sql("transactions_known"), tenant_id, ids)
    return {
        row["transaction_id"]: StoredTransaction(
            row["transaction_id"], bytes(row["body_hash"]), bytes(row["answer"])
        )
        for row in rows
    }


async def lock_originals(
    conn: Conn, tenant_id: str, ids: list[str], campaign_ids: list[str]
) -> dict[str, Original]:
    """The transactions that refunds point at, locked, each with its award as the ledger
    recorded it: the earn transfer's base and rule points, the draws (of the tenant's
    ``campaign_ids``) and the offer redemptions."""
    if not ids:
        return {}
    await conn.execute(sql("transactions_lock"), tenant_id, sorted(set(ids)))
    return await awards(conn, tenant_id, ids, campaign_ids)


async def awards(
    conn: Conn, tenant_id: str, ids: list[str], campaign_ids: list[str]
) -> dict[str, Original]:
    """Recorded transactions with their awards as the ledger recorded them."""
    rows = await conn.fetch(sql("transactions_awards"), tenant_id, sorted(set(ids)), campaign_ids)
    return {
        row["transaction_id"]: Original(
            row["transaction_id"],
            row["member_id"],
            row["kind"],
            row["amount_minor"],
            row["currency"],
            row["refunded_minor"],
            row["reversed"],
            row["occurred_at"],
            _award(row),
            row["held"],
        )
        for row in rows
    }


def _award(row: Any) -> Award:
    earned = row["earned"] or {}
    return Award(
        base=earned.get("base", 0),
        rules=tuple(
            sorted((rule_id, points) for rule_id, points in earned.get("rules", {}).items())
        ),
        draws=tuple(
            AwardedDraw(campaign_id, paid, drawn, points, proof)
            for campaign_id, paid, drawn, points, proof in row["draws"]
        ),
        offers=tuple(
            AppliedOffer(offer_id, merchant_id, reward_minor, points)
            for offer_id, merchant_id, reward_minor, points in row["offers"]
        ),
        referral=ReferralAward(*row["referral"]) if row["referral"] else None,
    )


async def rule_budgets(
    conn: Conn, tenant_id: str, rule_ids: list[str], *, lock: bool
) -> dict[str, int]:
    """What each budgeted rule has paid: read as of now, or locked until commit."""
    if not rule_ids:
        return {}
    name = "earn_rules_lock_budgets" if lock else "earn_rules_read_budgets"
    rows = await conn.fetch(sql(name), tenant_id, rule_ids)
    return {row["rule_id"]: row["budget_used"] for row in rows}


async def load_usage(
    conn: Conn, tenant_id: str, member_ids: list[str], rule_ids: list[str], periods: list[str]
) -> dict[tuple[str, str, str], int]:
    if not member_ids:
        return {}
    rows = await conn.fetch(sql("rule_usage_load"), tenant_id, member_ids, rule_ids, periods)
    return {(r["member_id"], r["rule_id"], r["period"]): r["points"] for r in rows}


async def campaign_budgets(
    conn: Conn, tenant_id: str, campaign_ids: list[str], days: list[date], *, lock: bool
) -> tuple[dict[str, int], dict[tuple[str, date], int]]:
    """What each budgeted campaign has paid in all and per day: read, or locked."""
    if not campaign_ids:
        return {}, {}
    name = "campaigns_lock_budgets" if lock else "campaigns_read_budgets"
    totals = {
        row["campaign_id"]: row["total_used"]
        for row in await conn.fetch(sql(name), tenant_id, campaign_ids)
    }
    daily = {
        (row["campaign_id"], row["day"]): row["used"]
        for row in await conn.fetch(sql("campaign_daily_load"), tenant_id, campaign_ids, days)
    }
    return totals, daily


async def detail(conn: Conn, tenant_id: str, transaction_id: str) -> TransactionRecord | None:
    row = await conn.fetchrow(sql("transaction_detail"), tenant_id, transaction_id)
    if row is None:
        return None
    return TransactionRecord(
        row["transaction_id"],
        row["kind"],
        row["member_id"],
        row["original_id"],
        row["amount_minor"],
        row["currency"],
        row["occurred_at"],
        _body(row),
        msgspec.json.decode(row["answer"]),
        row["created_at"],
    )


def _body(row: Any) -> dict[str, Any]:
    """The transaction as posted: its columns and what its body keeps besides them (the
    whole of it, for transactions recorded before bodies left out their columns)."""
    posted = {
        "id": row["transaction_id"],
        "kind": row["kind"],
        "member_id": row["member_id"],
        "original_id": row["original_id"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "occurred_at": row["occurred_at"],
    } | row["body"]
    body: dict[str, Any] = msgspec.to_builtins(msgspec.convert(posted, CardTransaction))
    # Fields added later show only when they were posted (as the digest counts them).
    return {k: v for k, v in body.items() if v is not None or k not in LATER_FIELDS}


async def day_points(
    conn: Conn, tenant_id: str, member_ids: list[str], days: list[date]
) -> dict[tuple[str, date], int]:
    """What the members' purchases earned on those days (for the daily points cap)."""
    if not member_ids or not days:
        return {}
    rows = await conn.fetch(sql("member_day_points_load"), tenant_id, member_ids, days)
    return {(r["member_id"], r["day"]): r["points"] for r in rows}


async def save_holds(
    conn: Conn, tenant_id: str, holds: Sequence[HoldPlan], changes: Sequence[HoldChange]
) -> None:
    """The batch's new holds, and what its refunds left of earlier ones."""
    if holds:
        await conn.execute(sql("holds_add"), tenant_id, msgspec.to_builtins(holds))
    if changes:
        await conn.execute(
            sql("holds_change"),
            tenant_id,
            [c.transaction_id for c in changes],
            [c.remaining for c in changes],
        )


async def save_day_points(
    conn: Conn, tenant_id: str, rows: Sequence[tuple[str, date, int]]
) -> None:
    if not rows:
        return
    await conn.execute(
        sql("member_day_points_save"),
        tenant_id,
        [m for m, _, _ in rows],
        [d for _, d, _ in rows],
        [p for _, _, p in rows],
    )
