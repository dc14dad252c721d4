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
from rewards.core.bulk import LineProblem
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


async def start(conn: Conn, tenant_id: str, actor: str, format: Format) -> jobs.Job:
    """Queue an import (its lines are stored by the caller in the same transaction)."""
    job = await jobs.submit(conn, tenant_id, actor, KIND, {"format": format})
    await audit.record(
        conn, tenant_id, actor, "members.import", "job", job.job_id, None, {"format": format}
    )
    return job


class _Progress(msgspec.Struct):
    line: int
    done: int
    counts: dict[str, int]


async def run(work: jobs.Work, chunk: int = CHUNK) -> jobs.Outcome:
    """The import job: the stored lines, chunk by chunk."""
    created = work.job.created_at
    month = date(created.year, created.month, 1)
    checkpoint = work.checkpoint or {}
    at = _Progress(
        checkpoint.get("line", 0),
        checkpoint.get("done", 0),
        checkpoint.get("counts") or {"created": 0, "updated": 0, "unchanged": 0, "failed": 0},
    )
    header: list[str] | None = None
    if work.params["format"] == "csv":
        first = await work.lines(0, 1)
        if not first or first[0][0] != 1:
            raise ValidationFailed("the CSV file has no header line")
        found = csv_header(first[0][1])
        if isinstance(found, LineProblem):
            raise ValidationFailed(found.problem)
        header = found
        at.line, at.done = max(at.line, 1), max(at.done, 1)  # the header is done with
    steps = 0
    lines, parsed = await _read(work, at.line, chunk, header)
    while lines:
        # The next chunk is read and parsed while this one is written.
        upcoming = asyncio.create_task(_read(work, lines[-1][0], chunk, header))
        try:
            at = await jobs.retrying(
                functools.partial(_apply, work, at, lines[-1][0], parsed, month)
            )
        except BaseException:
            upcoming.cancel()
            raise
        steps += 1
        await work.keep_statistics(steps)
        lines, parsed = await upcoming
    return jobs.Outcome(counts=at.counts)


async def _read(
    work: jobs.Work, after: int, chunk: int, header: list[str] | None
) -> tuple[list[tuple[int, bytes | None]], list[Parsed | LineProblem]]:
    lines = await work.lines(after, chunk)
    parsed = await asyncio.to_thread(lambda: [parse(n, body, header) for n, body in lines])
    return lines, parsed


async def _apply(
    work: jobs.Work,
    at: _Progress,
    last: int,
    parsed: list[Parsed | LineProblem],
    month: date,
) -> _Progress:
    """One chunk in one step: the members locked, each line decided, the plan written."""
    tenant_id, job_id = work.tenant_id, work.job.job_id
    ids = sorted({p.member.member_id for p in parsed if isinstance(p, Parsed)})
    async with work.step() as step:
        conn = step.conn
        existing = await import_db.lock_existing(conn, tenant_id, ids)
        plan = plan_chunk(
            job_id,
            parsed,
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
        after = _Progress(
            last,
            at.done + len(parsed),
            {k: at.counts[k] + plan.counts[k] for k in at.counts},
        )
        step.progress(
            after.done,
            counts=after.counts,
            checkpoint=msgspec.to_builtins(after),
            errors=plan.problems,
        )
    return after
