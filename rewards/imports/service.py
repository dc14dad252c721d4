"""Use case: moving a running program in from another system — members with their tiers,
segments, card products, status, last twelve months' spend, referral links and opening
balances, one a line of an uploaded file, applied by a background job in chunks.

Each chunk is one transaction with the job's checkpoint, so a job taken up again after its
process died applies every line exactly once. Opening balances are posted from the
``opening_balances`` account the first time a member is imported, keeping each lot's earning
and expiry; importing the same line again changes nothing, a changed line updates the
member, and a line whose opening lots differ from those posted is refused (the balance is
never posted twice)."""

from __future__ import annotations

import asyncio
import functools
from datetime import date
from typing import Literal

import msgspec
from msgspec import UNSET

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.bulk import LineProblem, Spans
from rewards.core.errors import ValidationFailed
from rewards.core.imports import Parsed, csv_header, parse, plan_chunk
from rewards.core.ledger import OPENING_BALANCES_ACCOUNT
from rewards.imports import repository as import_db
from rewards.jobs import service as jobs
from rewards.ledger import service as ledger
from rewards.segments import service as segments

KIND = "import"
CHUNK = 5_000
Format = Literal["ndjson", "csv"]
ZERO = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}


async def start(conn: Conn, tenant_id: str, actor: str, format: Format) -> jobs.Job:
    """Queue an import (its lines are stored by the caller in the same transaction)."""
    job = await jobs.submit(conn, tenant_id, actor, KIND, {"format": format})
    await audit.record(
        conn, tenant_id, actor, "members.import", "job", job.job_id, None, {"format": format}
    )
    return job


class _Chunk(msgspec.Struct, frozen=True):
    """Lines (after, last] as read and parsed, and the members they name."""

    after: int
    last: int
    lines: int
    parsed: list[Parsed | LineProblem]
    members: frozenset[str]


async def run(work: jobs.Work, chunk: int = CHUNK) -> jobs.Outcome:
    """The import job: the stored lines, chunk by chunk, two steps at a time (the next chunk
    read and parsed meanwhile)."""
    created = work.job.created_at
    month = date(created.year, created.month, 1)
    spans = msgspec.convert(work.checkpoint or {}, Spans)
    header: list[str] | None = None
    if work.params["format"] == "csv":
        first = await work.lines(0, 1)
        if not first or first[0][0] != 1:
            raise ValidationFailed("the CSV file has no header line")
        found = csv_header(first[0][1])
        if isinstance(found, LineProblem):
            raise ValidationFailed(found.problem)
        header = found

    async def read(after: int) -> _Chunk | None:
        got = await jobs.read_beside(work, spans, after, chunk)
        if got is None:
            return None
        start, last, lines = got
        body = [(n, b) for n, b in lines if not (header is not None and n == 1)]
        parsed = await asyncio.to_thread(lambda: [parse(n, b, header) for n, b in body])
        members = frozenset(p.member.member_id for p in parsed if isinstance(p, Parsed))
        return _Chunk(start, last, len(lines), parsed, members)

    await jobs.work_beside(work, read, functools.partial(_apply, work, month=month), spans.line)
    return jobs.Outcome(counts={**ZERO, **work.counts})


async def _apply(work: jobs.Work, read: _Chunk, *, month: date) -> None:
    """One chunk in one step: the members locked, each line decided, the plan written."""
    tenant_id, job_id = work.tenant_id, work.job.job_id
    ids = sorted(read.members)
    async with work.span_step(read.after, read.last, read.lines) as step:
        conn = step.conn
        existing = await import_db.lock_existing(conn, tenant_id, ids)
        plan = plan_chunk(
            job_id,
            read.parsed,
            existing,
            await import_db.priors(conn, tenant_id, ids),
            await import_db.referrers(conn, tenant_id, ids),
        )
        new_members = frozenset(ids).difference(existing)
        opening = {c.member_id: c.points for c in plan.credits if c.member_id in new_members}
        await import_db.save_members(conn, tenant_id, plan.applied, existing, month, opening)
        await segments.assign(
            conn,
            tenant_id,
            {
                p.member.member_id: p.member.segments
                for p in plan.applied
                if p.member.segments is not UNSET
            },
        )
        await import_db.save_referrals(conn, tenant_id, plan.referrals)
        await ledger.credit_many(
            conn, tenant_id, OPENING_BALANCES_ACCOUNT, "opening", plan.credits, new_members
        )
        await import_db.save_records(conn, tenant_id, job_id, plan.recorded)
        step.counts = plan.counts
        step.errors = plan.problems
