"""Use case: statements of merchant-funded offers, and the close of a month.

A merchant reads its statements (open ones as they stand, closed ones as they closed) and
downloads their lines as CSV; the operator lists every merchant's statement of a period and
closes the period once its return days are over. A close is a job: merchants in id order,
each chunk one step that settles their records, writes their statements (totals and the
SHA-256 of the lines as downloaded) and a ``statement.closed`` event for each, committed with
its checkpoint — so a close taken up again after a crash goes on from there, and a record
that comes after its merchant's step (a late refund) belongs to the next period.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from db.types import Conn
from offers.core.settlement import (
    HEADER,
    PeriodClosed,
    Tally,
    Totals,
    close_refusal,
    first_open,
    period_text,
)
from offers.settlement import repository as settlement_db
from offers.settlement.repository import StatementRow
from rewards.audit import service as audit
from rewards.core.errors import NotFound
from rewards.core.events import NewEvent
from rewards.core.program import add_months
from rewards.events import service as events
from rewards.jobs import service as jobs
from rewards.program.service import compiled_for

KIND = "settlement_close"
CHUNK = 2000


class Statement(msgspec.Struct, frozen=True):
    """A merchant's statement of a period: ``open`` (as it stands) or ``closed``."""

    period: date
    merchant_id: str
    status: str
    lines: int
    reward_minor: int
    merchant_due_minor: int
    program_due_minor: int
    fees_minor: int
    sha256: str | None
    closed_at: datetime | None


def _statement(row: StatementRow) -> Statement:
    return Statement(
        row.period,
        row.merchant_id,
        "closed" if row.closed_at is not None else "open",
        row.lines,
        row.reward_minor,
        row.merchant_due_minor,
        row.program_due_minor,
        row.fees_minor,
        row.sha256,
        row.closed_at,
    )


def _open(period: date, merchant_id: str, t: Totals, sha256: str | None) -> Statement:
    return Statement(
        period,
        merchant_id,
        "open",
        t.lines,
        t.reward_minor,
        t.merchant_due_minor,
        t.program_due_minor,
        t.fees_minor,
        sha256,
        None,
    )


class Periods(msgspec.Struct, frozen=True):
    """The tenant's periods that are closing or closed."""

    status: dict[date, str]

    @property
    def first_open(self) -> date | None:
        return first_open(p for p, s in self.status.items() if s == "closed")

    def window(self, period: date) -> tuple[date, date]:
        """The purchases' days an open statement of the period covers: its own month,
        and in the first open period those of closed periods that came late too."""
        first = date.min if period == self.first_open else period
        return first, add_months(period, 1)

    def home(self, period: date) -> date:
        """The open period that the open records of a month belong to: the first open one
        for a month closed already (they came late), else their own."""
        opened = self.first_open
        late = opened is not None and period < opened and self.status.get(period) == "closed"
        return opened if late and opened is not None else period


async def _periods(conn: Conn, tenant_id: str) -> Periods:
    return Periods({p.period: p.status for p in await settlement_db.periods(conn, tenant_id)})


async def statements_of_merchant(conn: Conn, tenant_id: str, merchant_id: str) -> list[Statement]:
    """The merchant's statements, newest first: open ones as they stand (no digest: lines
    may still come), closed ones as they closed."""
    periods = await _periods(conn, tenant_id)
    closed = await settlement_db.closed_of_merchant(conn, tenant_id, merchant_id)
    done = {s.period for s in closed}
    opened: dict[date, Totals] = {}
    for row in await settlement_db.open_of_merchant(conn, tenant_id, merchant_id):
        home = periods.home(row.period)
        while home in done:  # came after the merchant's part of a close was written
            home = add_months(home, 1)
        t = opened.setdefault(home, Totals())
        t.lines += row.lines
        t.reward_minor += row.reward_minor
        t.merchant_due_minor += row.merchant_due_minor
        t.program_due_minor += row.program_due_minor
        t.fees_minor += row.fees_minor
    found = [_statement(s) for s in closed] + [
        _open(p, merchant_id, t, None) for p, t in opened.items()
    ]
    return sorted(found, key=lambda s: s.period, reverse=True)


async def _lines(
    conn: Conn, tenant_id: str, merchant_id: str, period: date
) -> tuple[StatementRow | None, AsyncIterator[settlement_db.Line]]:
    closed = await settlement_db.closed_statement(conn, tenant_id, merchant_id, period)
    if closed is not None:
        return closed, settlement_db.lines(conn, tenant_id, merchant_id, period)
    first, until = (await _periods(conn, tenant_id)).window(period)
    return None, settlement_db.lines(conn, tenant_id, merchant_id, None, first, until)


async def statement(conn: Conn, tenant_id: str, merchant_id: str, period: date) -> Statement:
    """One statement, its digest that of its lines as downloaded now (in a transaction).

    Raises:
        NotFound: the merchant has no statement for the period.
    """
    closed, lines = await _lines(conn, tenant_id, merchant_id, period)
    if closed is not None:
        return _statement(closed)
    tally = Tally()
    async for line in lines:
        tally.add(line.line, line.reward_minor, line.merchant_share_minor, line.fee_minor)
    if not tally.totals.lines:
        raise NotFound(f"no statement for {period_text(period)}")
    return _open(period, merchant_id, tally.totals, tally.sha256)


async def statement_csv(
    conn: Conn, tenant_id: str, merchant_id: str, period: date
) -> AsyncIterator[bytes]:
    """The statement's lines as CSV, header first, a chunk at a time (in a transaction).

    Raises:
        NotFound: the merchant has no statement for the period (before any byte).
    """
    closed, lines = await _lines(conn, tenant_id, merchant_id, period)
    first = None
    async for line in lines:
        first = line
        break
    if closed is None and first is None:
        raise NotFound(f"no statement for {period_text(period)}")
    return _csv(first, lines)


async def _csv(
    first: settlement_db.Line | None, rest: AsyncIterator[settlement_db.Line]
) -> AsyncIterator[bytes]:
    chunk = [HEADER] + ([first.line] if first else [])
    async for line in rest:
        chunk.append(line.line)
        if len(chunk) >= settlement_db.PREFETCH:
            yield "".join(chunk).encode()
            chunk = []
    yield "".join(chunk).encode()


class Settlements(msgspec.Struct, frozen=True):
    period: date
    status: str  # open | closing | closed
    items: list[Statement]


async def settlements(
    conn: Conn, tenant_id: str, period: date, after: str | None, limit: int
) -> Settlements:
    """Every merchant's statement of the period, by merchant id, a page at a time."""
    periods = await _periods(conn, tenant_id)
    status = periods.status.get(period, "open")
    closed = await settlement_db.statements_closed(conn, tenant_id, period, after, limit)
    by_merchant = {s.merchant_id: _statement(s) for s in closed}
    if status != "closed":
        first, until = periods.window(period)
        for row in await settlement_db.statements_open(
            conn, tenant_id, first, until, period, after, limit
        ):
            by_merchant.setdefault(row.merchant_id, _statement(row))
    items = [by_merchant[m] for m in sorted(by_merchant)][:limit]
    return Settlements(period, status, items)


async def start_close(
    conn: Conn, tenant_id: str, actor: str, period: date, now: datetime | None = None
) -> jobs.Job:
    """Queue the close of a period (audited).

    Raises:
        PeriodClosed: it is closed or being closed.
        PeriodNotReady: its end plus the program's return days is still to come.
        EarlierPeriodOpen: an earlier period has open records of its own.
    """
    program = (await compiled_for(conn, tenant_id)).program
    return_days = program.program.settlement.return_days if program.program.settlement else 30
    job_id = jobs.new_job_id()
    refused = close_refusal(
        period,
        now or datetime.now(UTC),
        program.zone,
        return_days,
        (await _periods(conn, tenant_id)).status.get(period) is not None,
        await settlement_db.earlier_open(conn, tenant_id, period),
    )
    if refused is not None:
        raise refused
    if not await settlement_db.take_period(conn, tenant_id, period, job_id):  # a race lost
        raise PeriodClosed(f"{period_text(period)} is closed or being closed")
    params: dict[str, Any] = {"period": period.isoformat()}
    job = await jobs.submit(conn, tenant_id, actor, KIND, params, job_id=job_id)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "settlement.close",
        "settlement",
        period_text(period),
        None,
        {"job_id": job.job_id, "return_days": return_days},
    )
    return job


async def run(work: jobs.Work, chunk: int = CHUNK) -> jobs.Outcome:
    """Merchants in id order, a chunk a step: settle their open records from purchases
    before the period's end, write their statements and events."""
    tenant_id = work.tenant_id
    period = date.fromisoformat(work.params["period"])
    until = add_months(period, 1)
    checkpoint = work.checkpoint or {}
    after: str | None = checkpoint.get("after")
    counts: dict[str, int] = checkpoint.get("counts") or {"statements": 0, "lines": 0}
    while True:
        async with jobs.connection(work) as conn:
            merchant_ids = await settlement_db.merchants_after(conn, tenant_id, after, chunk)
        async with work.step() as step:
            if not merchant_ids:
                await settlement_db.mark_closed(step.conn, tenant_id, period)
                step.progress(counts["statements"], counts=counts, checkpoint=checkpoint)
                return jobs.Outcome(counts=counts)
            await settlement_db.settle(step.conn, tenant_id, period, merchant_ids, until)
            made = await _statements(step.conn, tenant_id, period, merchant_ids)
            await settlement_db.insert_statements(step.conn, tenant_id, period, made)
            await events.emit(step.conn, tenant_id, [_closed_event(s) for s in made])
            counts["statements"] += len(made)
            counts["lines"] += sum(s.lines for s in made)
            after = merchant_ids[-1]
            checkpoint = {"after": after, "counts": counts}
            step.progress(counts["statements"], counts=counts, checkpoint=checkpoint)


async def _statements(
    conn: Conn, tenant_id: str, period: date, merchant_ids: list[str]
) -> list[StatementRow]:
    """The statements of these merchants' settled lines: totals and digest, streamed."""
    tallies: dict[str, Tally] = {}  # lines come merchant by merchant
    async for line in settlement_db.settled_lines(conn, tenant_id, period, merchant_ids):
        tally = tallies.get(line.merchant_id)
        if tally is None:
            tally = tallies[line.merchant_id] = Tally()
        tally.add(line.line, line.reward_minor, line.merchant_share_minor, line.fee_minor)
    return [
        StatementRow(
            period,
            merchant_id,
            t.totals.lines,
            t.totals.reward_minor,
            t.totals.merchant_due_minor,
            t.totals.program_due_minor,
            t.totals.fees_minor,
            t.sha256,
        )
        for merchant_id, t in tallies.items()
    ]


def _closed_event(s: StatementRow) -> NewEvent:
    data = {
        "merchant_id": s.merchant_id,
        "period": period_text(s.period),
        "lines": s.lines,
        "reward_minor": s.reward_minor,
        "merchant_due_minor": s.merchant_due_minor,
        "program_due_minor": s.program_due_minor,
        "fees_minor": s.fees_minor,
        "sha256": s.sha256,
    }
    return NewEvent("statement.closed", None, data)
