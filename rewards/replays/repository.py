"""What a replay reads: the window's transactions in the order they were recorded, members'
attributes over time, and where caps, budgets and referrals stood."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Any, Literal

import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.answers import Answer
from rewards.core.transactions import CardTransaction, Risk

sql = queries_beside(__file__)

_answer = msgspec.json.Decoder(Answer)


class Window(msgspec.Struct, frozen=True):
    first_seq: int
    last_seq: int
    total: int
    opens_history: bool  # nothing was recorded before the window


class Row(msgspec.Struct, frozen=True):
    """A recorded transaction as read (its answer still as bytes)."""

    tx: CardTransaction
    answer: bytes
    seq: int
    recorded_at: datetime
    version: int | None

    @property
    def member_id(self) -> str:
        return self.tx.member_id


class Since(msgspec.Struct, frozen=True):
    member_id: str
    kind: str
    occurred_at: datetime
    original_at: datetime | None
    answer: Answer


class Change(msgspec.Struct, frozen=True):
    member_id: str
    changed_at: datetime
    tier: str | None
    segments: tuple[str, ...]
    card_products: tuple[str, ...]
    status: str = "active"


class Span(msgspec.Struct, frozen=True):
    """A member's time in a segment: [since, until) (None: from the start, and still)."""

    segment_id: str
    since: datetime | None
    until: datetime | None

    def holds(self, moment: datetime) -> bool:
        return (self.since is None or self.since <= moment) and (
            self.until is None or moment < self.until
        )


class ReferralRow(msgspec.Struct, frozen=True):
    referee_id: str
    referrer_id: str
    attached_at: datetime
    status: str
    reason: str | None


async def window(conn: Conn, tenant_id: str, opens: datetime, closes: datetime) -> Window:
    row = await conn.fetchrow(sql("replay_window"), tenant_id, opens, closes)
    if row is None or row["total"] == 0:
        return Window(0, -1, 0, True)
    return Window(
        row["first_seq"], row["last_seq"], row["total"], row["tenant_first"] == row["first_seq"]
    )


async def transactions(
    conn: Conn, tenant_id: str, w: Window, opens: datetime, closes: datetime, chunk: int
) -> AsyncIterator[list[Row]]:
    """The window's transactions in chunks, read through a cursor (the caller's transaction)."""
    cursor = await conn.cursor(
        sql("replay_transactions"), tenant_id, w.first_seq, w.last_seq, opens, closes
    )
    while rows := await cursor.fetch(chunk):
        yield [_row(r) for r in rows]


def decode_answer(data: bytes) -> Answer:
    return _answer.decode(data)


async def answers_since(conn: Conn, tenant_id: str, first_seq: int) -> AsyncIterator[Since]:
    cursor = conn.cursor(sql("replay_answers_since"), tenant_id, first_seq, prefetch=2000)
    async for r in cursor:
        yield Since(
            r["member_id"],
            r["kind"],
            r["occurred_at"],
            r["original_at"],
            _answer.decode(r["answer"]),
        )


async def refunded_before(
    conn: Conn, tenant_id: str, ids: Sequence[str], first_seq: int
) -> dict[str, tuple[int, bool]]:
    rows = await conn.fetch(sql("replay_refunded_before"), tenant_id, list(ids), first_seq)
    return {r["original_id"]: (r["refunded"], r["reversed"]) for r in rows}


async def refunded_originals(conn: Conn, tenant_id: str, w: Window) -> tuple[list[str], set[str]]:
    """(purchases before the window that its refunds point at, purchases in it that they do)."""
    rows = await conn.fetch(sql("replay_refunded_originals"), tenant_id, w.first_seq, w.last_seq)
    return (
        sorted(r["original_id"] for r in rows if r["before"]),
        {r["original_id"] for r in rows if not r["before"]},
    )


async def window_member_changes(conn: Conn, tenant_id: str, closes: datetime) -> list[Change]:
    """Every change of members' attributes up to the window's end."""
    rows = await conn.fetch(sql("replay_window_member_changes"), tenant_id, closes)
    return [
        Change(
            r["member_id"],
            r["changed_at"],
            r["tier"],
            tuple(r["segments"]),
            tuple(r["card_products"]),
            r["status"],
        )
        for r in rows
    ]


async def member_changes(
    conn: Conn, tenant_id: str, members: Sequence[str], upto: datetime
) -> list[Change]:
    rows = await conn.fetch(sql("replay_member_changes"), tenant_id, list(members), upto)
    return [
        Change(
            r["member_id"],
            r["changed_at"],
            r["tier"],
            tuple(r["segments"]),
            tuple(r["card_products"]),
            r["status"],
        )
        for r in rows
    ]


async def segment_spans(
    conn: Conn, tenant_id: str, members: Sequence[str], upto: datetime
) -> dict[str, list[Span]]:
    """The members' times in segments, up to ``upto``."""
    rows = await conn.fetch(sql("replay_segment_spans"), tenant_id, list(members), upto)
    found: dict[str, list[Span]] = {}
    for r in rows:
        found.setdefault(r["member_id"], []).append(Span(r["segment_id"], r["since"], r["until"]))
    return found


def segments_at(
    recorded: Sequence[str], spans: Sequence[Span], moment: datetime
) -> tuple[str, ...]:
    """A member's segments at a moment: those their attributes recorded then (before
    segments had a history of their own) and those they were in."""
    now_in = {s.segment_id for s in spans if s.holds(moment)}
    return tuple(sorted(now_in.union(recorded))) if now_in else tuple(recorded)


async def rule_usage(
    conn: Conn, tenant_id: str, periods: Sequence[str]
) -> dict[tuple[str, str, str], int]:
    rows = await conn.fetch(sql("replay_rule_usage"), tenant_id, list(periods))
    return {(r["member_id"], r["rule_id"], r["period"]): r["points"] for r in rows}


async def rule_budgets(conn: Conn, tenant_id: str) -> dict[str, int]:
    rows = await conn.fetch(sql("replay_rule_budgets"), tenant_id)
    return {r["rule_id"]: r["budget_used"] for r in rows}


async def campaign_budgets(conn: Conn, tenant_id: str) -> dict[str, int]:
    rows = await conn.fetch(sql("replay_campaign_budgets"), tenant_id)
    return {r["campaign_id"]: r["total_used"] for r in rows}


async def campaign_days(conn: Conn, tenant_id: str, since: date) -> dict[tuple[str, date], int]:
    rows = await conn.fetch(sql("replay_campaign_days"), tenant_id, since)
    return {(r["campaign_id"], r["day"]): r["used"] for r in rows}


async def day_points(conn: Conn, tenant_id: str, since: date) -> dict[tuple[str, date], int]:
    rows = await conn.fetch(sql("replay_day_points"), tenant_id, since)
    return {(r["member_id"], r["day"]): r["points"] for r in rows}


async def referrals(conn: Conn, tenant_id: str, first_seq: int) -> list[ReferralRow]:
    rows = await conn.fetch(sql("replay_referrals"), tenant_id, first_seq)
    return [ReferralRow(*r) for r in rows]


async def referrers_rewarded(conn: Conn, tenant_id: str, first_seq: int) -> dict[str, int]:
    rows = await conn.fetch(sql("replay_referrers_rewarded"), tenant_id, first_seq)
    return {r["referrer_id"]: r["rewarded"] for r in rows}


async def save_differences(
    conn: Conn, tenant_id: str, job_id: str, run: str, rows: Sequence[tuple[str, bytes]]
) -> None:
    """Keep what one run (baseline or draft) gave for transactions that differ."""
    if rows:
        await conn.execute(
            sql("replay_differences_save"),
            tenant_id,
            job_id,
            run,
            [r[0] for r in rows],
            [r[1] for r in rows],
        )


async def clear_differences(conn: Conn, tenant_id: str, job_id: str) -> None:
    await conn.execute(sql("replay_differences_clear"), tenant_id, job_id)


async def difference(
    conn: Conn, tenant_id: str, job_id: str, transaction_id: str
) -> tuple[bytes | None, bytes | None] | None:
    row = await conn.fetchrow(sql("replay_difference_get"), tenant_id, job_id, transaction_id)
    return None if row is None else (row["baseline"], row["draft"])


class _Body(msgspec.Struct, frozen=True):
    """The fields a hook transaction's body keeps beside its own columns."""

    card_product: str | None = None
    mcc: str | None = None
    merchant_id: str | None = None
    store_id: str | None = None
    channel: Literal["online", "offline"] | None = None
    lat: float | None = None
    lng: float | None = None
    acquirer_id: str | None = None
    merchant_name: str | None = None
    risk: Risk | None = None


_body = msgspec.json.Decoder(_Body)


def _row(r: Any) -> Row:
    body = r["body"]
    b = _body.decode(body) if isinstance(body, str) else msgspec.convert(body, _Body)
    tx = CardTransaction(
        r["transaction_id"],
        r["kind"],
        r["member_id"],
        r["amount_minor"],
        r["currency"],
        r["occurred_at"],
        b.card_product,
        b.mcc,
        b.merchant_id,
        b.store_id,
        b.channel,
        r["original_id"],
        b.lat,
        b.lng,
        b.acquirer_id,
        b.merchant_name,
        b.risk,
    )
    return Row(tx, r["answer"], r["seq"], r["recorded_at"], r["config_version"])


async def recorded(conn: Conn, tenant_id: str, transaction_id: str) -> Row | None:
    r = await conn.fetchrow(sql("replay_recorded"), tenant_id, transaction_id)
    return None if r is None else _row(r)


async def member_before(
    conn: Conn, tenant_id: str, member_id: str, seq: int, opens: datetime, closes: datetime
) -> list[Since]:
    rows = await conn.fetch(sql("replay_member_before"), tenant_id, member_id, seq, opens, closes)
    return [
        Since(
            r["member_id"],
            r["kind"],
            r["occurred_at"],
            r["original_at"],
            _answer.decode(r["answer"]),
        )
        for r in rows
    ]
