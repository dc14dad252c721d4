"""Statements of merchant-funded offers: periods, the records a close settles, statements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime

import msgspec

from db.queries import queries_beside
from db.rows import many
from db.types import Conn

sql = queries_beside(__file__)


class PeriodRow(msgspec.Struct, frozen=True):
    period: date
    status: str
    job_id: str
    closed_at: datetime | None


class StatementRow(msgspec.Struct, frozen=True):
    """A statement's totals: closed (with its digest and when) or open (neither)."""

    period: date
    merchant_id: str
    lines: int
    reward_minor: int
    merchant_due_minor: int
    program_due_minor: int
    fees_minor: int
    sha256: str | None = None
    closed_at: datetime | None = None


class Line(msgspec.Struct, frozen=True):
    """One line of a statement as CSV, with the figures its totals add."""

    line: str
    reward_minor: int
    merchant_share_minor: int
    fee_minor: int


class MerchantLine(msgspec.Struct, frozen=True):
    merchant_id: str
    line: str
    reward_minor: int
    merchant_share_minor: int
    fee_minor: int


#: Lines fetched at a time while a statement is read through.
PREFETCH = 2000


async def periods(conn: Conn, tenant_id: str) -> list[PeriodRow]:
    return many(await conn.fetch(sql("settlement_periods"), tenant_id), PeriodRow)


async def take_period(conn: Conn, tenant_id: str, period: date, job_id: str) -> bool:
    """Mark the period as closing by this job; False when it is closing or closed already."""
    return await conn.fetchval(sql("settlement_period_take"), tenant_id, period, job_id) is not None


async def earlier_open(conn: Conn, tenant_id: str, period: date) -> bool:
    return bool(await conn.fetchval(sql("settlement_earlier_open"), tenant_id, period))


async def merchants_after(conn: Conn, tenant_id: str, after: str | None, limit: int) -> list[str]:
    rows = await conn.fetch(sql("settlement_merchants_after"), tenant_id, after, limit)
    return [r["merchant_id"] for r in rows]


async def settle(
    conn: Conn, tenant_id: str, period: date, merchant_ids: list[str], before: date
) -> None:
    await conn.execute(sql("settlement_settle"), tenant_id, period, merchant_ids, before)


async def settled_lines(
    conn: Conn, tenant_id: str, period: date, merchant_ids: list[str]
) -> AsyncIterator[MerchantLine]:
    """These merchants' settled lines of the period, merchant by merchant (in a
    transaction: read through a cursor)."""
    query = sql("settlement_lines_settled")
    async for r in conn.cursor(query, tenant_id, period, merchant_ids, prefetch=PREFETCH):
        yield MerchantLine(
            r["merchant_id"],
            r["line"],
            r["reward_minor"],
            r["merchant_share_minor"],
            r["fee_minor"],
        )


async def insert_statements(
    conn: Conn, tenant_id: str, period: date, made: Sequence[StatementRow]
) -> None:
    await conn.execute(
        sql("statements_insert"),
        tenant_id,
        period,
        [s.merchant_id for s in made],
        [s.lines for s in made],
        [s.reward_minor for s in made],
        [s.merchant_due_minor for s in made],
        [s.program_due_minor for s in made],
        [s.fees_minor for s in made],
        [s.sha256 for s in made],
    )


async def mark_closed(conn: Conn, tenant_id: str, period: date) -> None:
    await conn.execute(sql("settlement_period_closed"), tenant_id, period)


async def closed_statement(
    conn: Conn, tenant_id: str, merchant_id: str, period: date
) -> StatementRow | None:
    row = await conn.fetchrow(sql("statement_closed_get"), tenant_id, merchant_id, period)
    return StatementRow(**dict(row)) if row is not None else None


async def closed_of_merchant(conn: Conn, tenant_id: str, merchant_id: str) -> list[StatementRow]:
    rows = await conn.fetch(sql("statements_closed_of_merchant"), tenant_id, merchant_id)
    return [StatementRow(**dict(r)) for r in rows]


async def open_of_merchant(conn: Conn, tenant_id: str, merchant_id: str) -> list[StatementRow]:
    rows = await conn.fetch(sql("statements_open_of_merchant"), tenant_id, merchant_id)
    return [StatementRow(merchant_id=merchant_id, **dict(r)) for r in rows]


async def lines(
    conn: Conn,
    tenant_id: str,
    merchant_id: str,
    settled: date | None,
    first: date | None = None,
    until: date | None = None,
) -> AsyncIterator[Line]:
    """A statement's lines in order: those a close settled (``settled``), or the open
    ones from purchases in [first, until). In a transaction: read through a cursor."""
    args: tuple[object, ...]
    if settled is not None:
        query, args = sql("statement_lines_closed"), (tenant_id, merchant_id, settled)
    else:
        query, args = sql("statement_lines_open"), (tenant_id, merchant_id, first, until)
    async for r in conn.cursor(query, *args, prefetch=PREFETCH):
        yield Line(r["line"], r["reward_minor"], r["merchant_share_minor"], r["fee_minor"])


async def statements_closed(
    conn: Conn, tenant_id: str, period: date, after: str | None, limit: int
) -> list[StatementRow]:
    rows = await conn.fetch(sql("settlement_statements_closed"), tenant_id, period, after, limit)
    return [StatementRow(**dict(r)) for r in rows]


async def statements_open(
    conn: Conn,
    tenant_id: str,
    first: date,
    until: date,
    period: date,
    after: str | None,
    limit: int,
) -> list[StatementRow]:
    rows = await conn.fetch(
        sql("settlement_statements_open"), tenant_id, first, until, period, after, limit
    )
    return [StatementRow(**dict(r)) for r in rows]
