"""Loading what a batch of hook transactions touches (rows locked) and applying its plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from db.queries import sql
from db.types import Conn
from rewards.awarding import BatchPlan, CardTransaction, DrawRecord, Original, TransferPlan
from rewards.campaigns import DrawCampaign
from rewards.earning import EarnRule
from rewards.lots import Lot, MemberState
from rewards.models import StoredTransaction
from rewards.program import Program


class CampaignRow(msgspec.Struct, frozen=True):
    campaign: DrawCampaign
    secret: bytes
    commitment: str
    total_used: int
    created_at: datetime


async def load_program(conn: Conn, tenant_id: str) -> tuple[Program | None, int]:
    row = await conn.fetchrow(sql("program_get"), tenant_id)
    if row is None:
        return None, 0
    return msgspec.convert(row["config"], Program), row["rules_version"]


async def load_rules(conn: Conn, tenant_id: str) -> list[EarnRule]:
    rows = await conn.fetch(sql("earn_rules_all"), tenant_id)
    return [msgspec.convert(row["definition"], EarnRule) for row in rows]


def campaign_row(row: Any) -> CampaignRow:
    return CampaignRow(
        msgspec.convert(row["definition"], DrawCampaign),
        bytes(row["secret"]),
        row["commitment"],
        row["total_used"],
        row["created_at"],
    )


async def load_campaigns(conn: Conn, tenant_id: str) -> list[CampaignRow]:
    return [campaign_row(row) for row in await conn.fetch(sql("campaigns_all"), tenant_id)]


async def plan_each_call(conn: Conn) -> None:
    """Plan this transaction's statements for their actual parameters (see db.pool)."""
    await conn.execute(sql("database_plan_each_call"))


async def claim(
    conn: Conn, tenant_id: str, txs: list[CardTransaction], hashes: list[bytes]
) -> set[str]:
    """Record the transactions whose ids are new; the ids this call recorded."""
    rows = await conn.fetch(
        sql("transactions_claim_many"),
        tenant_id,
        [t.id for t in txs],
        hashes,
        [t.kind for t in txs],
        [t.member_id for t in txs],
        [t.original_id for t in txs],
        [t.amount_minor for t in txs],
        [t.currency for t in txs],
        [t.occurred_at for t in txs],
        [msgspec.to_builtins(t) for t in txs],
    )
    return {row["transaction_id"] for row in rows}


async def known(conn: Conn, tenant_id: str, ids: list[str]) -> dict[str, StoredTransaction]:
    rows = await conn.fetch(sql("transactions_known"), tenant_id, ids)
    return {
        row["transaction_id"]: StoredTransaction(
            row["transaction_id"], bytes(row["body_hash"]), row["response"]
        )
        for row in rows
    }


async def forget(conn: Conn, tenant_id: str, ids: list[str]) -> None:
    if ids:
        await conn.execute(sql("transactions_forget"), tenant_id, ids)


async def enroll(conn: Conn, tenant_id: str, member_ids: list[str]) -> int:
    """Enroll the members not known yet; the program's version (0: none yet)."""
    version: int = await conn.fetchval(
        sql("members_enroll_many"), tenant_id, sorted(set(member_ids))
    )
    return version


async def program_version(conn: Conn, tenant_id: str) -> int:
    """The program's version (0: none yet), which moves with every change of its rules."""
    version: int = await conn.fetchval(sql("program_version"), tenant_id)
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


async def lock_originals(conn: Conn, tenant_id: str, ids: list[str]) -> dict[str, Original]:
    if not ids:
        return {}
    rows = await conn.fetch(sql("transactions_lock_originals"), tenant_id, sorted(set(ids)))
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
            row["response"],
        )
        for row in rows
        if row["response"]  # a claim of a concurrent batch that has not answered yet
    }


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


Answer = tuple[dict[str, Any] | None, int | None, bool | None]  # response, refunded, reversed


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


def answers_of(
    plan: BatchPlan,
    answered: dict[str, dict[str, Any]],
    originals_before: dict[str, tuple[int, bool]],
) -> dict[str, Answer]:
    """The answers to record and the originals whose refund state moved."""
    saves: dict[str, Answer] = {
        tx_id: (response, None, None) for tx_id, response in answered.items()
    }
    for tx_id, original in plan.originals.items():
        if originals_before.get(tx_id) != (original.refunded_minor, original.reversed):
            response = saves.get(tx_id, (None, None, None))[0]
            saves[tx_id] = (response, original.refunded_minor, original.reversed)
    return saves


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
